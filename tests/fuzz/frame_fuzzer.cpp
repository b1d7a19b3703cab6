// libFuzzer target for the data-frame decoder (build with -DEDGENT_FUZZ=ON and clang).
// The same entry point replays tests/data/frame-corpus in every build (tst_frame_corpus).
#include "core/net/Frame.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace edgent::core::net;
    auto frame = decodeFrame(data, size, 1 << 20);
    if (frame.ok()) {
        // A frame the decoder accepts must be internally consistent and re-encode to itself.
        const FrameHeader& h = frame->header;
        if (encodedFrameBytes(h, frame->payloadBytes) != size) std::abort();
        if (h.codec.identity() && encodedFrameBytes(h) != size) std::abort();
        if (frame->payload + frame->payloadBytes != data + size) std::abort();
        volatile uint8_t sink = 0;
        for (size_t i = 0; i < frame->payloadBytes; ++i) sink = sink ^ frame->payload[i];
        // An encoded payload goes through the codec's own checks, as the edge does.
        if (!h.codec.identity() && h.dtype == DType::UInt8) {
            std::string raw;
            if (decodeBytes(h.codec.lossless, frame->payload, frame->payloadBytes, elementCount(h.dims), raw).ok() &&
                raw.size() != elementCount(h.dims))
                std::abort();
        } else if (!h.codec.identity()) {
            std::vector<float> tensor;
            if (decodeTensor(h.codec, frame->payload, frame->payloadBytes, h.dims, tensor).ok() &&
                tensor.size() != elementCount(h.dims))
                std::abort();
        }
    }
    return 0;
}
