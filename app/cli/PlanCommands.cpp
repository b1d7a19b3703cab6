// `edgent profile` (per-layer timing on both workers, regressions) and `edgent plan`.
#include "app/cli/CliCommon.h"
#include "app/cli/Planning.h"

#include "core/control/Controller.h"
#include "core/control/LocalWorkers.h"
#include "core/model/ModelFile.h"
#include "core/plan/Planner.h"
#include "core/store/Export.h"
#include "core/store/RunStore.h"

#include <QFile>
#include <QJsonArray>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>

namespace edgent::app {

using namespace edgent::core;
using net::Role;

namespace {

QJsonObject fitJson(const std::string& node, const plan::LinearFit& f) {
    QJsonArray c;
    for (double x : f.coefficients) c.append(x);
    QJsonArray names;
    names.append("intercept");
    for (const auto& n : tableOneFeatureNames(f.kind)) names.append(QString::fromStdString(n));
    if (f.coefficients.size() > static_cast<size_t>(names.size())) names.append("product");
    return QJsonObject{{"node", QString::fromStdString(node)},
                       {"features", plan::featureSetName(f.featureSet)},
                       {"kind", QString::fromStdString(std::string(layerKindName(f.kind)))},
                       {"coefficients", c},
                       {"terms", names},
                       {"r2", f.r2},
                       {"mape_heldout", std::isnan(f.mapeHeldOut) ? QJsonValue(QJsonValue::Null) : QJsonValue(f.mapeHeldOut)},
                       {"fitted", f.fitted},
                       {"held_out", f.heldOut}};
}

}  // namespace

// Builds the latency table for a model from the newest profile in the store.
Result<plan::LatencyTable> latencyTableFor(store::RunStore& db, const ModelFile& model, const std::string& modelHashHex,
                                           const std::string& predictor) {
    auto device = db.latestProfile(modelHashHex, "device");
    if (!device) return makeError(device.error());
    auto edge = db.latestProfile(modelHashHex, "edge");
    if (!edge) return makeError(edge.error());
    const double overhead = device->overheadMs;
    if (predictor == "regression") return plan::LatencyTable::fromRegressions(model.spec, device->regressions, edge->regressions, overhead);
    if (predictor == "regression-macs")
        return plan::LatencyTable::fromRegressions(model.spec, device->regressionsMacs, edge->regressionsMacs, overhead);
    if (predictor != "lookup") return makeError("unknown predictor '" + predictor + "' (regression, regression-macs or lookup)");
    std::vector<std::vector<double>> d, e;
    for (int x = 0; x < model.spec.numExits(); ++x) {
        d.emplace_back(static_cast<size_t>(model.spec.pathLength(x)), -1.0);
        e.emplace_back(static_cast<size_t>(model.spec.pathLength(x)), -1.0);
    }
    auto fill = [&](const store::StoredProfile& p, std::vector<std::vector<double>>& into) -> Status {
        for (const auto& t : p.result.layers)
            if (t.source == "model" && t.exit >= 0 && t.exit < model.spec.numExits() && t.layerIndex >= 0 &&
                t.layerIndex < model.spec.pathLength(t.exit))
                into[static_cast<size_t>(t.exit)][static_cast<size_t>(t.layerIndex)] = t.medianMs;
        for (const auto& row : into)
            for (double ms : row)
                if (ms < 0) return makeError("the " + p.node + " profile does not cover every layer of the model");
        return Status::success();
    };
    if (auto s = fill(*device, d); !s) return makeError(s.error());
    if (auto s = fill(*edge, e); !s) return makeError(s.error());
    return plan::LatencyTable::fromLayerTimes(model.spec, d, e, overhead);
}

int runProfile(const QStringList& args) {
    Command cmd(QStringLiteral("profile"),
                QStringLiteral("Times every layer of every exit path, and a synthetic sweep of layer configurations, "
                               "on the device worker and the edge worker; measures the per-message overhead; fits "
                               "Edgent's per-kind latency regressions; stores it all in the run database."),
                QStringLiteral("[--model MODEL] (--local | --device EP --edge EP) --db DB [--repeats N] [--json]"));
    cmd.addOptions({
        {"model", "Model JSON (default: the shipped default model).", "MODEL"},
        {"local", "Spawn both workers on loopback (the default)."},
        {"device", "Control endpoint of a running device worker.", "EP"},
        {"edge", "Control endpoint of a running edge worker.", "EP"},
        {"db", "Run database.", "DB"},
        {"repeats", "Timed repetitions per model layer (default 25).", "N"},
        {"no-synthetic", "Time only the model's own layers."},
        {"threads", "LibTorch threads per local worker (default 1).", "N"},
        {"device-slowdown", "Local device only: emulate a device F times slower than this host (edgent-worker "
                            "--slowdown), e.g. 4 for a Raspberry Pi-class device beside a laptop edge.", "F", "1"},
        {"edge-threads", "LibTorch threads of the local edge worker (default: --threads). On one host, more edge threads "
                         "make the edge the faster node, as it is in Edgent's setting.", "N"},
        {"curve-keys", "CURVE key folder for remote workers.", "DIR"},
    });
    int code = 0;
    if (!cmd.parse(args, &code)) return code;
    auto& p = cmd.parser();
    if (!p.isSet("db")) return cmd.fail("--db DB is required");
    const auto repeats = cmd.intOption("repeats", 25, 3, 1000, &code);
    const auto threads = cmd.intOption("threads", 1, 1, 256, &code);
    if (!repeats || !threads) return code;
    const auto edgeThreads = cmd.intOption("edge-threads", *threads, 1, 256, &code);
    if (!edgeThreads) return code;
    bool slowOk = false;
    const double slowdown = p.value("device-slowdown").toDouble(&slowOk);
    if (!slowOk || slowdown < 1.0 || slowdown > 1000.0) return cmd.fail("--device-slowdown must be a number from 1 to 1000");
    const bool remote = p.isSet("device") || p.isSet("edge");
    if (remote && !(p.isSet("device") && p.isSet("edge"))) return cmd.fail("--device and --edge go together");
    const std::string modelPath = p.isSet("model") ? p.value("model").toStdString() : defaultModelPath();
    auto bytes = readModelBytes(modelPath);
    if (!bytes) return cmd.fail(QString::fromStdString(bytes.error()));
    const ModelFile* model = &bytes->file;
    auto db = store::RunStore::open(p.value("db").toStdString());
    if (!db) return cmd.fail(QString::fromStdString(db.error()));
    auto modelId = (*db)->upsertModel(store::modelRecord(*bytes));
    if (!modelId) return cmd.fail(QString::fromStdString(modelId.error()));

    control::SpawnedWorker localDevice, localEdge;
    std::string deviceEp = p.value("device").toStdString(), edgeEp = p.value("edge").toStdString();
    const std::string keys = p.value("curve-keys").toStdString();
    if (!remote) {
        if (auto s = control::spawnWorker(localEdge, Role::Edge, static_cast<int>(*edgeThreads), keys); !s)
            return cmd.fail(QString::fromStdString(s.error()));
        if (auto s = control::spawnWorker(localDevice, Role::Device, static_cast<int>(*threads), keys, 15000, slowdown); !s)
            return cmd.fail(QString::fromStdString(s.error()));
        deviceEp = localDevice.controlEndpoint;
        edgeEp = localEdge.controlEndpoint;
    }
    std::mutex mutex;
    std::condition_variable changed;
    std::map<Role, QJsonObject> done;
    std::map<Role, std::string> failed;
    std::vector<net::Sample> calibration;
    control::Controller::Options copts;
    copts.curveKeysDir = keys;
    control::Controller c(copts);
    c.setSampleHandler([&](const net::Sample& s) {
        std::lock_guard lock(mutex);
        calibration.push_back(s);
        changed.notify_all();
    });
    c.setEventHandler([&](const control::WorkerEvent& e) {
        std::lock_guard lock(mutex);
        if (e.kind == "profile-progress" && !cmd.json())
            std::fprintf(stderr, "%s: %s\n", net::roleName(e.role), e.message.c_str());
        if (e.kind == "profile-error" || e.kind == "down" || e.kind == "stream-error") failed[e.role] = e.message;
        changed.notify_all();
    });
    // profile-done carries the payload; the Controller hands events over as WorkerEvent,
    // so ask each worker for it through a dedicated request below.
    auto shutdown = [&] {
        if (remote) return;
        for (Role r : {Role::Device, Role::Edge})
            if (c.info(r).alive) (void)c.call(r, "shutdown", {}, 2000);
        localDevice.process.stop(3000);
        localEdge.process.stop(3000);
    };
    auto failWith = [&](const std::string& why) {
        shutdown();
        return cmd.fail(QString::fromStdString(why));
    };
    for (auto [role, ep] : {std::pair{Role::Edge, edgeEp}, std::pair{Role::Device, deviceEp}}) {
        if (auto s = c.connect(role, ep, 15000); !s) return failWith(s.error());
        if (auto l = c.call(role, "load-model", {}, 20000, {bytes->specText, bytes->weights}); !l) return failWith(l.error());
    }
    const auto started = std::chrono::steady_clock::now();
    QJsonObject request{{"repeats", static_cast<int>(*repeats)}, {"synthetic", !p.isSet("no-synthetic")}};
    // One worker after the other: when both share a host (local workers), profiling them
    // at once would time each while the other competes for the cores and the memory bus.
    const auto deadline = started + std::chrono::minutes(20);
    for (Role r : {Role::Edge, Role::Device}) {
        if (auto s = c.call(r, "profile", request, 5000); !s) return failWith(s.error());
        while (!done.count(r)) {
            {
                std::unique_lock lock(mutex);
                if (!failed.empty()) return failWith(std::string(net::roleName(failed.begin()->first)) + " worker: " + failed.begin()->second);
                changed.wait_for(lock, std::chrono::milliseconds(200));
            }
            auto result = c.call(r, "profile-result", {}, 10000);
            if (!result) return failWith(result.error());
            if (result->value("ready").toBool()) done[r] = result->value("profile").toObject();
            if (std::chrono::steady_clock::now() > deadline) return failWith("profiling did not finish within 20 minutes");
        }
    }
    const double profileSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    // Per-message overhead: small frames at full speed, no shaping; what remains of the
    // transfer time is the fixed cost of a message.
    const int last = model->spec.numExits() - 1;
    const int n = model->spec.pathLength(last);
    QJsonObject cfg{{"exit", last}, {"partition", n - 1}, {"bandwidth_bps", 0.0},
                    {"edge_endpoint", QString::fromStdString(c.info(Role::Edge).dataEndpoint)}};
    if (auto r = c.call(Role::Device, "configure", cfg); !r) return failWith(r.error());
    if (auto r = c.call(Role::Device, "start-stream", QJsonObject{{"count", 40}}); !r) return failWith(r.error());
    {
        std::unique_lock lock(mutex);
        if (!changed.wait_for(lock, std::chrono::seconds(60), [&] { return calibration.size() >= 40 || !failed.empty(); }))
            return failWith("the overhead calibration stream did not finish within 60 s");
    }
    std::vector<double> transfer;
    for (const auto& s : calibration) transfer.push_back(s.transferMs);
    std::sort(transfer.begin(), transfer.end());
    const double overheadMs = transfer[transfer.size() / 2];

    QJsonArray fits;
    QJsonObject nodes;
    for (Role r : {Role::Device, Role::Edge}) {
        auto parsed = profile::profileFromJson(done[r]);
        if (!parsed) return failWith(parsed.error());
        const std::string node = net::roleName(r);
        profile::ProfileOptions opts;
        opts.repeats = static_cast<int>(*repeats);
        const QJsonObject hello = c.info(r).hello;
        opts.slowdown = hello.value("slowdown").toDouble(1.0);
        auto id = (*db)->saveProfile(*modelId, node, hello.value("host").toString().toStdString(), hello.value("threads").toInt(),
                                     opts, *parsed, overheadMs);
        if (!id) return failWith(id.error());
        std::map<LayerKind, std::vector<plan::Observation>> byKind;
        for (const auto& t : parsed->layers) byKind[t.kind].push_back(plan::Observation{t.features, t.medianMs});
        for (const auto& [kind, obs] : byKind)
            for (auto set : {plan::FeatureSet::TableOne, plan::FeatureSet::TableOneMacs}) {
                auto fit = plan::fitLinear(kind, obs, 4, 1, set);
                if (!fit) continue;  // a kind with too few points keeps no regression
                if (auto s = (*db)->saveRegression(*id, node, *fit); !s) return failWith(s.error());
                fits.append(fitJson(node, *fit));
            }
        nodes[QString::fromStdString(node)] = QJsonObject{{"profile_id", static_cast<qint64>(*id)},
                                                          {"layers_timed", static_cast<int>(parsed->layers.size())},
                                                          {"seconds", parsed->seconds},
                                                          {"host", hello.value("host")}};
    }
    shutdown();
    QJsonObject out{{"model", QString::fromStdString(model->spec.name)},
                    {"nodes", nodes},
                    {"regressions", fits},
                    {"message_overhead_ms", overheadMs},
                    {"seconds", profileSeconds}};
    if (cmd.json()) printJson(out);
    else {
        std::printf("profiled %s on both workers in %.1f s; per-message overhead %.3f ms\n", model->spec.name.c_str(),
                    profileSeconds, overheadMs);
        std::printf("%-7s %-10s %-12s %8s %14s %6s\n", "node", "kind", "features", "R2", "heldout MAPE", "points");
        for (const auto& v : fits) {
            const QJsonObject f = v.toObject();
            std::printf("%-7s %-10s %-12s %8.4f %13.1f%% %6d\n", f["node"].toString().toLocal8Bit().constData(),
                        f["kind"].toString().toLocal8Bit().constData(), f["features"].toString().toLocal8Bit().constData(),
                        f["r2"].toDouble(), 100 * f["mape_heldout"].toDouble(),
                        f["fitted"].toInt() + f["held_out"].toInt());
        }
    }
    return 0;
}

int runPlan(const QStringList& args) {
    Command cmd(QStringLiteral("plan"),
                QStringLiteral("Chooses the exit and partition for a bandwidth and a deadline from the stored "
                               "profile: Edgent's optimizer or one of the paper's baselines."),
                QStringLiteral("[--model MODEL] --db DB --bandwidth B --deadline D [--policy P] [--predictor regression|lookup] [--json]"));
    cmd.addOptions({
        {"model", "Model JSON (default: the shipped default model).", "MODEL"},
        {"db", "Run database holding a profile of the model (edgent profile).", "DB"},
        {"bandwidth", "Uplink bandwidth, e.g. 400kbps.", "B"},
        {"deadline", "Latency deadline, e.g. 300ms.", "D"},
        {"policy", "edgent (default), device-only, edge-only, partition-only or exit-only.", "P", "edgent"},
        {"predictor", "regression (default: Edgent's Table-1 fits), regression-macs (plus a MAC term for conv and fc) or lookup (measured per-layer medians).", "NAME", "regression"},
    });
    int code = 0;
    if (!cmd.parse(args, &code)) return code;
    auto& p = cmd.parser();
    for (const char* required : {"db", "bandwidth", "deadline"})
        if (!p.isSet(required)) return cmd.fail(QStringLiteral("--%1 is required").arg(required));
    auto policy = plan::policyFromName(p.value("policy").toStdString());
    if (!policy) return cmd.fail(QString::fromStdString(policy.error()));
    const auto bandwidth = parseBandwidthBps(p.value("bandwidth"));
    if (!bandwidth) return cmd.fail("--bandwidth must be positive and look like 50kbps, 1.5Mbps or 100Mbps, got '" + p.value("bandwidth") + "'");
    const auto deadline = parseDurationMs(p.value("deadline"));
    if (!deadline) return cmd.fail("--deadline must be positive and look like 300ms or 1.2s, got '" + p.value("deadline") + "'");
    const std::string modelPath = p.isSet("model") ? p.value("model").toStdString() : defaultModelPath();
    auto bytes = readModelBytes(modelPath);
    if (!bytes) return cmd.fail(QString::fromStdString(bytes.error()));
    const ModelFile* model = &bytes->file;
    auto db = store::RunStore::open(p.value("db").toStdString(), store::RunStore::Mode::ReadOnly);
    if (!db) return cmd.fail(QString::fromStdString(db.error()));
    auto table = latencyTableFor(**db, *model, store::modelHash(bytes->specText, bytes->weights), p.value("predictor").toStdString());
    if (!table) return cmd.fail(QString::fromStdString(table.error()));
    const auto chosen = plan::choosePlan(*table, model->spec.exitAccuracy, *bandwidth, *deadline, *policy);
    const QJsonObject out{{"policy", plan::policyName(chosen.policy)},
                          {"exit", chosen.exit},
                          {"partition", chosen.partition},
                          {"path_length", table->pathLength(chosen.exit)},
                          {"predicted_ms", chosen.predictedMs},
                          {"accuracy", chosen.accuracy},
                          {"feasible", chosen.feasible},
                          {"bandwidth_bps", *bandwidth},
                          {"deadline_ms", *deadline},
                          {"predictor", p.value("predictor")}};
    if (cmd.json()) printJson(out);
    else
        std::printf("%s: exit %d, partition %d/%d, predicted %.2f ms, accuracy %.2f%%%s\n", plan::policyName(chosen.policy),
                    chosen.exit, chosen.partition, table->pathLength(chosen.exit), chosen.predictedMs, 100 * chosen.accuracy,
                    chosen.feasible ? "" : " (no configuration meets the deadline; fastest offered)");
    return 0;
}

}  // namespace edgent::app
