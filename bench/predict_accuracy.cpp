// Predicted against measured end-to-end latency over the whole exit x partition grid of a
// model, at several bandwidths, on loopback with the application shaper. Predictions come
// from the newest profile in a run database (run `edgent profile --db DB` first), with both
// predictors side by side. Prints MAPE per bandwidth and predictor, and the worst cells.
// Usage: edgent-bench-predict DB [--count N]
#include "core/control/Controller.h"
#include "core/control/LocalWorkers.h"
#include "core/model/ModelFile.h"
#include "core/plan/Planner.h"
#include "core/store/Export.h"
#include "core/store/RunStore.h"

#include <QFile>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>

using namespace edgent::core;
using namespace edgent::core::control;
using net::Role;

namespace {

std::string readFile(const std::string& path) {
    QFile f(QString::fromStdString(path));
    return f.open(QIODevice::ReadOnly) ? f.readAll().toStdString() : std::string();
}

int die(const std::string& why) {
    std::fprintf(stderr, "edgent-bench-predict: %s\n", why.c_str());
    return 1;
}

Result<plan::LatencyTable> lookupTable(const ModelSpec& spec, const store::StoredProfile& d, const store::StoredProfile& e) {
    std::vector<std::vector<double>> dm, em;
    for (int x = 0; x < spec.numExits(); ++x) {
        dm.emplace_back(static_cast<size_t>(spec.pathLength(x)), 0.0);
        em.emplace_back(static_cast<size_t>(spec.pathLength(x)), 0.0);
    }
    for (const auto* p : {&d, &e})
        for (const auto& t : p->result.layers)
            if (t.source == "model") (p == &d ? dm : em)[static_cast<size_t>(t.exit)][static_cast<size_t>(t.layerIndex)] = t.medianMs;
    return plan::LatencyTable::fromLayerTimes(spec, dm, em, d.overheadMs);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return die("usage: edgent-bench-predict DB [--count N]");
    int count = 5;
    for (int i = 2; i < argc; ++i)
        if (!std::strcmp(argv[i], "--count") && i + 1 < argc) count = std::max(3, std::atoi(argv[++i]));
    const std::string modelPath = defaultModelPath();
    auto model = readModelFile(modelPath);
    if (!model) return die(model.error());
    const std::string spec = readFile(modelPath), weights = readFile(model->weightsPath);
    auto db = store::RunStore::open(argv[1]);
    if (!db) return die(db.error());
    const std::string hash = store::modelHash(spec, weights);
    auto dprof = (*db)->latestProfile(hash, "device");
    auto eprof = (*db)->latestProfile(hash, "edge");
    if (!dprof || !eprof) return die(!dprof ? dprof.error() : eprof.error());
    auto lookup = lookupTable(model->spec, *dprof, *eprof);
    auto regression = plan::LatencyTable::fromRegressions(model->spec, dprof->regressions, eprof->regressions, dprof->overheadMs);
    auto macs = plan::LatencyTable::fromRegressions(model->spec, dprof->regressionsMacs, eprof->regressionsMacs, dprof->overheadMs);
    if (!lookup || !regression || !macs) return die(!lookup ? lookup.error() : !regression ? regression.error() : macs.error());

    SpawnedWorker device, edge;
    if (auto s = spawnWorker(edge, Role::Edge, 1, {}); !s) return die(s.error());
    if (auto s = spawnWorker(device, Role::Device, 1, {}); !s) return die(s.error());
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<net::Sample> samples;
    bool ended = false;
    Controller c;
    c.setSampleHandler([&](const net::Sample& s) {
        std::lock_guard lock(mutex);
        samples.push_back(s);
    });
    c.setEventHandler([&](const WorkerEvent& e) {
        std::lock_guard lock(mutex);
        if (e.kind.rfind("stream-", 0) == 0) ended = true;
        cv.notify_all();
    });
    if (auto s = c.connect(Role::Edge, edge.controlEndpoint); !s) return die(s.error());
    if (auto s = c.connect(Role::Device, device.controlEndpoint); !s) return die(s.error());
    for (Role r : {Role::Edge, Role::Device})
        if (auto l = c.call(r, "load-model", {}, 20000, {spec, weights}); !l) return die(l.error());
    (void)c.call(Role::Device, "configure", QJsonObject{{"edge_endpoint", QString::fromStdString(c.info(Role::Edge).dataEndpoint)}});

    std::printf("predicted vs measured p50 latency, every exit x partition, %d inferences per cell (fewer when slow)\n", count);
    for (double bps : {100e3, 1e6, 10e6}) {
        double apeLookup = 0, apeRegression = 0, apeMacs = 0;
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
                {
                    std::lock_guard lock(mutex);
                    samples.clear();
                    ended = false;
                }
                if (auto r = c.call(Role::Device, "configure", QJsonObject{{"exit", e}, {"partition", p}, {"bandwidth_bps", bps}}); !r)
                    return die(r.error());
                if (auto r = c.call(Role::Device, "start-stream", QJsonObject{{"count", n}}); !r) return die(r.error());
                std::unique_lock lock(mutex);
                if (!cv.wait_for(lock, std::chrono::seconds(120), [&] { return ended; })) return die("a stream timed out");
                if (samples.size() != static_cast<size_t>(n)) return die("a stream ended early");
                std::vector<double> total;
                for (const auto& s : samples) total.push_back(s.totalMs);
                std::sort(total.begin(), total.end());
                const double measured = total[total.size() / 2];
                const double a = std::abs(predictedLookup - measured) / measured;
                const double b = std::abs(regression->predictMs(e, p, bps) - measured) / measured;
                apeLookup += a;
                apeRegression += b;
                apeMacs += std::abs(macs->predictMs(e, p, bps) - measured) / measured;
                ++cells;
                worst.push_back({a, e, p, measured, predictedLookup});
            }
        std::sort(worst.begin(), worst.end(), [](const Worst& x, const Worst& y) { return x.ape > y.ape; });
        std::printf("%8.0f kbps: MAPE lookup %5.1f%%, regression (Table 1) %6.1f%%, regression-macs %6.1f%% over %d cells; "
                    "worst lookup cells:",
                    bps / 1e3, 100 * apeLookup / cells, 100 * apeRegression / cells, 100 * apeMacs / cells, cells);
        for (size_t i = 0; i < 3 && i < worst.size(); ++i)
            std::printf(" (e%d p%d: %.2f ms measured, %.2f predicted)", worst[i].e, worst[i].p, worst[i].measured, worst[i].predicted);
        std::printf("\n");
        std::fflush(stdout);
    }
    (void)c.call(Role::Device, "shutdown", {}, 2000);
    (void)c.call(Role::Edge, "shutdown", {}, 2000);
    return 0;
}
