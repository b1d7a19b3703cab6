// Predicted against measured end-to-end latency over the whole exit x partition grid of a
// model, at several bandwidths, on loopback with the application shaper. Predictions come
// from the newest profile in a run database (run `edgent profile --db DB` first), every
// predictor side by side. Prints MAPE per bandwidth and predictor, and the worst cells.
// The device worker runs with the slowdown its profile was taken with.
// --model: another model than the default; when DB never profiled it, the fitted predictors
// predict it from the profile of the model DB did profile (a model never profiled).
// --measured DB2: per-layer and per-kernel scores against the model's own profile in DB2
// (nn-Meter's "within +-10%", and its unit: a conv or fc fused with the batch norm and relu
// after it); --layers-only stops there.
// With --cells, every cell's measured and predicted parts (device, transfer, edge), and per
// bandwidth the mean signed error of each part, to show where the prediction misses.
// Before and after each bandwidth's grid it probes the host for 3 s (bench/TwoSpeeds.h) and
// prints the share of frames it computed at about half speed.
// Usage: edgent-bench-predict DB [--model M] [--measured DB2] [--layers-only] [--count N] [--passes N]
// [--bandwidths BPS,...] [--cells] (bandwidths default to 1e5,1e6,1e7). Each cell runs 3 inferences, and up to
// --count (default 9) only when the 95% confidence interval of their mean is wider than +-5%. With --passes N
// (default 1), N - 1 more passes over the grid run 3 more inferences of every cell under 2 s, so that a cell's
// median rests on moments seconds apart, as a layer's does in the profile; the MAPE line is then over every
// pass, and a second line gives the first pass's alone (what one pass would have scored).
#include "bench/TwoSpeeds.h"
#include "core/control/LiveRun.h"
#include "core/control/ProfileRun.h"
#include "core/model/ModelIO.h"
#include "core/model/ModelImport.h"
#include "core/plan/Planner.h"
#include "core/store/Export.h"
#include "core/store/RunStore.h"

#include <QTemporaryDir>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <tuple>

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

// One unit of scoring: a layer, or a kernel of consecutive layers on one exit's path.
struct Unit {
    int exit = 0, first = 0, last = 0;  // layers [first, last]
    std::string kinds;                  // "conv+relu"
    double measured = 0.0, predicted = 0.0;
};

// nn-Meter's unit (Zhang et al., MobiSys 2021) is the kernel, the operators a runtime fuses:
// a conv or fc with the batch norm and relu after it, a pooling or LRN layer on its own.
// Dropout and flatten do nothing at inference and join the kernel before them.
std::vector<Unit> kernelsOf(const std::vector<Unit>& layers) {
    std::vector<Unit> out;
    for (const Unit& l : layers) {
        const bool joins = l.kinds == "relu" || l.kinds == "batchnorm" || l.kinds == "dropout" || l.kinds == "flatten";
        if (joins && !out.empty() && out.back().exit == l.exit && out.back().last + 1 == l.first) {
            Unit& k = out.back();
            k.last = l.last;
            k.kinds += "+" + l.kinds;
            k.measured += l.measured;
            k.predicted += l.predicted;
        } else {
            out.push_back(l);
        }
    }
    return out;
}

void printScores(const char* node, const char* unitName, const std::string& predictor, std::vector<Unit> units) {
    double ape = 0.0, signedSum = 0.0;
    int within = 0;
    for (const Unit& u : units) {
        const double err = std::abs(u.predicted - u.measured) / u.measured;
        ape += err;
        signedSum += (u.predicted - u.measured) / u.measured;
        within += err <= 0.1 ? 1 : 0;
    }
    const double n = static_cast<double>(units.size());
    std::printf("  %-6s per %-6s %-14s %5.1f%% within +-10%%, MAPE %6.1f%%, mean signed error %+6.1f%% (%zu %ss)\n", node,
                unitName, predictor.c_str(), 100.0 * within / n, 100.0 * ape / n, 100.0 * signedSum / n, units.size(), unitName);
    auto err = [](const Unit& u) { return std::abs(u.predicted - u.measured) / u.measured; };
    std::sort(units.begin(), units.end(), [&](const Unit& a, const Unit& b) { return err(a) > err(b); });
    for (size_t i = 0; i < 3 && i < units.size(); ++i) {
        const Unit& u = units[i];
        const std::string at = u.first == u.last ? "layer " + std::to_string(u.first)
                                                 : "layers " + std::to_string(u.first) + "-" + std::to_string(u.last);
        std::printf("      worst: exit %d %-11s %-22s measured %8.4f ms, predicted %8.4f ms\n", u.exit, at.c_str(), u.kinds.c_str(),
                    u.measured, u.predicted);
    }
}

// Per-layer and per-kernel predictions against the model's own measured profile (from another
// database, so that the predictors never saw them): the share within +-10% and the MAPE, per
// node.
void printLayerScores(store::RunStore& measuredDb, const ModelFile& model, const std::string& hash,
                      const std::vector<std::pair<std::string, plan::LatencyTable>>& tables) {
    for (const char* node : {"device", "edge"}) {
        auto measured = measuredDb.latestProfile(hash, node);
        if (!measured) {
            std::printf("  %s: %s\n", node, measured.error().c_str());
            continue;
        }
        for (const auto& [name, table] : tables) {
            // forest-p10 and forest-p10-offset predict 10th percentiles, and are scored against the
            // measured ones.
            const bool floor = name.rfind("forest-p10", 0) == 0;
            std::vector<Unit> layers;
            for (const auto& t : measured->result.layers) {
                const double ms = floor ? t.p10Ms : t.medianMs;
                if (t.source != "model" || t.exit < 0 || t.exit >= model.spec.numExits() || !(ms > 0)) continue;
                const double predicted = std::string(node) == "device" ? table.deviceLayerMs(t.exit, t.layerIndex)
                                                                       : table.edgeLayerMs(t.exit, t.layerIndex);
                layers.push_back({t.exit, t.layerIndex, t.layerIndex, std::string(layerKindName(t.kind)), ms, predicted});
            }
            if (layers.empty()) continue;
            std::sort(layers.begin(), layers.end(),
                      [](const Unit& a, const Unit& b) { return std::tie(a.exit, a.first) < std::tie(b.exit, b.first); });
            printScores(node, "layer", name, layers);
            printScores(node, "kernel", name, kernelsOf(layers));
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    const char* usage =
        "usage: edgent-bench-predict DB [--model MODEL] [--measured DB2] [--count N] [--passes N] [--bandwidths BPS,...] "
        "[--cells] [--layers-only]";
    bool printCells = false, layersOnly = false;
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h"))) return std::puts(usage), 0;
        return die(usage);
    }
    int count = 9, passes = 1;
    std::string modelPath = defaultModelPath(), measuredPath;
    std::vector<double> bandwidths{100e3, 1e6, 10e6};
    for (int i = 2; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--count") && i + 1 < argc)
            count = std::max(3, std::atoi(argv[++i]));
        else if (!std::strcmp(argv[i], "--bandwidths") && i + 1 < argc)
            bandwidths = parseBandwidths(argv[++i]);
        else if (!std::strcmp(argv[i], "--model") && i + 1 < argc)
            modelPath = argv[++i];
        else if (!std::strcmp(argv[i], "--measured") && i + 1 < argc)
            measuredPath = argv[++i];
        else if (!std::strcmp(argv[i], "--passes") && i + 1 < argc)
            passes = std::max(1, std::atoi(argv[++i]));
        else if (!std::strcmp(argv[i], "--cells"))
            printCells = true;
        else if (!std::strcmp(argv[i], "--layers-only"))
            layersOnly = true;
        else
            return die(usage);
    }
    if (bandwidths.empty()) return die("--bandwidths takes positive bits per second, e.g. 1e6,10e6");
    auto bytes = readAnyModel(modelPath);
    if (!bytes) return die(bytes.error());
    const ModelFile* model = &bytes->file;
    auto db = store::RunStore::open(argv[1], store::RunStore::Mode::ReadOnly);
    if (!db) return die(db.error());
    const std::string hash = store::modelHash(bytes->specText, bytes->weights);
    // Every predictor the database can give for this model: lookup needs the model's own
    // profile; the fitted ones predict a model the database never profiled from the newest
    // profile of another. forest-sweep is the forest fitted on the synthetic sweep alone,
    // forest-inpath the forest with a factor per kind for layers timed in their path, forest-offset
    // forest-sweep plus an in-path cost per kind, and forest-p10 and forest-p10-offset the same
    // fitted to 10th percentiles (scored per layer only, against measured ones).
    std::vector<std::pair<std::string, plan::LatencyTable>> tables;
    for (const char* name : {"lookup", "regression", "regression-macs", "forest", "forest-sweep", "forest-inpath",
                             "forest-offset", "forest-p10", "forest-p10-offset"}) {
        auto t = latencyTableFor(**db, *model, hash, name);
        if (t) tables.emplace_back(name, std::move(*t));
        else std::printf("%s: not available (%s)\n", name, t.error().c_str());
    }
    if (tables.empty()) return die("no predictor is available from this database");
    // Side by side on the same cells: lookup and forest without each node's fixed cost of a
    // slice (the "-bare" columns), as every predictor was before profiles measured it.
    const size_t withSlice = tables.size();
    for (size_t k = 0; k < withSlice; ++k)
        if (tables[k].first == "lookup" || tables[k].first == "forest") {
            plan::LatencyTable bare = tables[k].second;
            bare.setSliceMs(0.0, 0.0);
            tables.emplace_back(tables[k].first + "-bare", std::move(bare));
        }
    std::printf("fixed cost of a slice: device %.3f ms, edge %.3f ms (0 in profiles older than schema 15)\n",
                tables.front().second.deviceSliceMs(), tables.front().second.edgeSliceMs());
    auto dprof = (*db)->latestProfile(hash, "device");
    if (!dprof) dprof = (*db)->latestProfile("", "device");
    if (!dprof) return die(dprof.error());
    const bool ownProfile = (*db)->latestProfile(hash, "device").ok();
    std::printf("model %s, %s; predictors fitted on the %s profile\n", model->spec.name.c_str(), modelPath.c_str(),
                ownProfile ? "model's own" : "newest other model's");
    if (!measuredPath.empty()) {
        auto measuredDb = store::RunStore::open(measuredPath, store::RunStore::Mode::ReadOnly);
        if (!measuredDb) return die(measuredDb.error());
        printLayerScores(**measuredDb, *model, hash, tables);
    }
    if (layersOnly) return 0;
    // forest-p10 and forest-p10-offset predict a layer's fast-speed time, not a run's median: they
    // are scored per layer only.
    tables.erase(
        std::remove_if(tables.begin(), tables.end(), [](const auto& t) { return t.first.rfind("forest-p10", 0) == 0; }),
        tables.end());
    // The host's state before and after each bandwidth's grid (bench/TwoSpeeds.h): a cell's few
    // inferences fall inside one stretch of the host's speed, so its share of slow frames bounds
    // how close any prediction of a median can come.
    auto probeNet = loadModelFromBytes(bytes->specText, bytes->weights, modelPath);
    if (!probeNet) return die(probeNet.error());
    torch::set_num_threads(1);  // as the workers compute
    at::globalContext().setFlushDenormal(true);
    double fullSpeedMs = 0.0;  // the fastest the host has run the probe in this bench
    auto hostLine = [&](const char* when) {
        const auto s = edgent::bench::probeHost(**probeNet, (*probeNet)->numExits() - 1, 3.0, fullSpeedMs);
        fullSpeedMs = s.fastMs;
        std::printf("    host %s: %s\n", when, edgent::bench::describe(s).c_str());
        std::fflush(stdout);
    };

    WorkerLinkOptions linkOptions;
    linkOptions.deviceSlowdown = dprof->slowdown;
    WorkerLink link(linkOptions);
    if (auto s = link.start(); !s) return die(s.error());
    if (auto s = link.loadModel(*bytes); !s) return die(s.error());
    QTemporaryDir scratch;  // every cell is a run, stored in a database of the bench's own
    if (!scratch.isValid()) return die("cannot make a scratch folder");

    const plan::LatencyTable& first = tables.front().second;  // lookup when there is one
    std::printf(
        "predicted vs measured p50 latency, every exit x partition, 3 to %d inferences per cell (more only when the "
        "first 3 vary by over +-5%%), "
        "device slowdown %g (emulated)\n",
        count, dprof->slowdown);
    for (double bps : bandwidths) {
        // One cell's run of `n` inferences, stored in the bench's scratch database.
        auto runCell = [&](int e, int p, int n) -> Result<std::vector<net::Sample>> {
            LiveRunOptions o;
            o.dbPath = scratch.filePath("cells.sqlite").toStdString();
            o.source = "edgent-bench-predict";
            o.exit = e;
            o.partition = p;
            o.bandwidthBps = bps;
            o.count = n;
            const auto run = runToEnd(link, std::move(o));
            if (!run) return makeError(run.error());
            if (run->status != "finished") return makeError(run->error);
            if (run->samples.size() != static_cast<size_t>(n)) return makeError("a stream ended early");
            return run->samples;
        };
        struct Cell {
            int e, p;
            std::vector<net::Sample> first, all;  // the first pass's samples, and every pass's
        };
        std::vector<Cell> grid;
        int inferences = 0;
        hostLine("before");
        for (int e = 0; e < model->spec.numExits(); ++e)
            for (int p = 0; p <= model->spec.pathLength(e); ++p) {
                // Repeats chosen by a confidence interval: a first batch of 3 inferences, and the
                // rest of --count only when the 95% interval of their mean total is wider than
                // +-5% of it (a shaped transfer repeats closely; a short compute does not).
                const int maxCount = first.predictMs(e, p, bps) > 2000 ? 3 : count;
                std::vector<net::Sample> samples;
                for (int batch : {3, maxCount - 3}) {
                    if (batch <= 0) break;
                    auto more = runCell(e, p, batch);
                    if (!more) return die(more.error());
                    samples.insert(samples.end(), more->begin(), more->end());
                    double mean = 0.0, var = 0.0;
                    for (const auto& s : samples) mean += s.totalMs;
                    mean /= static_cast<double>(samples.size());
                    for (const auto& s : samples) var += (s.totalMs - mean) * (s.totalMs - mean);
                    const double halfWidth =
                        1.96 * std::sqrt(var / static_cast<double>(samples.size() - 1) / static_cast<double>(samples.size()));
                    if (halfWidth <= 0.05 * mean) break;
                }
                inferences += static_cast<int>(samples.size());
                grid.push_back({e, p, samples, samples});
            }
        // Later passes: 3 more inferences of every cell under 2 s per pass, so that each cell's
        // median rests on moments of the host seconds apart, as the profile's medians do.
        for (int pass = 2; pass <= passes; ++pass)
            for (Cell& c : grid) {
                if (first.predictMs(c.e, c.p, bps) > 2000) continue;
                auto more = runCell(c.e, c.p, 3);
                if (!more) return die(more.error());
                c.all.insert(c.all.end(), more->begin(), more->end());
                inferences += 3;
            }
        // MAPE of every predictor against the cells' measured medians (of the first pass, or of all).
        auto scoreLine = [&](bool allPasses) {
            std::vector<double> ape(tables.size(), 0.0);
            for (const Cell& c : grid) {
                std::vector<double> total;
                for (const auto& s : allPasses ? c.all : c.first) total.push_back(s.totalMs);
                const double measured = median(total);
                for (size_t k = 0; k < tables.size(); ++k)
                    ape[k] += std::abs(tables[k].second.predictMs(c.e, c.p, bps) - measured) / measured;
            }
            std::string line;
            for (size_t k = 0; k < tables.size(); ++k) {
                char part[96];
                std::snprintf(part, sizeof part, " %s %.1f%%", tables[k].first.c_str(), 100 * ape[k] / grid.size());
                line += part;
            }
            return line;
        };
        double partError[3] = {0, 0, 0};  // predicted - measured medians: device, transfer, edge
        struct Worst {
            double ape;
            int e, p;
            double measured, predicted;
        };
        std::vector<Worst> worst;
        for (const Cell& c : grid) {
            std::vector<double> total, deviceMs, transferMs, edgeMs;
            for (const auto& s : c.all) {
                total.push_back(s.totalMs);
                deviceMs.push_back(s.deviceMs);
                transferMs.push_back(s.transferMs);
                edgeMs.push_back(s.edgeMs);
            }
            const double md = median(deviceMs), mt = median(transferMs), me = median(edgeMs);
            const double predicted = first.predictMs(c.e, c.p, bps);
            const double pd = first.deviceMs(c.e, c.p), pe = first.edgeMs(c.e, c.p), pt = predicted - pd - pe;
            partError[0] += pd - md;
            partError[1] += pt - mt;
            partError[2] += pe - me;
            if (printCells)
                std::printf(
                    "  %6.0f kbps e%d p%-2d  device %7.2f/%7.2f  transfer %8.2f/%8.2f  edge %6.2f/%6.2f  (measured/%s "
                    "ms)\n",
                    bps / 1e3, c.e, c.p, md, pd, mt, pt, me, pe, tables.front().first.c_str());
            const double measured = median(total);
            worst.push_back({std::abs(predicted - measured) / measured, c.e, c.p, measured, predicted});
        }
        const int cells = static_cast<int>(grid.size());
        std::sort(worst.begin(), worst.end(), [](const Worst& x, const Worst& y) { return x.ape > y.ape; });
        std::printf("%8.0f kbps, MAPE over %d cells (%d inferences%s):%s\n", bps / 1e3, cells, inferences,
                    passes > 1 ? (", " + std::to_string(passes) + " passes").c_str() : "", scoreLine(true).c_str());
        if (passes > 1) std::printf("    the first pass alone:%s\n", scoreLine(false).c_str());
        std::printf("    worst %s cells:", tables.front().first.c_str());
        for (size_t i = 0; i < 3 && i < worst.size(); ++i)
            std::printf(" (e%d p%d: %.2f ms measured, %.2f predicted)", worst[i].e, worst[i].p, worst[i].measured,
                        worst[i].predicted);
        std::printf("\n    %s's mean error (predicted - measured) per part: device %+.2f ms, transfer %+.2f ms, edge %+.2f ms\n",
                    tables.front().first.c_str(), partError[0] / cells, partError[1] / cells, partError[2] / cells);
        hostLine("after");
    }
    link.shutdown();
    return 0;
}
