// Time of one plan decision (5 exits x every partition) with each policy, from the latency
// table of the default model's structure. Prints ns per decision.
#include "core/model/ModelFile.h"
#include "core/plan/Planner.h"

#include <chrono>
#include <cstdio>
#include <random>

using namespace edgent::core;
using namespace edgent::core::plan;

int main() {
    auto model = readModelFile(defaultModelPath());
    if (!model) {
        std::fprintf(stderr, "edgent-bench-plan: %s\n", model.error().c_str());
        return 1;
    }
    const ModelSpec& spec = model->spec;
    // Per-layer times are the planner's input here, not a result: FLOPs at 5 and 50 GFLOP/s.
    std::vector<std::vector<double>> device, edge;
    for (int e = 0; e < spec.numExits(); ++e) {
        device.emplace_back();
        edge.emplace_back();
        for (const auto& l : analyzePath(spec, e).value()) {
            device.back().push_back(static_cast<double>(l.flops) / 5e6 + 0.01);
            edge.back().push_back(static_cast<double>(l.flops) / 5e7 + 0.005);
        }
    }
    auto table = LatencyTable::fromLayerTimes(spec, device, edge, 0.3);
    if (!table) return 1;
    int partitions = 0;
    for (int e = 0; e < spec.numExits(); ++e) partitions += spec.pathLength(e) + 1;
    std::printf("plan decision over %d exits and %d (exit, partition) pairs\n", spec.numExits(), partitions);
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> logBw(4.0, 9.0), deadline(5.0, 500.0);
    std::vector<std::pair<double, double>> inputs;
    for (int i = 0; i < 4096; ++i) inputs.push_back({std::pow(10.0, logBw(rng)), deadline(rng)});
    for (Policy p : {Policy::Edgent, Policy::DeviceOnly, Policy::EdgeOnly, Policy::PartitionOnly, Policy::ExitOnly}) {
        const int n = 400000;
        volatile int sink = 0;
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < n; ++i) {
            const auto& [bw, d] = inputs[static_cast<size_t>(i) & 4095];
            sink = sink + edgent::core::plan::choosePlan(*table, spec.exitAccuracy, bw, d, p).partition;
        }
        const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / n;
        std::printf("%-15s %8.1f ns per decision (goal: 5000 ns)\n", policyName(p), ns);
    }
    return 0;
}
