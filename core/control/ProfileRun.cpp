#include "core/control/ProfileRun.h"

#include "core/plan/CodecCosts.h"

#include "core/plan/Forest.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>

namespace edgent::core::control {

using net::Role;

Result<ProfileRunResult> profileWorkers(Controller& c, const ModelFile& model, const ProfileRunOptions& options,
                                        const std::function<void(const ProfileRunProgress&)>& progress,
                                        const std::atomic<bool>* cancel) {
    // Shared with the handlers: the controller may still be running one when this returns.
    struct State {
        std::mutex mutex;
        std::condition_variable changed;
        std::map<Role, QJsonObject> done;
        std::map<Role, std::string> failed;
        std::vector<net::Sample> calibration;
        int streamsFinished = 0;
        std::function<void(const ProfileRunProgress&)> progress;
    };
    auto state = std::make_shared<State>();
    state->progress = progress;
    std::mutex& mutex = state->mutex;
    std::condition_variable& changed = state->changed;
    std::map<Role, QJsonObject>& done = state->done;
    std::map<Role, std::string>& failed = state->failed;
    std::vector<net::Sample>& calibration = state->calibration;
    Controller::Subscription subscription = c.subscribe(
        [state](const net::Sample& s) {
            std::lock_guard lock(state->mutex);
            state->calibration.push_back(s);
            state->changed.notify_all();
        },
        [state](const WorkerEvent& e) {
            using net::EventKind;
            if (e.kind == EventKind::ProfileProgress && state->progress) {
                ProfileRunProgress p;
                p.role = e.role;
                p.stage = e.message;
                p.done = e.done;
                p.total = e.total;
                state->progress(p);
            }
            std::lock_guard lock(state->mutex);
            if (e.kind == EventKind::ProfileError || e.kind == EventKind::WorkerDown || e.kind == EventKind::StreamError)
                state->failed[e.role] = e.message;
            if (e.kind == EventKind::StreamFinished) ++state->streamsFinished;
            state->changed.notify_all();
        });
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + std::chrono::milliseconds(options.timeoutMs);
    QJsonObject request{
        {"repeats", options.repeats}, {"synthetic", options.synthetic}, {"adaptive_rounds", options.adaptiveRounds},
        {"spread", options.spread}, {"span_s", options.spanSeconds}};
    // One worker after the other: when both share a host (local workers), profiling them
    // at once would time each while the other competes for the cores and the memory bus.
    for (Role r : {Role::Edge, Role::Device}) {
        if (auto s = c.call(r, net::Command::Profile, request, 5000); !s) return makeError(s.error());
        while (!done.count(r)) {
            {
                std::unique_lock lock(mutex);
                if (!failed.empty())
                    return makeError(std::string(net::roleName(failed.begin()->first)) + " worker: " + failed.begin()->second);
                changed.wait_for(lock, std::chrono::milliseconds(200));
            }
            if (cancel && cancel->load()) {
                (void)c.call(r, net::Command::Stop, {}, 5000);
                return makeError("profiling was cancelled");
            }
            auto result = c.call(r, net::Command::ProfileResult, {}, 10000);
            if (!result) return makeError(result.error());
            if (result->value("ready").toBool()) done[r] = result->value("profile").toObject();
            if (std::chrono::steady_clock::now() > deadline)
                return makeError("profiling did not finish within " + std::to_string(options.timeoutMs / 60000) + " minutes");
        }
    }
    ProfileRunResult out;
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    // Per-message overhead: small frames at full speed, no shaping; what remains of the
    // transfer time is the fixed cost of a message.
    const int last = model.spec.numExits() - 1;
    const int n = model.spec.pathLength(last);
    // Calibration streams of 40 inferences, unshaped: (a) the device runs all but the last
    // layer and sends a small tensor; (b) the edge runs the whole path on the raw input.
    auto calibrate = [&](int partition, std::vector<net::Sample>& into, double rateHz = 0.0) -> Status {
        QJsonObject cfg{{"exit", last},
                        {"partition", partition},
                        {"bandwidth_bps", 0.0},
                        {"probe", false},
                        {"edge_endpoint", QString::fromStdString(c.info(Role::Edge).dataEndpoint)}};
        int finishedBefore = 0;
        {
            std::lock_guard lock(mutex);
            calibration.clear();
            finishedBefore = state->streamsFinished;
        }
        if (auto r = c.call(Role::Device, net::Command::Configure, cfg); !r) return makeError(r.error());
        QJsonObject stream{{"count", 40}};
        if (rateHz > 0.0) stream.insert("rate_hz", rateHz);
        if (auto r = c.call(Role::Device, net::Command::StartStream, stream); !r) return makeError(r.error());
        // Until the stream has ended on the device, not only until its samples are in: the
        // next stream can start only then.
        std::unique_lock lock(mutex);
        if (!changed.wait_for(lock, std::chrono::seconds(60), [&] {
                return (calibration.size() >= 40 && state->streamsFinished > finishedBefore) || !failed.empty();
            }))
            return makeError("the calibration stream did not finish within 60 s");
        if (!failed.empty())
            return makeError(std::string(net::roleName(failed.begin()->first)) + " worker: " + failed.begin()->second);
        into = calibration;
        return Status::success();
    };
    // (c) The device runs the first layer alone, back to back, and (d) the same paced at 20 Hz,
    // so that the device idles about 50 ms before each slice, as it does while a frame crosses
    // a slow link. A slice after such a wait took 1.8x one taken back to back (0.27-0.29 ms
    // against 0.15-0.17 ms for the default model's first layer): its caches have gone cold.
    // (d)'s device and (a)'s edge, which runs the last layer alone after the device's slice,
    // give each node's fixed cost of a slice; (c) gives the device's warm cost, which the
    // tail ratio takes out of (a)'s back-to-back device compute.
    std::vector<net::Sample> deviceHeavy, edgeHeavy, deviceLight, deviceLightPaced;
    if (auto s = calibrate(n - 1, deviceHeavy); !s) return makeError(s.error());
    if (auto s = calibrate(0, edgeHeavy); !s) return makeError(s.error());
    if (auto s = calibrate(1, deviceLight); !s) return makeError(s.error());
    if (auto s = calibrate(1, deviceLightPaced, 20.0); !s) return makeError(s.error());
    auto quantile = [](const std::vector<net::Sample>& v, double q, double net::Sample::*field) {
        std::vector<double> x;
        for (const auto& s : v) x.push_back(s.*field);
        std::sort(x.begin(), x.end());
        return x[std::min(x.size() - 1, static_cast<size_t>(q * static_cast<double>(x.size())))];
    };
    // What remains of a small frame's transfer time is the fixed cost of a message.
    out.overheadMs = quantile(deviceHeavy, 0.5, &net::Sample::transferMs);
    out.overheadP95Ms = quantile(deviceHeavy, 0.95, &net::Sample::transferMs);

    for (Role r : {Role::Edge, Role::Device}) {
        auto parsed = profile::profileFromJson(done[r]);
        if (!parsed) return makeError(parsed.error());
        // The fixed cost of a slice: a one-layer slice's median compute over that layer's
        // profiled median (the edge's last layer in (a), the device's first in (d), and in (c)
        // for the warm cost).
        const bool edge = r == Role::Edge;
        const int shortLayer = edge ? n - 1 : 0;
        double profiled = 0.0, shortProfiled = -1.0;
        for (const auto& t : parsed->layers) {
            if (t.source != "model" || t.exit != last) continue;
            if (edge || t.layerIndex < n - 1) profiled += t.medianMs;
            if (t.layerIndex == shortLayer) shortProfiled = t.medianMs;
        }
        auto overProfiled = [&](double measured) { return shortProfiled >= 0.0 ? std::max(0.0, measured - shortProfiled) : 0.0; };
        const double sliceMs = overProfiled(edge ? quantile(deviceHeavy, 0.5, &net::Sample::edgeMs)
                                                 : quantile(deviceLightPaced, 0.5, &net::Sample::deviceMs));
        const double warmSliceMs = edge ? sliceMs : overProfiled(quantile(deviceLight, 0.5, &net::Sample::deviceMs));
        // The run's tail against the profile: p95 of the calibration's compute on this node,
        // less the slice's fixed cost (the device's warm one: (a) runs back to back), over the
        // sum of the same layers' profiled medians. It
        // takes in what per-layer timing cannot see: caches gone cold while waiting on the
        // network, the host's slow stretches.
        const double measured = edge ? quantile(edgeHeavy, 0.95, &net::Sample::edgeMs)
                                     : quantile(deviceHeavy, 0.95, &net::Sample::deviceMs);
        const double ratio = profiled > 0.0 ? std::max(1.0, (measured - warmSliceMs) / profiled) : 1.0;
        out.nodes.push_back(NodeProfile{r, c.info(r).hello, std::move(*parsed), ratio, sliceMs});
    }
    return out;
}

Result<std::vector<StoredFit>> saveProfileRun(store::RunStore& db, int64_t modelId, const ProfileRunResult& run,
                                              const ProfileRunOptions& options) {
    std::vector<StoredFit> fits;
    for (const NodeProfile& node : run.nodes) {
        const std::string name = net::roleName(node.role);
        profile::ProfileOptions opts;
        opts.repeats = options.repeats;
        opts.spread = options.spread;
        opts.spanSeconds = options.spanSeconds;
        opts.slowdown = node.hello.value("slowdown").toDouble(1.0);
        if (opts.slowdown > 1.0) opts.slowdownWait = node.hello.value("slowdown_wait").toString().toStdString();
        auto id =
            db.saveProfile(modelId, name, node.hello.value("host").toString().toStdString(), node.hello.value("threads").toInt(),
                           opts, node.result, run.overheadMs, run.overheadP95Ms, node.tailRatio, node.sliceMs);
        if (!id) return makeError(id.error());
        std::map<LayerKind, std::vector<plan::Observation>> byKind;
        for (const auto& t : node.result.layers) byKind[t.kind].push_back(plan::Observation{t.features, t.medianMs});
        for (const auto& [kind, obs] : byKind)
            for (auto set : {plan::FeatureSet::TableOne, plan::FeatureSet::TableOneMacs}) {
                auto fit = plan::fitLinear(kind, obs, 4, 1, set);
                if (!fit) continue;  // a kind with too few points keeps no regression
                if (auto s = db.saveRegression(*id, name, *fit); !s) return makeError(s.error());
                fits.push_back(StoredFit{name, *fit});
            }
    }
    return fits;
}

namespace {

// A layer's 95th percentile from its median and 90th: for a normal tail, p95 - median is
// 1.6449 / 1.2816 times p90 - median.
constexpr double kP95PerP90 = 1.6449 / 1.2816;

std::string joinPredictorNames() {
    std::string out;
    for (const auto& n : predictorNames()) out += (out.empty() ? "" : ", ") + n;
    return out;
}

}  // namespace

Result<std::vector<ForestCheck>> checkForests(const ProfileRunResult& run) {
    std::vector<ForestCheck> out;
    for (const NodeProfile& node : run.nodes) {
        std::vector<plan::LayerSample> fit, held, sweep, model;
        int i = 0;
        for (const auto& t : node.result.layers) {
            if (t.config.empty()) continue;
            const plan::LayerSample s{t.kind, t.config, t.medianMs, t.source == "model"};
            (++i % 4 == 0 ? held : fit).push_back(s);
            (t.source == "model" ? model : sweep).push_back(s);
        }
        ForestCheck c;
        c.node = net::roleName(node.role);
        auto h = plan::scoreForest(fit, held);
        if (!h) return makeError(c.node + ": " + h.error());
        auto u = plan::scoreForest(sweep, model);
        if (!u) return makeError(c.node + ": " + u.error());
        c.heldOut = *h;
        c.unseenModel = *u;
        out.push_back(c);
    }
    return out;
}

std::vector<std::string> predictorNames() {
    return {"auto", "lookup-p95", "lookup", "forest-p95", "forest", "regression-p95", "regression", "regression-macs"};
}

Result<std::string> resolvePredictor(store::RunStore& db, const std::string& modelHashHex, const std::string& predictor) {
    if (predictor != "auto") return predictor;
    if (db.latestProfile(modelHashHex, "device") && db.latestProfile(modelHashHex, "edge")) return std::string("lookup-p95");
    return std::string("forest-p95");
}

bool predictorIsFitted(const std::string& predictor) {
    for (const char* name : {"forest", "forest-p95", "forest-sweep", "forest-inpath", "forest-p10", "forest-offset",
                             "forest-p10-offset", "regression", "regression-p95", "regression-macs"})
        if (predictor == name) return true;
    return false;
}

namespace {

// A layer's time as a predictor reads it from a profile row: the median, its 95th percentile
// (lookup-p95's estimate), or its 10th percentile (floor; the median in a row without one).
double layerMs(const profile::LayerTiming& t, double tailRatio, bool tail, bool floor = false) {
    if (floor && t.p10Ms > 0) return t.p10Ms;
    return tail ? std::max(t.medianMs * tailRatio, t.medianMs + kP95PerP90 * std::max(0.0, t.p90Ms - t.medianMs)) : t.medianMs;
}

// The profile a node's latency model is fitted on: its newest profile of this model or, when
// the model was never profiled there, its newest profile of any model (that model's layers and
// the synthetic sweep).
Result<store::StoredProfile> fittingProfile(store::RunStore& db, const std::string& modelHashHex, const std::string& node) {
    auto profile = db.latestProfile(modelHashHex, node);
    if (!profile) profile = db.latestProfile("", node);
    return profile;
}

// A node's forest on its fitting profile's rows (the sweep's alone with sweepOnly), fitted to
// each row's median, its 95th percentile (tail) or its 10th (floor, where the profile has it).
Result<plan::LatencyForest> nodeForest(const store::StoredProfile& profile, bool tail, bool sweepOnly, bool floor,
                                       const plan::ForestOptions& options) {
    std::vector<plan::LayerSample> samples;
    for (const auto& t : profile.result.layers)
        if (!t.config.empty() && !(sweepOnly && t.source == "model"))
            samples.push_back(
                plan::LayerSample{t.kind, t.config, layerMs(t, profile.tailRatio, tail, floor), t.source == "model"});
    if (samples.empty())
        return makeError("the newest " + profile.node +
                         " profile predates layer configurations (schema 7); run edgent profile again");
    auto forest = plan::LatencyForest::fit(samples, options);
    if (!forest) return makeError(profile.node + " latency model: " + forest.error());
    return forest;
}

// A node's Table-1 regressions (with the MAC term for TableOneMacs) on its fitting profile's
// rows: the medians as at profiling, or each row's 95th percentile for a tail-aware fit.
std::map<LayerKind, plan::LinearFit> nodeRegressions(const store::StoredProfile& profile, plan::FeatureSet set, bool tail) {
    std::map<LayerKind, std::vector<plan::Observation>> byKind;
    for (const auto& t : profile.result.layers)
        byKind[t.kind].push_back(plan::Observation{t.features, layerMs(t, profile.tailRatio, tail)});
    std::map<LayerKind, plan::LinearFit> fits;
    for (const auto& [kind, obs] : byKind)
        if (auto fit = plan::fitLinear(kind, obs, 4, 1, set)) fits[kind] = *fit;  // too few points: no fit
    return fits;
}

// A latency table of per-layer predictions from a node model fitted per node.
Result<plan::LatencyTable> predictedTable(const ModelFile& model, double overheadMs,
                                          const std::function<Result<double>(bool device, const LayerInfo&)>& predict) {
    std::vector<std::vector<double>> d, e;
    for (int x = 0; x < model.spec.numExits(); ++x) {
        auto path = analyzePath(model.spec, x);
        if (!path) return makeError(path.error());
        d.emplace_back();
        e.emplace_back();
        for (const LayerInfo& l : *path)
            for (bool device : {true, false}) {
                auto ms = predict(device, l);
                if (!ms) return makeError("layer " + l.name + " on the " + (device ? "device" : "edge") + ": " + ms.error());
                (device ? d : e).back().push_back(*ms);
            }
    }
    return plan::LatencyTable::fromLayerTimes(model.spec, d, e, overheadMs);
}

// A table with each node's fixed cost of a slice from the profiles it was built on.
Result<plan::LatencyTable> withSlices(Result<plan::LatencyTable> table, const store::StoredProfile& device,
                                      const store::StoredProfile& edge) {
    if (table) table->setSliceMs(device.sliceMs, edge.sliceMs);
    return table;
}

// Whether a predictor plans on 95th percentiles (lookup-p95, forest-p95, regression-p95).
bool isTailPredictor(const std::string& predictor) {
    return predictor.size() > 4 && predictor.compare(predictor.size() - 4, 4, "-p95") == 0;
}

Result<plan::LatencyTable> modelTable(store::RunStore& db, const ModelFile& model, const std::string& modelHashHex,
                                      const std::string& predictor) {
    const bool tail = isTailPredictor(predictor);
    auto device = fittingProfile(db, modelHashHex, "device");
    if (!device) return makeError(device.error());
    auto edge = fittingProfile(db, modelHashHex, "edge");
    if (!edge) return makeError(edge.error());
    const double overhead = tail ? device->overheadP95Ms : device->overheadMs;
    if (predictor == "forest-offset" || predictor == "forest-p10-offset") {
        const bool floor = predictor == "forest-p10-offset";
        // The forest of the sweep alone, plus one cost per kind that a layer timed in its path
        // adds to the same layer timed alone: the median of (in-path time - that forest's
        // prediction) over the fitting profile's model rows of the kind; at least half the
        // forest's time, when that cost is negative.
        std::map<LayerKind, double> offset[2];
        plan::LatencyForest forests[2];
        for (int i = 0; i < 2; ++i) {
            const store::StoredProfile& profile = i == 0 ? *device : *edge;
            auto forest = nodeForest(profile, false, true, floor, {});
            if (!forest) return makeError(forest.error());
            std::map<LayerKind, std::vector<double>> extra;
            for (const auto& t : profile.result.layers)
                if (t.source == "model" && !t.config.empty())
                    if (auto alone = forest->predictMs(t.kind, t.config, false))
                        extra[t.kind].push_back(layerMs(t, profile.tailRatio, false, floor) - *alone);
            for (auto& [kind, d] : extra) {
                std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(d.size() / 2), d.end());
                offset[i][kind] = d[d.size() / 2];
            }
            forests[i] = std::move(*forest);
        }
        return withSlices(predictedTable(model, overhead,
                                         [&](bool onDevice, const LayerInfo& l) -> Result<double> {
                                             const int i = onDevice ? 0 : 1;
                                             auto alone = forests[i].predictMs(l.kind, l.config, false);
                                             if (!alone) return alone;
                                             const auto it = offset[i].find(l.kind);
                                             const double cost = it == offset[i].end() ? 0.0 : it->second;
                                             return std::max(0.5 * *alone, *alone + cost);
                                         }),
                          *device, *edge);
    }
    if (predictor.rfind("forest", 0) == 0) {
        const bool sweepOnly = predictor == "forest-sweep";
        plan::ForestOptions options;
        options.inPathFactor = predictor == "forest-inpath";
        const bool floor = predictor == "forest-p10";
        auto fd = nodeForest(*device, tail, sweepOnly, floor, options);
        if (!fd) return makeError(fd.error());
        auto fe = nodeForest(*edge, tail, sweepOnly, floor, options);
        if (!fe) return makeError(fe.error());
        return withSlices(predictedTable(model, overhead,
                                         [&](bool onDevice, const LayerInfo& l) {
                                             return (onDevice ? *fd : *fe).predictMs(l.kind, l.config, true);
                                         }),
                          *device, *edge);
    }
    const auto set = predictor == "regression-macs" ? plan::FeatureSet::TableOneMacs : plan::FeatureSet::TableOne;
    return withSlices(plan::LatencyTable::fromRegressions(model.spec, nodeRegressions(*device, set, tail),
                                                          nodeRegressions(*edge, set, tail), overhead),
                      *device, *edge);
}

}  // namespace

// Builds the latency table for a model from the newest profile in the store.
Result<plan::LatencyTable> latencyTableFor(store::RunStore& db, const ModelFile& model, const std::string& modelHashHex,
                                           const std::string& predictorName) {
    auto resolved = resolvePredictor(db, modelHashHex, predictorName);
    if (!resolved) return makeError(resolved.error());
    const std::string& predictor = *resolved;
    if (predictorIsFitted(predictor)) return modelTable(db, model, modelHashHex, predictor);
    auto device = db.latestProfile(modelHashHex, "device");
    if (!device) return makeError(device.error());
    auto edge = db.latestProfile(modelHashHex, "edge");
    if (!edge) return makeError(edge.error());
    const double overhead = device->overheadMs;
    const bool tail = predictor == "lookup-p95";
    if (predictor != "lookup" && !tail) return makeError("unknown predictor '" + predictor + "' (" + joinPredictorNames() + ")");
    std::vector<std::vector<double>> d, e;
    for (int x = 0; x < model.spec.numExits(); ++x) {
        d.emplace_back(static_cast<size_t>(model.spec.pathLength(x)), -1.0);
        e.emplace_back(static_cast<size_t>(model.spec.pathLength(x)), -1.0);
    }
    auto fill = [&](const store::StoredProfile& p, std::vector<std::vector<double>>& into) -> Status {
        for (const auto& t : p.result.layers)
            if (t.source == "model" && t.exit >= 0 && t.exit < model.spec.numExits() && t.layerIndex >= 0 &&
                t.layerIndex < model.spec.pathLength(t.exit))
                into[static_cast<size_t>(t.exit)][static_cast<size_t>(t.layerIndex)] = layerMs(t, p.tailRatio, tail);
        for (const auto& row : into)
            for (double ms : row)
                if (ms < 0) return makeError("the " + p.node + " profile does not cover every layer of the model");
        return Status::success();
    };
    if (auto s = fill(*device, d); !s) return makeError(s.error());
    if (auto s = fill(*edge, e); !s) return makeError(s.error());
    return withSlices(plan::LatencyTable::fromLayerTimes(model.spec, d, e, tail ? device->overheadP95Ms : overhead), *device,
                      *edge);
}

Result<plan::PlanContext> planContextFor(store::RunStore& db, const ModelFile& model, const std::string& modelHashHex,
                                         const std::string& predictorName, const energy::PowerProfile& power) {
    auto resolved = resolvePredictor(db, modelHashHex, predictorName);
    if (!resolved) return makeError(resolved.error());
    const std::string& predictor = *resolved;
    auto table = latencyTableFor(db, model, modelHashHex, predictor);
    if (!table) return makeError(table.error());
    plan::PlanContext ctx;
    ctx.predictor = predictor;
    // The typical and tail tables; the one the predictor already built is not built again
    // (a forest is fitted per table).
    auto fillAdaptiveTables = [&](const std::string& typical, const std::string& tail) {
        for (auto [name, into] : {std::make_pair(typical, &ctx.typical), std::make_pair(tail, &ctx.tail)}) {
            if (name == predictor)
                *into = ctx.table;
            else if (auto t = latencyTableFor(db, model, modelHashHex, name))
                *into = std::move(*t);
        }
    };
    ctx.spec = model.spec;
    ctx.table = std::move(*table);
    ctx.exitAccuracy = model.spec.exitAccuracy;
    if (predictor == "lookup" || predictor == "lookup-p95") {
        fillAdaptiveTables("lookup", "lookup-p95");
    } else if (predictor == "forest" || predictor == "forest-p95") {
        fillAdaptiveTables("forest", "forest-p95");
    } else if (predictor == "regression" || predictor == "regression-p95") {
        fillAdaptiveTables("regression", "regression-p95");
    }
    if (auto c = db.latestCalibration(modelHashHex, "validation"))
        ctx.calibration = std::make_shared<const CalibrationSet>(std::move(*c));
    // The cut tensor's codecs: costs from the validation codec calibration and each node's
    // codec times (this model's profile, else the node's newest).
    if (auto cal = db.latestCodecCalibration(modelHashHex, "validation")) {
        auto timings = [&](const std::string& node) {
            auto p = db.latestProfile(modelHashHex, node);
            if (!p || p->result.codecs.empty()) p = db.latestProfile("", node);
            return p ? p->result.codecs : std::vector<profile::CodecTiming>{};
        };
        const auto device = timings("device"), edge = timings("edge");
        ctx.codecNote = plan::addCodecCosts(ctx.table, model.spec, *cal, device, edge, isTailPredictor(predictor));
        if (ctx.typical) (void)plan::addCodecCosts(*ctx.typical, model.spec, *cal, device, edge, false);
        if (ctx.tail) (void)plan::addCodecCosts(*ctx.tail, model.spec, *cal, device, edge, true);
    } else {
        ctx.codecNote = "no validation codec calibration of this model (run edgent calibrate --codecs)";
    }
    ctx.power = plan::PowerCoefficients{power.activeW, power.transmitW, power.idleW};
    return ctx;
}

}  // namespace edgent::core::control
