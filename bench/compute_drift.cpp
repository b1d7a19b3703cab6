// Why short computations drift between runs: one model path timed frame by frame under the
// ways a worker can wait between frames, interleaved in blocks so that every condition sees
// the same machine over the same minutes.
//
// Conditions (each block runs --frames frames of one condition, then the next condition):
//   back-to-back  no wait between frames, as `edgent profile --spread 1` times its repeats
//   sleep         the thread sleeps --gap ms between frames, as a worker blocked on its socket
//   spin          the thread spins --gap ms between frames, keeping its core busy
//   sleep-cpuK    as sleep, with the thread pinned to core K (each core in turn)
//   spin-cpuK     as spin, pinned to core K
// With --neighbour a second thread runs the same path back to back on the host all along,
// as the other worker of a local pair does.
//
// For every frame it takes the wall time and the thread's CPU time. A wall time well above the
// CPU time means the thread waited for a core; a CPU time that grows means the same
// instructions ran slower (cold caches, a busy sibling, the host).
// Then a block timed layer by layer, as `edgent profile` times a path: the sum of the layers'
// medians (a lookup prediction) against the median of the frames' sums (what a run meets).
// Last, the host's two speeds over every frame in time order: a frame is slow when it takes
// over 1.4x the fastest 5% of frames. It prints the share of slow frames, the ratio of the slow
// frames' median to the others', the share in between (few when the host has two speeds
// rather than a spread of them), and how long the slow stretches last.
//
// Usage: edgent-bench-drift [MODEL.json] [--exit E] [--frames N] [--blocks B] [--gap MS]
//                           [--threads N] [--neighbour]
#include "bench/TwoSpeeds.h"
#include "core/model/ModelFile.h"
#include "core/model/ModelIO.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include <pthread.h>
#include <sched.h>
#include <time.h>

using namespace edgent::core;
using Clock = std::chrono::steady_clock;

namespace {

double threadCpuMs() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

double nowMs() { return std::chrono::duration<double, std::milli>(Clock::now().time_since_epoch()).count(); }

void pinTo(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (cpu < 0) {
        for (int c = 0; c < static_cast<int>(std::thread::hardware_concurrency()); ++c) CPU_SET(c, &set);
    } else {
        CPU_SET(cpu, &set);
    }
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

double quantile(const std::vector<double>& v, double q) { return edgent::bench::quantileOf(v, q); }

struct Condition {
    std::string name;
    bool spin;
    int core;      // pinned to this core; -1: the scheduler's choice
    double gapMs;  // 0: back to back
    std::vector<double> wall, cpu, blockMedians;
};

}  // namespace

int main(int argc, char** argv) {
    std::string modelPath = defaultModelPath();
    int exitIndex = -1, frames = 100, blocks = 6, threads = 1;
    double gap = 10;
    bool neighbour = false;
    for (int i = 1; i < argc; ++i) {
        auto intArg = [&](int& v, int lo) { v = std::max(lo, std::atoi(argv[++i])); };
        if (!std::strcmp(argv[i], "--exit") && i + 1 < argc)
            exitIndex = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--frames") && i + 1 < argc)
            intArg(frames, 10);
        else if (!std::strcmp(argv[i], "--blocks") && i + 1 < argc)
            intArg(blocks, 1);
        else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc)
            intArg(threads, 1);
        else if (!std::strcmp(argv[i], "--gap") && i + 1 < argc)
            gap = std::max(0.1, std::atof(argv[++i]));
        else if (!std::strcmp(argv[i], "--neighbour"))
            neighbour = true;
        else if (!std::strcmp(argv[i], "--help")) {
            std::printf("Usage: edgent-bench-drift [MODEL.json] [--exit E] [--frames N] [--blocks B] [--gap MS] "
                        "[--threads N] [--neighbour]\n");
            return 0;
        } else if (argv[i][0] == '-') {
            std::fprintf(stderr, "edgent-bench-drift: unknown option %s\n", argv[i]);
            return 1;
        } else
            modelPath = argv[i];
    }
    torch::set_num_threads(threads);
    at::globalContext().setFlushDenormal(true);  // as the workers run
    auto net = loadModel(modelPath);
    if (!net) {
        std::fprintf(stderr, "edgent-bench-drift: %s\n", net.error().c_str());
        return 1;
    }
    const int e = exitIndex < 0 ? (*net)->numExits() - 1 : exitIndex;
    if (e >= (*net)->numExits()) {
        std::fprintf(stderr, "edgent-bench-drift: the model has %d exits\n", (*net)->numExits());
        return 1;
    }
    const int n = (*net)->pathLength(e);
    const auto& dims = (*net)->spec().input.dims;
    torch::manual_seed(1);
    const torch::Tensor input = torch::rand({1, dims[0], dims[1], dims[2]});
    auto pass = [&] {
        torch::InferenceMode guard;
        (void)*(*net)->runSlice(e, 0, n, input);
    };
    for (int i = 0; i < 20; ++i) pass();  // warm up, as a worker does when a model is loaded

    std::atomic<bool> stop{false};
    std::thread other;
    if (neighbour)
        other = std::thread([&] {
            try {
                while (!stop.load()) pass();
            } catch (const std::exception& ex) {
                std::fprintf(stderr, "edgent-bench-drift: neighbour: %s\n", ex.what());
            }
        });

    std::vector<Condition> conditions = {{"back-to-back", false, -1, 0, {}, {}, {}},
                                         {"sleep", false, -1, gap, {}, {}, {}},
                                         {"spin", true, -1, gap, {}, {}, {}}};
    const int cores = static_cast<int>(std::thread::hardware_concurrency());
    for (int cpu = 0; cpu < cores && cpu < 8; ++cpu) {
        conditions.push_back({"sleep-cpu" + std::to_string(cpu), false, cpu, gap, {}, {}, {}});
        conditions.push_back({"spin-cpu" + std::to_string(cpu), true, cpu, gap, {}, {}, {}});
    }
    std::printf("exit %d (%d layers), %d LibTorch thread(s), %d blocks of %d frames per condition, gap %.1f ms%s\n", e, n,
                threads, blocks, frames, gap, neighbour ? ", a neighbour thread computing all along" : "");
    const double t0 = nowMs();
    std::vector<std::pair<double, double>> timeline;  // every frame: start and wall time (ms)
    for (int b = 0; b < blocks; ++b) {
        for (auto& c : conditions) {
            pinTo(c.core);
            std::vector<double> wall;
            for (int f = 0; f < frames; ++f) {
                if (c.gapMs > 0) {
                    if (c.spin) {
                        const double until = nowMs() + c.gapMs;
                        while (nowMs() < until) {
                        }
                    } else {
                        std::this_thread::sleep_for(std::chrono::microseconds(static_cast<long>(c.gapMs * 1000)));
                    }
                }
                const double w0 = nowMs(), c0 = threadCpuMs();
                pass();
                const double w = nowMs() - w0, cpu = threadCpuMs() - c0;
                wall.push_back(w);
                timeline.emplace_back(w0, w);
                c.wall.push_back(w);
                c.cpu.push_back(cpu);
            }
            c.blockMedians.push_back(quantile(wall, 0.5));
        }
    }
    pinTo(-1);
    // Layer by layer, as `edgent profile` times a model's path (core/profile/Profiler.cpp): each
    // layer on its own clock, and each frame's sum. A lookup prediction sums the layers' medians;
    // a run meets the median of the whole, which is larger when layers' slow moments fall in
    // different frames.
    std::vector<std::vector<double>> layerMs(static_cast<size_t>(n));
    std::vector<double> sums;
    for (int f = 0; f < frames * blocks; ++f) {
        torch::InferenceMode guard;
        torch::Tensor x = input;
        double sum = 0.0;
        for (int i = 0; i < n; ++i) {
            const double l0 = nowMs();
            torch::Tensor y = (*net)->layer(e, i).forward(x);
            (void)y.data_ptr();
            const double d = nowMs() - l0;
            layerMs[static_cast<size_t>(i)].push_back(d);
            sum += d;
            x = y;
        }
        sums.push_back(sum);
    }
    double sumOfMedians = 0.0;
    for (const auto& v : layerMs) sumOfMedians += quantile(v, 0.5);
    stop.store(true);
    if (other.joinable()) other.join();

    double fastest = 1e9;
    for (const auto& c : conditions) fastest = std::min(fastest, quantile(c.wall, 0.5));
    std::printf("%-13s %8s %8s %8s %8s %8s %7s  %s\n", "condition", "p50_ms", "p95_ms", "cpu_p50", "cpu_p95", "wait_p95",
                "ratio", "block medians (ms, in time order)");
    for (const auto& c : conditions) {
        std::vector<double> waited;
        for (size_t i = 0; i < c.wall.size(); ++i) waited.push_back(c.wall[i] - c.cpu[i]);
        std::printf("%-13s %8.2f %8.2f %8.2f %8.2f %8.2f %7.2f ", c.name.c_str(), quantile(c.wall, 0.5), quantile(c.wall, 0.95),
                    quantile(c.cpu, 0.5), quantile(c.cpu, 0.95), quantile(waited, 0.95), quantile(c.wall, 0.5) / fastest);
        for (double m : c.blockMedians) std::printf(" %.2f", m);
        std::printf("\n");
    }
    std::printf("ratio: the condition's median over the fastest condition's; wait: wall minus the thread's CPU time. "
                "%.0f s in all\n",
                (nowMs() - t0) / 1e3);
    std::printf("layer by layer, %zu frames: the layers' medians sum to %.3f ms, the frames' sums have a median of %.3f ms "
                "(%.3fx)\n",
                sums.size(), sumOfMedians, quantile(sums, 0.5), quantile(sums, 0.5) / sumOfMedians);
    std::printf("two speeds: %s\n", edgent::bench::describe(edgent::bench::twoSpeeds(timeline)).c_str());
    return 0;
}
