#include "core/net/Frame.h"

#include <zstd.h>

#include <cstring>
#include <string>
#include <limits>

namespace edgent::core::net {

namespace {

template <typename T>
void put(uint8_t* out, size_t offset, T value) {
    std::memcpy(out + offset, &value, sizeof(T));
}

template <typename T>
T get(const uint8_t* in, size_t offset) {
    T value;
    std::memcpy(&value, in + offset, sizeof(T));
    return value;
}

bool knownDType(uint8_t d) { return d <= static_cast<uint8_t>(DType::Int8); }
bool knownType(uint8_t t) {
    return t == static_cast<uint8_t>(FrameType::Activation) || t == static_cast<uint8_t>(FrameType::Result) ||
           t == static_cast<uint8_t>(FrameType::Error) || t == static_cast<uint8_t>(FrameType::Busy);
}

// product(dims) * elementBytes, or nullopt-style 0 with ok=false on overflow.
bool shapeBytes(const uint32_t* dims, size_t ndim, size_t elementBytes, size_t& bytes) {
    size_t n = elementBytes;
    for (size_t i = 0; i < ndim; ++i) {
        if (dims[i] != 0 && n > std::numeric_limits<size_t>::max() / dims[i]) return false;
        n *= dims[i];
    }
    bytes = n;
    return true;
}

}  // namespace

size_t dtypeBytes(DType dtype) {
    switch (dtype) {
    case DType::Float32: return 4;
    case DType::Float16: return 2;
    case DType::UInt8:
    case DType::Int8: return 1;
    }
    return 0;
}

const char* dtypeName(DType dtype) {
    switch (dtype) {
    case DType::Float32: return "float32";
    case DType::Float16: return "float16";
    case DType::UInt8: return "uint8";
    case DType::Int8: return "int8";
    }
    return "unknown";
}

size_t encodedFrameBytes(const FrameHeader& header) {
    if (header.dims.size() > kMaxDims) return 0;
    size_t payload = 0;
    if (!shapeBytes(header.dims.data(), header.dims.size(), dtypeBytes(header.dtype), payload)) return 0;
    return encodedFrameBytes(header, payload);
}

size_t encodedFrameBytes(const FrameHeader& header, size_t payloadBytes) {
    if (header.dims.size() > kMaxDims || payloadBytes > std::numeric_limits<uint32_t>::max()) return 0;
    return kFrameHeaderBytes + 4 * header.dims.size() + payloadBytes;
}

namespace {

// Whether a payload of `bytes` fits the header: exactly the plain tensor, or within what the
// codec can produce. One line saying why not, or empty.
std::string payloadMismatch(const FrameHeader& h, size_t bytes) {
    if (!h.codec.identity() && h.type == FrameType::Activation && h.dtype == DType::UInt8) {
        // The raw input: the lossless stage only.
        if (h.codec.quant != Quant::None) return "frame quantises a uint8 input, which only the lossless stage may touch";
        size_t plain = 0;
        if (!shapeBytes(h.dims.data(), h.dims.size(), 1, plain)) return "frame shape overflows";
        const size_t bound = ZSTD_compressBound(plain);
        if (bytes == 0 || bytes > bound)
            return "frame carries " + std::to_string(bytes) + " payload bytes, zstd of its shape allows at most " +
                   std::to_string(bound);
        return {};
    }
    if (!h.codec.identity()) {
        if (h.type != FrameType::Activation || h.dtype != DType::Float32)
            return "frame has a codec, which only activations may carry";
        const size_t bound = maxPayloadBytes(h.codec, h.dims);
        if (bound == 0) return "frame shape overflows";
        if (h.codec.lossless == Lossless::None ? bytes != bound : (bytes == 0 || bytes > bound))
            return "frame carries " + std::to_string(bytes) + " payload bytes, " + codecName(h.codec) + " of its shape " +
                   (h.codec.lossless == Lossless::None ? "needs " : "allows at most ") + std::to_string(bound);
        return {};
    }
    size_t expected = 0;
    if (!shapeBytes(h.dims.data(), h.dims.size(), dtypeBytes(h.dtype), expected)) return "frame shape overflows";
    if (bytes != expected)
        return "frame carries " + std::to_string(bytes) + " payload bytes, its shape needs " + std::to_string(expected);
    return {};
}

}  // namespace

Status encodeFrameInto(const FrameHeader& h, const void* payload, size_t payloadBytes, uint8_t* out, size_t outBytes) {
    const size_t total = encodedFrameBytes(h, payloadBytes);
    if (total == 0) return makeError("frame shape is too large or has too many dimensions");
    if (auto why = payloadMismatch(h, payloadBytes); !why.empty()) return makeError(why);
    if (outBytes != total) return makeError("frame buffer has the wrong size");
    put<uint32_t>(out, 0, kFrameMagic);
    put<uint8_t>(out, 4, kFrameVersion);
    put<uint8_t>(out, 5, static_cast<uint8_t>(h.type));
    put<uint8_t>(out, 6, static_cast<uint8_t>(h.dtype));
    put<uint8_t>(out, 7, static_cast<uint8_t>(h.dims.size()));
    put<uint64_t>(out, 8, h.sequence);
    put<uint16_t>(out, 16, h.exit);
    put<uint16_t>(out, 18, h.partition);
    put<int32_t>(out, 20, h.prediction);
    put<uint64_t>(out, 24, h.edgeComputeNs);
    put<uint32_t>(out, 32, static_cast<uint32_t>(payloadBytes));
    put<uint8_t>(out, 36, static_cast<uint8_t>(h.codec.quant));
    put<uint8_t>(out, 37, static_cast<uint8_t>(h.codec.lossless));
    put<uint16_t>(out, 38, 0);
    put<uint64_t>(out, 40, h.edgeDecodeNs);
    put<uint64_t>(out, 48, h.edgeQueueNs);
    for (size_t i = 0; i < h.dims.size(); ++i) put<uint32_t>(out, kFrameHeaderBytes + 4 * i, h.dims[i]);
    if (payloadBytes) std::memcpy(out + kFrameHeaderBytes + 4 * h.dims.size(), payload, payloadBytes);
    return Status::success();
}

Status encodeFrame(const FrameHeader& h, const void* payload, size_t payloadBytes, std::string& out) {
    const size_t total = encodedFrameBytes(h, payloadBytes);
    if (total == 0) return makeError("frame shape is too large or has too many dimensions");
    out.resize(total);
    return encodeFrameInto(h, payload, payloadBytes, reinterpret_cast<uint8_t*>(out.data()), total);
}

namespace {

std::string textFrame(FrameType type, uint64_t sequence, const std::string& reason, uint64_t queuedNs) {
    const std::string text = reason.substr(0, 1000);
    FrameHeader h;
    h.type = type;
    h.edgeQueueNs = queuedNs;
    h.dtype = DType::UInt8;
    h.sequence = sequence;
    h.dims = {static_cast<uint32_t>(text.size())};
    std::string out;
    (void)encodeFrame(h, text.data(), text.size(), out);  // cannot fail: one small dimension
    return out;
}

}  // namespace

std::string encodeErrorFrame(uint64_t sequence, const std::string& reason) {
    return textFrame(FrameType::Error, sequence, reason, 0);
}

std::string encodeBusyFrame(uint64_t sequence, const std::string& reason, uint64_t queuedNs) {
    return textFrame(FrameType::Busy, sequence, reason, queuedNs);
}

std::string errorFrameText(const FrameView& frame) {
    return std::string(reinterpret_cast<const char*>(frame.payload), frame.payloadBytes);
}

Result<FrameView> decodeFrame(const uint8_t* data, size_t size, size_t maxFrameBytes) {
    if (size > maxFrameBytes)
        return makeError("frame of " + std::to_string(size) + " bytes exceeds the cap of " + std::to_string(maxFrameBytes));
    if (size < kFrameHeaderBytes)
        return makeError("frame of " + std::to_string(size) + " bytes is shorter than the " + std::to_string(kFrameHeaderBytes) +
                         "-byte header");
    if (get<uint32_t>(data, 0) != kFrameMagic) return makeError("frame has a bad magic number");
    const uint8_t version = get<uint8_t>(data, 4);
    if (version != kFrameVersion)
        return makeError("frame version " + std::to_string(version) + " is not the supported version " +
                         std::to_string(kFrameVersion));
    const uint8_t type = get<uint8_t>(data, 5);
    const uint8_t dtype = get<uint8_t>(data, 6);
    const uint8_t ndim = get<uint8_t>(data, 7);
    if (!knownType(type)) return makeError("frame has unknown type " + std::to_string(type));
    if (!knownDType(dtype)) return makeError("frame has unknown dtype " + std::to_string(dtype));
    if (ndim > kMaxDims) return makeError("frame has " + std::to_string(ndim) + " dimensions (at most 6)");
    const uint8_t quant = get<uint8_t>(data, 36);
    const uint8_t lossless = get<uint8_t>(data, 37);
    if (quant > static_cast<uint8_t>(Quant::Int8)) return makeError("frame has unknown quantisation " + std::to_string(quant));
    if (lossless > static_cast<uint8_t>(Lossless::Zstd))
        return makeError("frame has unknown lossless stage " + std::to_string(lossless));
    if (get<uint16_t>(data, 38) != 0) return makeError("frame has non-zero reserved bytes");
    const size_t dimsEnd = kFrameHeaderBytes + 4 * size_t(ndim);
    if (size < dimsEnd) return makeError("frame is truncated inside its shape");
    FrameView view;
    FrameHeader& h = view.header;
    h.type = static_cast<FrameType>(type);
    h.dtype = static_cast<DType>(dtype);
    h.sequence = get<uint64_t>(data, 8);
    h.exit = get<uint16_t>(data, 16);
    h.partition = get<uint16_t>(data, 18);
    h.prediction = get<int32_t>(data, 20);
    h.edgeComputeNs = get<uint64_t>(data, 24);
    h.codec = {static_cast<Quant>(quant), static_cast<Lossless>(lossless)};
    h.edgeDecodeNs = get<uint64_t>(data, 40);
    h.edgeQueueNs = get<uint64_t>(data, 48);
    h.dims.resize(ndim);
    for (size_t i = 0; i < ndim; ++i) h.dims[i] = get<uint32_t>(data, kFrameHeaderBytes + 4 * i);
    const uint32_t declared = get<uint32_t>(data, 32);
    if (size - dimsEnd != declared)
        return makeError("frame carries " + std::to_string(size - dimsEnd) + " payload bytes, its header says " +
                         std::to_string(declared));
    if (auto why = payloadMismatch(h, declared); !why.empty()) return makeError(why);
    const size_t expected = declared;
    view.payload = data + dimsEnd;
    view.payloadBytes = expected;
    return view;
}

}  // namespace edgent::core::net
