#include "core/net/Codec.h"

#include <zstd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace edgent::core::net {

// The compiler's IEEE half type (GCC 12 on x86-64 and AArch64): conversions round to
// nearest even, in hardware where the CPU has it.
using Half = _Float16;
static_assert(sizeof(Half) == 2);

namespace {

constexpr int kZstdLevel = 1;  // the fastest level: the link, not the CPU, is what is short

const char* quantName(Quant q) {
    switch (q) {
    case Quant::None: return "fp32";
    case Quant::Fp16: return "fp16";
    case Quant::Int8: return "int8";
    }
    return "unknown";
}

void quantise(Quant quant, const float* x, const std::vector<uint32_t>& dims, size_t n, uint8_t* out) {
    switch (quant) {
    case Quant::None: std::memcpy(out, x, n * sizeof(float)); return;
    case Quant::Fp16: {
        for (size_t i = 0; i < n; ++i) {
            const Half h = static_cast<Half>(x[i]);
            std::memcpy(out + 2 * i, &h, 2);
        }
        return;
    }
    case Quant::Int8: {
        const size_t channels = int8Channels(dims);
        const size_t per = n / channels;
        uint8_t* q = out + 8 * channels;
        for (size_t c = 0; c < channels; ++c) {
            const float* xc = x + c * per;
            float lo = 0.0f, hi = 0.0f;
            for (size_t i = 0; i < per; ++i) {
                lo = std::min(lo, xc[i]);
                hi = std::max(hi, xc[i]);
            }
            const float scale = hi > lo ? (hi - lo) / 255.0f : 1.0f;
            const int32_t zero = static_cast<int32_t>(std::clamp(std::lround(-lo / scale), 0L, 255L));
            std::memcpy(out + 4 * c, &scale, 4);
            std::memcpy(out + 4 * channels + 4 * c, &zero, 4);
            const float inv = 1.0f / scale;
            for (size_t i = 0; i < per; ++i)
                q[c * per + i] = static_cast<uint8_t>(std::clamp(std::lround(xc[i] * inv) + zero, 0L, 255L));
        }
        return;
    }
    }
}

Status dequantise(Quant quant, const uint8_t* in, const std::vector<uint32_t>& dims, size_t n, float* out) {
    switch (quant) {
    case Quant::None: std::memcpy(out, in, n * sizeof(float)); return Status::success();
    case Quant::Fp16:
        for (size_t i = 0; i < n; ++i) {
            Half h;
            std::memcpy(&h, in + 2 * i, 2);
            out[i] = static_cast<float>(h);
        }
        return Status::success();
    case Quant::Int8: {
        const size_t channels = int8Channels(dims);
        const size_t per = n / channels;
        const uint8_t* q = in + 8 * channels;
        for (size_t c = 0; c < channels; ++c) {
            float scale;
            int32_t zero;
            std::memcpy(&scale, in + 4 * c, 4);
            std::memcpy(&zero, in + 4 * channels + 4 * c, 4);
            if (!std::isfinite(scale) || !(scale > 0.0f))
                return makeError("int8 payload has a bad scale in channel " + std::to_string(c));
            if (zero < 0 || zero > 255)
                return makeError("int8 payload has zero point " + std::to_string(zero) + " in channel " + std::to_string(c) +
                                 " (0..255)");
            for (size_t i = 0; i < per; ++i) out[c * per + i] = scale * static_cast<float>(int32_t(q[c * per + i]) - zero);
        }
        return Status::success();
    }
    }
    return makeError("unknown quantisation");
}

}  // namespace

std::string codecName(Codec codec) {
    return std::string(quantName(codec.quant)) + (codec.lossless == Lossless::Zstd ? "+zstd" : "");
}

std::vector<Codec> allCodecs() {
    std::vector<Codec> out;
    for (Lossless l : {Lossless::None, Lossless::Zstd})
        for (Quant q : {Quant::None, Quant::Fp16, Quant::Int8}) out.push_back({q, l});
    return out;
}

Result<Codec> codecFromName(const std::string& name) {
    std::string known;
    for (Codec c : allCodecs()) {
        if (codecName(c) == name) return c;
        known += (known.empty() ? "" : ", ") + codecName(c);
    }
    return makeError("unknown codec '" + name + "' (" + known + ")");
}

size_t elementCount(const std::vector<uint32_t>& dims) {
    size_t n = 1;
    for (uint32_t d : dims) {
        if (d != 0 && n > std::numeric_limits<uint32_t>::max() / d) return 0;  // frames cap payloads at 4 GiB anyway
        n *= d;
    }
    return n;
}

size_t int8Channels(const std::vector<uint32_t>& dims) { return dims.size() >= 2 && dims[0] > 0 ? dims[0] : 1; }

size_t quantisedBytes(Quant quant, const std::vector<uint32_t>& dims) {
    const size_t n = elementCount(dims);
    if (n == 0) return 0;
    switch (quant) {
    case Quant::None: return 4 * n;
    case Quant::Fp16: return 2 * n;
    case Quant::Int8: return 8 * int8Channels(dims) + n;
    }
    return 0;
}

size_t maxPayloadBytes(Codec codec, const std::vector<uint32_t>& dims) {
    const size_t q = quantisedBytes(codec.quant, dims);
    return codec.lossless == Lossless::Zstd ? ZSTD_compressBound(q) : q;
}

Status encodeBytes(Lossless lossless, const uint8_t* data, size_t bytes, std::string& out) {
    if (lossless == Lossless::None) {
        out.assign(reinterpret_cast<const char*>(data), bytes);
        return Status::success();
    }
    out.resize(ZSTD_compressBound(bytes));
    const size_t z = ZSTD_compress(out.data(), out.size(), data, bytes, kZstdLevel);
    if (ZSTD_isError(z)) return makeError(std::string("zstd: ") + ZSTD_getErrorName(z));
    out.resize(z);
    return Status::success();
}

Status decodeBytes(Lossless lossless, const uint8_t* payload, size_t bytes, size_t expectedBytes, std::string& out) {
    if (lossless == Lossless::None) {
        if (bytes != expectedBytes)
            return makeError("payload has " + std::to_string(bytes) + " bytes, its shape needs " + std::to_string(expectedBytes));
        out.assign(reinterpret_cast<const char*>(payload), bytes);
        return Status::success();
    }
    const unsigned long long content = ZSTD_getFrameContentSize(payload, bytes);
    if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN)
        return makeError("zstd payload is not one zstd frame with its size");
    if (content != expectedBytes)
        return makeError("zstd payload holds " + std::to_string(content) + " bytes, the shape needs " +
                         std::to_string(expectedBytes));
    if (ZSTD_findFrameCompressedSize(payload, bytes) != bytes) return makeError("zstd payload has bytes after its frame");
    out.resize(expectedBytes);
    const size_t got = ZSTD_decompress(out.data(), expectedBytes, payload, bytes);
    if (ZSTD_isError(got)) return makeError(std::string("zstd: ") + ZSTD_getErrorName(got));
    if (got != expectedBytes) return makeError("zstd payload decompressed to the wrong size");
    return Status::success();
}

Status encodeTensor(Codec codec, const float* x, const std::vector<uint32_t>& dims, std::string& out) {
    const size_t n = elementCount(dims);
    const size_t qBytes = quantisedBytes(codec.quant, dims);
    if (n == 0 || qBytes == 0) return makeError("cannot encode an empty or oversized tensor");
    if (codec.quant == Quant::Int8)
        for (size_t i = 0; i < n; ++i)
            if (!std::isfinite(x[i])) return makeError("int8 cannot encode a tensor holding infinities or NaN");
    if (codec.lossless == Lossless::None) {
        out.resize(qBytes);
        quantise(codec.quant, x, dims, n, reinterpret_cast<uint8_t*>(out.data()));
        return Status::success();
    }
    thread_local std::string plain;
    plain.resize(qBytes);
    quantise(codec.quant, x, dims, n, reinterpret_cast<uint8_t*>(plain.data()));
    return encodeBytes(codec.lossless, reinterpret_cast<const uint8_t*>(plain.data()), qBytes, out);
}

Status decodeTensor(Codec codec, const uint8_t* payload, size_t bytes, const std::vector<uint32_t>& dims, std::vector<float>& out) {
    const size_t n = elementCount(dims);
    const size_t qBytes = quantisedBytes(codec.quant, dims);
    if (n == 0 || qBytes == 0) return makeError("cannot decode an empty or oversized tensor");
    out.resize(n);
    if (codec.lossless == Lossless::None) {
        if (bytes != qBytes)
            return makeError(codecName(codec) + " payload has " + std::to_string(bytes) + " bytes, its shape needs " +
                             std::to_string(qBytes));
        return dequantise(codec.quant, payload, dims, n, out.data());
    }
    thread_local std::string plain;
    if (auto s = decodeBytes(codec.lossless, payload, bytes, qBytes, plain); !s) return s;
    return dequantise(codec.quant, reinterpret_cast<const uint8_t*>(plain.data()), dims, n, out.data());
}

}  // namespace edgent::core::net
