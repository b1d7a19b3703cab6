// Predicted against measured end-to-end latency over the whole exit x partition grid of a
// model, at several bandwidths, on loopback with the application shaper. Predictions come
// from the newest profile in a run database (run `edgent profile --db DB` first), with both
// predictors side by side. Prints MAPE per bandwidth and predictor, and the worst cells.
// The device worker runs with the slowdown its profile was taken with.
// With --cells, every cell's measured and predicted parts (device, transfer, edge), and per
// bandwidth the mean signed error of each part, to show where the prediction misses.
// Usage: edgent-bench-predict DB [--count N] [--bandwidths BPS,...] [--cells]   (default 1e5,1e6,1e7)
#include "core/control/LiveRun.h"
#include "core/control/ProfileRun.h"
#include "core/model/ModelImport.h"
#include "core/plan/Planner.h"
#include "core/store/Export.h"
#include "core/store/RunStore.h"

#include <QTemporaryDir>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>

using namespace edgent::core;
using namespace edgent::core::control;
using net::Role;

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

int die(const std::string& why) {
    std::fprintf(stderr, "edgent-bench-predict: %s\n", why.c_str());
    return 1;
}

// "1e6,10e6" or "1000000" (bits per second).
std::vector<double> parseBandwidths(const char* text) {
    std::vector<double> out;
    for (const QString& part : QString::fromUtf8(text).split(',', Qt::SkipEmptyParts)) {
        bool ok = false;
        const double v = part.trimmed().toDouble(&ok);
        if (!ok || !(v > 0)) return {};
        out.push_back(v);
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    const char* usage = "usage: edgent-bench-predict DB [--count N] [--bandwidths BPS,...] [--cells]";
    bool printCells = false;
    if (argc < 2) return die(usage);
    int count = 5;
    std::vector<double> bandwidths{100e3, 1e6, 10e6};
    for (int i = 2; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--count") && i + 1 < argc)
            count = std::max(3, std::atoi(argv[++i]));
        else if (!std::strcmp(argv[i], "--bandwidths") && i + 1 < argc)
            bandwidths = parseBandwidths(argv[++i]);
        else if (!std::strcmp(argv[i], "--cells"))
            printCells = true;
        else
            return die(usage);
    }
    if (bandwidths.empty()) return die("--bandwidths takes positive bits per second, e.g. 1e6,10e6");
    auto bytes = readAnyModel(defaultModelPath());
    if (!bytes) return die(bytes.error());
    const ModelFile* model = &bytes->file;
    auto db = store::RunStore::open(argv[1]);
    if (!db) return die(db.error());
    const std::string hash = store::modelHash(bytes->specText, bytes->weights);
    auto dprof = (*db)->latestProfile(hash, "device");
    if (!dprof) return die(dprof.error());
    auto lookup = latencyTableFor(**db, *model, hash, "lookup");
    auto regression = latencyTableFor(**db, *model, hash, "regression");
    auto macs = latencyTableFor(**db, *model, hash, "regression-macs");
    if (!lookup || !regression || !macs) return die(!lookup ? lookup.error() : !regression ? regression.error() : macs.error());
    // The forest fitted on the whole profile, and on the synthetic sweep alone: the second is
    // what a model never profiled gets.
    auto forest = latencyTableFor(**db, *model, hash, "forest");
    auto forestSweep = latencyTableFor(**db, *model, hash, "forest-sweep");
    if (!forest || !forestSweep) return die(!forest ? forest.error() : forestSweep.error());

    WorkerLinkOptions linkOptions;
    linkOptions.deviceSlowdown = dprof->slowdown;
    WorkerLink link(linkOptions);
    if (auto s = link.start(); !s) return die(s.error());
    if (auto s = link.loadModel(*bytes); !s) return die(s.error());
    QTemporaryDir scratch;  // every cell is a run, stored in a database of the bench's own
    if (!scratch.isValid()) return die("cannot make a scratch folder");

    std::printf(
        "predicted vs measured p50 latency, every exit x partition, %d inferences per cell (fewer when slow), "
        "device slowdown %g\n",
        count, dprof->slowdown);
    for (double bps : bandwidths) {
        double apeLookup = 0, apeRegression = 0, apeMacs = 0, apeForest = 0, apeForestSweep = 0;
        double partError[3] = {0, 0, 0};  // predicted - measured medians: device, transfer, edge
        int cells = 0;
        struct Worst {
            double ape;
            int e, p;
            double measured, predicted;
        };
        std::vector<Worst> worst;
        for (int e = 0; e < model->spec.numExits(); ++e)
            for (int p = 0; p <= model->spec.pathLength(e); ++p) {
                const double predictedLookup = lookup->predictMs(e, p, bps);
                const int n = predictedLookup > 2000 ? 3 : count;
                LiveRunOptions o;
                o.dbPath = scratch.filePath("cells.sqlite").toStdString();
                o.source = "edgent-bench-predict";
                o.exit = e;
                o.partition = p;
                o.bandwidthBps = bps;
                o.count = n;
                const auto run = runToEnd(link, std::move(o));
                if (!run) return die(run.error());
                const LiveRunOutcome& result = *run;
                if (result.status != "finished") return die(result.error);
                const std::vector<net::Sample>& samples = result.samples;
                if (samples.size() != static_cast<size_t>(n)) return die("a stream ended early");
                std::vector<double> total;
                std::vector<double> deviceMs, transferMs, edgeMs;
                for (const auto& s : samples) {
                    total.push_back(s.totalMs);
                    deviceMs.push_back(s.deviceMs);
                    transferMs.push_back(s.transferMs);
                    edgeMs.push_back(s.edgeMs);
                }
                const double md = median(deviceMs), mt = median(transferMs), me = median(edgeMs);
                const double pd = lookup->deviceMs(e, p), pe = lookup->edgeMs(e, p), pt = predictedLookup - pd - pe;
                partError[0] += pd - md;
                partError[1] += pt - mt;
                partError[2] += pe - me;
                if (printCells)
                    std::printf(
                        "  %6.0f kbps e%d p%-2d  device %7.2f/%7.2f  transfer %8.2f/%8.2f  edge %6.2f/%6.2f  (measured/predicted "
                        "ms)\n",
                        bps / 1e3, e, p, md, pd, mt, pt, me, pe);
                std::sort(total.begin(), total.end());
                const double measured = total[total.size() / 2];
                const double a = std::abs(predictedLookup - measured) / measured;
                const double b = std::abs(regression->predictMs(e, p, bps) - measured) / measured;
                apeLookup += a;
                apeRegression += b;
                apeMacs += std::abs(macs->predictMs(e, p, bps) - measured) / measured;
                apeForest += std::abs(forest->predictMs(e, p, bps) - measured) / measured;
                apeForestSweep += std::abs(forestSweep->predictMs(e, p, bps) - measured) / measured;
                ++cells;
                worst.push_back({a, e, p, measured, predictedLookup});
            }
        std::sort(worst.begin(), worst.end(), [](const Worst& x, const Worst& y) { return x.ape > y.ape; });
        std::printf(
            "%8.0f kbps: MAPE lookup %5.1f%%, regression (Table 1) %6.1f%%, regression-macs %6.1f%%, forest %5.1f%%, "
            "forest from the sweep alone %5.1f%% over %d cells; worst lookup cells:",
            bps / 1e3, 100 * apeLookup / cells, 100 * apeRegression / cells, 100 * apeMacs / cells, 100 * apeForest / cells,
            100 * apeForestSweep / cells, cells);
        for (size_t i = 0; i < 3 && i < worst.size(); ++i)
            std::printf(" (e%d p%d: %.2f ms measured, %.2f predicted)", worst[i].e, worst[i].p, worst[i].measured,
                        worst[i].predicted);
        std::printf(
            "\n    lookup's mean error (predicted - measured) per part: device %+.2f ms, transfer %+.2f ms, edge %+.2f ms\n",
            partError[0] / cells, partError[1] / cells, partError[2] / cells);
        std::fflush(stdout);
    }
    link.shutdown();
    return 0;
}
