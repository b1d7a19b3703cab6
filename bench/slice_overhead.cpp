// Per-layer forward time through the slice API (MultiExitNet::runSlice) against a bare
// LibTorch loop calling the very same modules, interleaved so both see the same machine.
// Prints per-layer medians and the overhead ratio; batch size 1, as one inference in Edgent.
//
// Usage: edgent-bench-slices [MODEL.json] [--reps N] [--threads N]
#include "core/model/ModelFile.h"
#include "core/model/ModelIO.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>

using namespace edgent::core;
using Clock = std::chrono::steady_clock;

namespace {

// The bare call for one layer: the typed module's forward, or the torch function.
std::function<torch::Tensor(const torch::Tensor&)> bareCall(const NetLayer& layer) {
    auto m = layer.module();
    switch (layer.kind()) {
    case LayerKind::Conv: {
        auto c = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(m);
        return [c](const torch::Tensor& x) { return c->forward(x); };
    }
    case LayerKind::Linear: {
        auto c = std::dynamic_pointer_cast<torch::nn::LinearImpl>(m);
        return [c](const torch::Tensor& x) { return c->forward(x); };
    }
    case LayerKind::MaxPool: {
        auto c = std::dynamic_pointer_cast<torch::nn::MaxPool2dImpl>(m);
        return [c](const torch::Tensor& x) { return c->forward(x); };
    }
    case LayerKind::Lrn: {
        auto c = std::dynamic_pointer_cast<torch::nn::LocalResponseNormImpl>(m);
        return [c](const torch::Tensor& x) { return c->forward(x); };
    }
    case LayerKind::Dropout: {
        auto c = std::dynamic_pointer_cast<torch::nn::DropoutImpl>(m);
        return [c](const torch::Tensor& x) { return c->forward(x); };
    }
    case LayerKind::BatchNorm: {
        auto c = std::dynamic_pointer_cast<torch::nn::BatchNorm2dImpl>(m);
        return [c](const torch::Tensor& x) { return c->forward(x); };
    }
    case LayerKind::Relu: return [](const torch::Tensor& x) { return torch::relu(x); };
    case LayerKind::Flatten: return [](const torch::Tensor& x) { return x.flatten(1); };
    }
    return {};
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

template <typename F>
double timeUs(F&& f, int inner) {
    const auto t0 = Clock::now();
    for (int i = 0; i < inner; ++i) f();
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / inner;
}

}  // namespace

int main(int argc, char** argv) {
    std::string modelPath = defaultModelPath();
    int reps = 41;
    int threads = 1;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = std::max(5, std::atoi(argv[++i]));
        else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = std::max(1, std::atoi(argv[++i]));
        else if (!std::strcmp(argv[i], "--help")) {
            std::printf("Usage: edgent-bench-slices [MODEL.json] [--reps N] [--threads N]\n");
            return 0;
        } else
            modelPath = argv[i];
    }
    torch::set_num_threads(threads);
    auto net = loadModel(modelPath);
    if (!net) {
        std::fprintf(stderr, "edgent-bench-slices: %s\n", net.error().c_str());
        return 1;
    }
    torch::InferenceMode guard;
    const int e = (*net)->numExits() - 1;  // the longest path covers every trunk layer kind
    const int n = (*net)->pathLength(e);
    const auto& info = (*net)->pathInfo(e);
    torch::manual_seed(1);
    std::vector<torch::Tensor> inputs;
    torch::Tensor x = torch::randn({1, (*net)->spec().input.dims[0], (*net)->spec().input.dims[1], (*net)->spec().input.dims[2]});
    for (int i = 0; i < n; ++i) {
        inputs.push_back(x);
        x = *(*net)->runSlice(e, i, i + 1, x);
    }
    std::printf("slice API vs bare LibTorch, exit %d (%d layers), batch 1, %d thread(s), median of %d interleaved reps\n", e, n,
                threads, reps);
    std::printf("%-4s %-10s %-10s %12s %12s %8s\n", "i", "layer", "kind", "slice_us", "bare_us", "ratio");
    double sumSlice = 0, sumBare = 0;
    for (int i = 0; i < n; ++i) {
        const auto bare = bareCall((*net)->layer(e, i));
        const torch::Tensor& in = inputs[static_cast<size_t>(i)];
        // Enough inner iterations for ~2 ms per sample so the clock's resolution does not matter.
        const double probe = timeUs([&] { (void)bare(in); }, 20);
        const int inner = std::max(5, static_cast<int>(2000.0 / std::max(probe, 0.05)));
        std::vector<double> a, b;
        for (int r = 0; r < reps; ++r) {
            a.push_back(timeUs([&] { (void)*(*net)->runSlice(e, i, i + 1, in); }, inner));
            b.push_back(timeUs([&] { (void)bare(in); }, inner));
        }
        const double ma = median(a), mb = median(b);
        sumSlice += ma;
        sumBare += mb;
        std::printf("%-4d %-10s %-10s %12.2f %12.2f %8.3f\n", i, info[static_cast<size_t>(i)].name.c_str(),
                    std::string(layerKindName(info[static_cast<size_t>(i)].kind)).c_str(), ma, mb, ma / mb);
    }
    // The whole path in one slice call against the bare loop over the same modules.
    std::vector<std::function<torch::Tensor(const torch::Tensor&)>> calls;
    for (int i = 0; i < n; ++i) calls.push_back(bareCall((*net)->layer(e, i)));
    const torch::Tensor& input = inputs.front();
    std::vector<double> a, b;
    for (int r = 0; r < reps; ++r) {
        a.push_back(timeUs([&] { (void)*(*net)->runSlice(e, 0, n, input); }, 50));
        b.push_back(timeUs(
            [&] {
                torch::Tensor y = input;
                for (const auto& c : calls) y = c(y);
            },
            50));
    }
    const double pathSlice = median(a), pathBare = median(b);
    std::printf("sum of per-layer medians: slice %.1f us, bare %.1f us, ratio %.3f (overhead %+.1f%%)\n", sumSlice, sumBare,
                sumSlice / sumBare, 100.0 * (sumSlice / sumBare - 1.0));
    std::printf("whole path [0,%d): slice %.1f us, bare %.1f us, ratio %.3f (overhead %+.1f%%)\n", n, pathSlice, pathBare,
                pathSlice / pathBare, 100.0 * (pathSlice / pathBare - 1.0));
    return 0;
}
