// The cut tensor's codecs (core/net/Codec.h) against memcpy, side by side in one run: encode
// and decode throughput in GB/s of float32 tensor, and bytes on the wire, on real
// activations of the default model (the first 64 Fashion-MNIST test images) at a spread of
// partitions of its last exit. One thread, as the workers run by default.
#include "core/data/Dataset.h"
#include "core/model/ModelFile.h"
#include "core/model/ModelIO.h"
#include "core/net/Codec.h"

#include "bench/BestSeconds.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

using namespace edgent::core;
using edgent::bench::bestSeconds;

int main() {
    torch::set_num_threads(1);
    auto net = loadModel(defaultModelPath());
    auto ds = openDataset("fashion-mnist");
    if (!net || !ds) {
        std::fprintf(stderr, "edgent-bench-codecs: %s\n", !net ? net.error().c_str() : ds.error().c_str());
        return 1;
    }
    auto test = (*ds)->load(Split::Test, 64);
    if (!test) {
        std::fprintf(stderr, "edgent-bench-codecs: %s\n", test.error().c_str());
        return 1;
    }
    torch::InferenceMode guard;
    const torch::Tensor x =
        (*net)->preprocess(torch::from_blob(test->pixels.data(), {64, 1, 28, 28}, torch::kUInt8).clone());
    const int e = (*net)->numExits() - 1;
    const int n = (*net)->pathLength(e);
    std::printf("exit %d of the default model, 64 real test images, one thread\n", e);
    std::printf("%4s %-18s %-10s %9s %10s %10s %10s %8s %8s\n", "p", "tensor", "codec", "bytes", "memcpy", "encode", "decode",
                "enc/mcp", "dec/mcp");
    for (int p : {1, n / 4, n / 2, 3 * n / 4, n - 1}) {
        const torch::Tensor h = (*net)->runSlice(e, 0, p, x).value().contiguous();
        std::vector<uint32_t> dims;
        for (int64_t d = 1; d < h.dim(); ++d) dims.push_back(static_cast<uint32_t>(h.size(d)));
        const size_t per = net::elementCount(dims);
        const size_t floatBytes = per * sizeof(float);
        const float* data = h.data_ptr<float>();
        std::vector<float> copy(per);
        volatile size_t sink = 0;
        const double tMemcpy = bestSeconds(
            [&] {
                for (int i = 0; i < 64; ++i) {
                    std::memcpy(copy.data(), data + static_cast<size_t>(i) * per, floatBytes);
                    sink = sink + static_cast<size_t>(copy[static_cast<size_t>(i) % per]);
                }
            },
            9);
        const double gb = static_cast<double>(floatBytes) * 64 / 1e9;
        std::string shape;
        for (uint32_t d : dims) shape += (shape.empty() ? "" : "x") + std::to_string(d);
        for (net::Codec codec : net::allCodecs()) {
            std::vector<std::string> encoded(64);
            std::vector<float> decoded;
            const double tEncode = bestSeconds(
                [&] {
                    for (int i = 0; i < 64; ++i)
                        if (!net::encodeTensor(codec, data + static_cast<size_t>(i) * per, dims, encoded[static_cast<size_t>(i)]))
                            std::abort();
                },
                9);
            const double tDecode = bestSeconds(
                [&] {
                    for (int i = 0; i < 64; ++i) {
                        const auto& b = encoded[static_cast<size_t>(i)];
                        if (!net::decodeTensor(codec, reinterpret_cast<const uint8_t*>(b.data()), b.size(), dims, decoded))
                            std::abort();
                        sink = sink + decoded.size();
                    }
                },
                9);
            double bytes = 0;
            for (const auto& b : encoded) bytes += static_cast<double>(b.size()) / 64.0;
            std::printf("%4d %-18s %-10s %9.0f %8.2f GB/s %6.2f GB/s %6.2f GB/s %8.3f %8.3f\n", p, shape.c_str(),
                        net::codecName(codec).c_str(), bytes, gb / tMemcpy, gb / tEncode, gb / tDecode, tMemcpy / tEncode,
                        tMemcpy / tDecode);
        }
    }
    return 0;
}
