#pragma once
// Codecs for the cut tensor: how a float32 activation travels from the device to the edge.
//
//   fp32   the tensor as it is (4 bytes per element)
//   fp16   IEEE half precision (2 bytes per element; values beyond 65504 become infinite)
//   int8   affine per channel: x ~ scale[c] * (q - zero[c]) with q in 0..255. The channel is
//          the first dimension of a [C, H, W] tensor, the whole tensor otherwise. Each
//          channel's range is widened to include 0, so ReLU's zeros stay exact zeros.
//          Payload: C float32 scales, C int32 zero points, then the N bytes of q.
//   +zstd  a lossless zstd stage (level 1) after any of them, which exploits ReLU's zeros.
//          The compressed size depends on the content: plans predict it from calibration.
//          The lossless stage also applies to the raw uint8 input (partition 0), which no
//          quantisation touches: a plan that sends the raw image with int8+zstd sends it
//          zstd-compressed, as it is.
//
// Torch-free, so that the fuzzer checks the decoder without LibTorch. The decoder trusts
// nothing: a payload whose length, scale, zero point or compressed size disagrees with
// its shape is refused with one line.

#include "core/util/Result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace edgent::core::net {

enum class Quant : uint8_t { None = 0, Fp16 = 1, Int8 = 2 };
enum class Lossless : uint8_t { None = 0, Zstd = 1 };

struct Codec {
    Quant quant = Quant::None;
    Lossless lossless = Lossless::None;
    bool identity() const { return quant == Quant::None && lossless == Lossless::None; }
    bool operator==(const Codec& o) const { return quant == o.quant && lossless == o.lossless; }
    bool operator!=(const Codec& o) const { return !(*this == o); }
};

// "fp32", "fp16", "int8", "fp32+zstd", "fp16+zstd", "int8+zstd".
std::string codecName(Codec codec);
// Reads the names above; an unknown name is one line listing the known ones.
Result<Codec> codecFromName(const std::string& name);
// Every codec, identity first.
std::vector<Codec> allCodecs();
// Whether the codec loses information (fp16, int8).
inline bool lossy(Codec codec) { return codec.quant != Quant::None; }

// Elements of a tensor of these dims (without a batch dimension); 0 when it overflows.
size_t elementCount(const std::vector<uint32_t>& dims);
// The int8 codec's channels for these dims.
size_t int8Channels(const std::vector<uint32_t>& dims);
// Bytes after quantisation and before the lossless stage; 0 when the shape overflows.
size_t quantisedBytes(Quant quant, const std::vector<uint32_t>& dims);
// The largest payload a codec may produce for these dims (zstd's bound on its input).
size_t maxPayloadBytes(Codec codec, const std::vector<uint32_t>& dims);

// Encodes elementCount(dims) floats. Fails on a tensor holding infinities or NaN when the
// codec is int8 (it has no code for them).
Status encodeTensor(Codec codec, const float* x, const std::vector<uint32_t>& dims, std::string& out);
// Decodes a payload into elementCount(dims) floats, checking everything.
Status decodeTensor(Codec codec, const uint8_t* payload, size_t bytes, const std::vector<uint32_t>& dims, std::vector<float>& out);

// The lossless stage alone, on raw bytes (the uint8 input). decodeBytes checks that the
// payload holds exactly `expectedBytes`.
Status encodeBytes(Lossless lossless, const uint8_t* data, size_t bytes, std::string& out);
Status decodeBytes(Lossless lossless, const uint8_t* payload, size_t bytes, size_t expectedBytes, std::string& out);

}  // namespace edgent::core::net
