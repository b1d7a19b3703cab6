// Frame encode and decode throughput in GB/s, against memcpy of the same bytes in the same
// run. Decoding is a validation and a view (no copy), so it should far outrun memcpy;
// encoding is one copy of the payload plus the header.
#include "core/net/Frame.h"

#include "bench/BestSeconds.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

using namespace edgent::core::net;
using edgent::bench::bestSeconds;

int main() {
    std::printf("%12s %12s %12s %12s %10s %10s\n", "payload", "memcpy_GB/s", "encode_GB/s", "decode_GB/s", "enc/memcpy",
                "dec/memcpy");
    for (uint32_t side : {14u, 28u, 56u, 112u, 224u}) {
        FrameHeader h;
        h.dims = {32, side, side};
        const size_t payloadBytes = 32u * side * side * 4u;
        std::vector<uint8_t> payload(payloadBytes, 7), out(encodedFrameBytes(h)), copy(payloadBytes);
        const int inner = std::max(1, static_cast<int>((64u << 20) / payloadBytes));
        volatile size_t sink = 0;
        const double tMemcpy = bestSeconds(
            [&] {
                for (int i = 0; i < inner; ++i) {
                    std::memcpy(copy.data(), payload.data(), payloadBytes);
                    sink = sink + copy[static_cast<size_t>(i) % payloadBytes];
                }
            },
            7);
        const double tEncode = bestSeconds(
            [&] {
                for (int i = 0; i < inner; ++i) {
                    h.sequence = static_cast<uint64_t>(i);
                    if (!encodeFrameInto(h, payload.data(), payloadBytes, out.data(), out.size())) std::abort();
                    sink = sink + out[8];
                }
            },
            7);
        const double tDecode = bestSeconds(
            [&] {
                for (int i = 0; i < inner; ++i) {
                    auto v = decodeFrame(out.data(), out.size());
                    if (!v) std::abort();
                    sink = sink + v->payloadBytes;
                }
            },
            7);
        const double gb = static_cast<double>(payloadBytes) * inner / 1e9;
        std::printf("%10zuKB %12.2f %12.2f %12.1f %10.3f %10.1f\n", payloadBytes / 1024, gb / tMemcpy, gb / tEncode, gb / tDecode,
                    tMemcpy / tEncode, tMemcpy / tDecode);
    }
    return 0;
}
