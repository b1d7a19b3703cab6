// On loopback with the application shaper: measured end-to-end latency against its parts,
// device compute + bytes/B + edge compute, for several partitions and bandwidths.
// Every figure comes from the same samples in one run, so the ratio cancels machine noise.
//
// Usage: edgent-bench-coinference [--count N]
#include "core/control/LiveRun.h"
#include "core/model/ModelImport.h"

#include <QTemporaryDir>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>

using namespace edgent::core;
using namespace edgent::core::control;
using namespace edgent::core::net;

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

int die(const std::string& why) {
    std::fprintf(stderr, "edgent-bench-coinference: %s\n", why.c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    int count = 30;
    for (int i = 1; i < argc; ++i)
        if (!std::strcmp(argv[i], "--count") && i + 1 < argc) count = std::max(5, std::atoi(argv[++i]));
    auto model = readAnyModel(defaultModelPath());
    if (!model) return die(model.error());
    WorkerLink link(WorkerLinkOptions{});
    if (auto s = link.start(); !s) return die(s.error());
    if (auto s = link.loadModel(*model); !s) return die(s.error());
    QTemporaryDir scratch;  // the bench's runs are stored like any other, in a database of its own
    if (!scratch.isValid()) return die("cannot make a scratch folder");

    std::printf("loopback, application shaper, exit 4, %d inferences per row (p50 over samples)\n", count);
    std::printf("%9s %4s %9s %10s %10s %10s %10s %10s %8s %6s\n", "bandwidth", "p", "bytes", "device_ms", "bytes/B_ms", "edge_ms",
                "parts_ms", "measured", "ratio", "goal");
    int misses = 0;
    for (double bps : {1e6, 10e6, 100e6}) {
        for (int p : {0, 1, 4, 8, 16, 22}) {
            LiveRunOptions o;
            o.dbPath = scratch.filePath("bench.sqlite").toStdString();
            o.source = "edgent-bench-coinference";
            o.exit = 4;
            o.partition = p;
            o.bandwidthBps = bps;
            o.count = count;
            const auto run = runToEnd(link, std::move(o));
            if (!run) return die(run.error());
            const LiveRunOutcome& result = *run;
            if (result.status != "finished") return die(result.error);
            const std::vector<Sample>& samples = result.samples;
            if (samples.size() != static_cast<size_t>(count))
                return die("stream ended after " + std::to_string(samples.size()) + " of " + std::to_string(count) + " samples");
            std::vector<double> dev, wire, edg, parts, total;
            for (const Sample& s : samples) {
                const double wireMs = static_cast<double>(s.bytesSent) * 8.0 / bps * 1000.0;
                dev.push_back(s.deviceMs);
                wire.push_back(wireMs);
                edg.push_back(s.edgeMs);
                parts.push_back(s.deviceMs + wireMs + s.edgeMs);
                total.push_back(s.totalMs);
            }
            const double mParts = median(parts), mTotal = median(total);
            const bool ok = mTotal - mParts <= 0.03 * mParts + 0.3;
            misses += !ok;
            std::printf("%7.0fMb %4d %9lld %10.3f %10.3f %10.3f %10.3f %10.3f %8.4f %6s\n", bps / 1e6, p,
                        static_cast<long long>(samples.empty() ? 0 : samples.front().bytesSent), median(dev), median(wire),
                        median(edg), mParts, mTotal, mTotal / mParts, ok ? "met" : "MISSED");
        }
    }
    std::printf("goal: measured p50 <= parts p50 * 1.03 + 0.3 ms; missed in %d of 18 rows\n", misses);
    link.shutdown();
    return 0;
}
