#pragma once
// The data channel's binary frames (device -> edge activations, edge -> device results).
// This is the one place worth paranoia: every field is checked before it is trusted, and
// sizes are capped here as well as at ZMQ_MAXMSGSIZE.
//
// Layout, little-endian, 56-byte header then dims then payload:
//   0  u32 magic "EDGF"        4  u8 version      5  u8 type     6  u8 dtype   7 u8 ndim
//   8  u64 sequence            16 u16 exit        18 u16 partition
//   20 i32 prediction (results; -1 otherwise)     24 u64 edge compute ns (results; 0 otherwise)
//   32 u32 payload bytes       36 u8 quantisation 37 u8 lossless stage (core/net/Codec.h;
//                                                   float32 activations only, 0 otherwise)
//   38 u16 reserved (must be 0)                   40 u64 edge decode ns (results; 0 otherwise)
//   48 u64 edge queue ns (results and busy answers: how long the frame waited in the edge's
//          queue before its decode began; 0 otherwise)
//   56 u32 dims[ndim]          then the payload: product(dims) * dtype size bytes, or the
//                              codec's encoding of the float32 tensor of that shape
//
// Torch-free: the payload is a byte view; workers wrap it with torch::from_blob.

#include "core/net/Codec.h"
#include "core/util/Result.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace edgent::core::net {

inline constexpr uint32_t kFrameMagic = 0x46474445;  // "EDGF" in memory order
// Version 2 added the error frame: the edge's answer to a frame it could not run. Version 3
// added the codec of the cut tensor and the edge's decode time, and grew the header to 48.
// Version 4 added the busy answer and the edge's queueing time, and grew the header to 56.
inline constexpr uint8_t kFrameVersion = 4;
inline constexpr size_t kFrameHeaderBytes = 56;
inline constexpr uint8_t kMaxDims = 6;
// Default cap on a whole frame: larger than any activation of the models this tool runs
// (a 3x224x224 float input is 602,112 bytes), far below what could exhaust memory.
inline constexpr size_t kDefaultMaxFrameBytes = 64 * 1024 * 1024;

// An Error frame answers an activation the edge could not run: the same sequence, and the
// reason as UTF-8 text in a uint8 payload of shape [bytes]. A Busy frame answers one the edge
// shed because its queue was full (core/net/EdgeQueue.h), in the same form: the device counts
// it and goes on with its next input.
enum class FrameType : uint8_t { Activation = 1, Result = 2, Error = 3, Busy = 4 };
enum class DType : uint8_t { Float32 = 0, UInt8 = 1, Float16 = 2, Int8 = 3 };

size_t dtypeBytes(DType dtype);
const char* dtypeName(DType dtype);

struct FrameHeader {
    FrameType type = FrameType::Activation;
    DType dtype = DType::Float32;
    uint64_t sequence = 0;
    uint16_t exit = 0;
    uint16_t partition = 0;
    int32_t prediction = -1;
    uint64_t edgeComputeNs = 0;
    uint64_t edgeDecodeNs = 0;   // results: the time the edge spent decoding the activation
    uint64_t edgeQueueNs = 0;    // results and busy answers: the time it waited in the edge's queue
    Codec codec;                 // float32 activations: how the payload encodes the tensor
    std::vector<uint32_t> dims;  // without a batch dimension
};

// A decoded frame: the header and a view of the payload inside the decoded buffer.
struct FrameView {
    FrameHeader header;
    const uint8_t* payload = nullptr;
    size_t payloadBytes = 0;
};

// Bytes a frame with this header needs in total, or 0 when the shape overflows. Without a
// payload size the payload is the plain tensor (product(dims) * dtypeBytes bytes).
size_t encodedFrameBytes(const FrameHeader& header);
size_t encodedFrameBytes(const FrameHeader& header, size_t payloadBytes);

// Writes header + dims + payload into `out` (resized). A plain payload must hold exactly
// product(dims) * dtypeBytes bytes; an encoded one what its codec allows.
Status encodeFrame(const FrameHeader& header, const void* payload, size_t payloadBytes, std::string& out);

// Writes into a caller-provided buffer of encodedFrameBytes(header) bytes (e.g. a ZMQ
// message), so the payload is copied once.
Status encodeFrameInto(const FrameHeader& header, const void* payload, size_t payloadBytes, uint8_t* out, size_t outBytes);

// An Error frame for `sequence` carrying `reason` (cut to 1,000 bytes).
std::string encodeErrorFrame(uint64_t sequence, const std::string& reason);
// A Busy frame for `sequence`: why it was shed, and how long it had waited (usually 0).
std::string encodeBusyFrame(uint64_t sequence, const std::string& reason, uint64_t queuedNs = 0);
// The reason an Error or Busy frame carries.
std::string errorFrameText(const FrameView& frame);

// Checks everything: length, magic, version, type, dtype, ndim, codec, reserved, shape
// against payload size (without overflow), and the cap. The view points into `data`. An
// encoded payload's length is checked against its codec's bounds; its content is checked by
// decodeTensor (core/net/Codec.h).
Result<FrameView> decodeFrame(const uint8_t* data, size_t size, size_t maxFrameBytes = kDefaultMaxFrameBytes);

}  // namespace edgent::core::net
