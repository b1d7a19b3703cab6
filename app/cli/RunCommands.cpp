// `edgent run` (co-inference on two real worker processes) and `edgent keys`.
#include "app/cli/CliCommon.h"
#include "app/cli/Planning.h"

#include "core/control/CoRun.h"
#include "core/energy/PowerModel.h"
#include "core/model/ModelFile.h"
#include "core/net/Curve.h"
#include "core/store/Export.h"
#include "core/store/RunStore.h"

#include <QDir>
#include <QFile>
#include <QStandardPaths>

#include <QJsonArray>

#include <atomic>
#include <optional>
#include <csignal>
#include <cstdio>

namespace edgent::app {

namespace {

std::atomic<bool> gCancel{false};

std::string defaultDatabasePath() {
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) + "/edgent-workbench";
    QDir().mkpath(dir);
    return (dir + "/runs.sqlite").toStdString();
}
extern "C" void onRunInterrupt(int) {
    gCancel.store(true);
    std::signal(SIGINT, SIG_DFL);
}

}  // namespace

int runRun(const QStringList& args) {
    Command cmd(QStringLiteral("run"),
                QStringLiteral("Runs co-inference on a real device worker and a real edge worker: the device streams "
                               "test images, runs layers [0, p) of the exit's path, sends the cut tensor through its "
                               "shaped uplink, and the edge runs [p, n)."),
                QStringLiteral("[--model MODEL] (--local | --device EP --edge EP) --bandwidth B --exit E --partition P "
                               "[--deadline D] [--count N] [--json]"));
    cmd.addOptions({
        {"model", "Model JSON (default: the shipped default model).", "MODEL"},
        {"local", "Spawn both workers on loopback (the default)."},
        {"device", "Control endpoint of a running device worker.", "EP"},
        {"edge", "Control endpoint of a running edge worker.", "EP"},
        {"bandwidth", "Uplink bandwidth the device's shaper enforces, e.g. 1Mbps.", "B", "100Mbps"},
        {"measure-only", "Do not shape: the link is really shaped (tc); measure its throughput."},
        {"exit", "Exit to run (0 = earliest; default: the final exit).", "E"},
        {"partition", "Partition point p: the device runs layers [0, p) (default: 0, edge-only).", "P"},
        {"deadline", "Latency deadline for the hit rate, e.g. 300ms.", "D"},
        {"count", "Inferences to run (default 100).", "N"},
        {"rate", "Inputs per second (default: back-to-back).", "HZ"},
        {"dataset", "Dataset the device streams (default fashion-mnist).", "NAME", "fashion-mnist"},
        {"data-dir", "Dataset folder on the device's host.", "DIR"},
        {"offset", "First test image (default 0).", "N"},
        {"curve-keys", "CURVE key folder for remote workers (see edgent keys).", "DIR"},
        {"threads", "LibTorch threads per local worker (default 1).", "N"},
        {"device-slowdown",
         "Local device only: emulate a device F times slower than this host (edgent-worker "
         "--slowdown), e.g. 4 for a Raspberry Pi-class device beside a laptop edge (default 1; with --policy, "
         "as when the device was profiled).",
         "F"},
        {"edge-threads", "LibTorch threads of the local edge worker (default: --threads).", "N"},
        {"db", "Run database (default: runs.sqlite in the user's data folder).", "DB"},
        {"experiment", "Experiment name the run belongs to (default: default).", "NAME", "default"},
        {"policy",
         "Plan exit and partition from the stored profile: edgent, device-only, edge-only, partition-only or exit-only (needs "
         "--deadline).",
         "P"},
        {"predictor", "With --policy: regression (default), regression-macs, lookup or lookup-p95 (tail-aware).", "NAME",
         "regression"},
        {"power-profile", "Device power model for energy: laptop (default) or raspberry-pi-3b (resources/power-profiles.json).",
         "NAME", "laptop"},
        {"trace",
         "Replay a bandwidth trace (CSV time_s,kbps) through the shaper; the run lasts the trace unless --count is given.",
         "FILE"},
        {"dynamic", "With --policy: follow the bandwidth live (estimator, change points, configuration map)."},
    });
    int code = 0;
    if (!cmd.parse(args, &code)) return code;
    auto& p = cmd.parser();
    core::control::CoRunOptions o;
    o.modelPath = p.isSet("model") ? p.value("model").toStdString() : core::defaultModelPath();
    auto bytes = core::readModelBytes(o.modelPath);
    if (!bytes) return cmd.fail(QString::fromStdString(bytes.error()));
    const core::ModelFile* model = &bytes->file;
    const bool remote = p.isSet("device") || p.isSet("edge");
    if (remote && p.isSet("local")) return cmd.fail("--local and --device/--edge exclude each other");
    if (remote && !(p.isSet("device") && p.isSet("edge"))) return cmd.fail("--device and --edge go together");
    o.local = !remote;
    o.deviceEndpoint = p.value("device").toStdString();
    o.edgeEndpoint = p.value("edge").toStdString();
    const auto bw = parseBandwidthBps(p.value("bandwidth"));
    if (!bw) return cmd.fail("--bandwidth must look like 50kbps, 1.5Mbps or 100Mbps, got '" + p.value("bandwidth") + "'");
    o.bandwidthBps = p.isSet("measure-only") ? 0.0 : *bw;
    if (p.isSet("dynamic") && !p.isSet("policy")) return cmd.fail("--dynamic needs --policy (and --deadline)");
    const int exits = model->spec.numExits();
    const auto exit = cmd.intOption("exit", exits - 1, 0, exits - 1, &code);
    if (!exit) return code;
    o.exit = static_cast<int>(*exit);
    const int n = model->spec.pathLength(o.exit);
    const auto partition = cmd.intOption("partition", 0, 0, n, &code);
    core::plan::BandwidthTrace trace;
    if (p.isSet("trace")) {
        if (p.isSet("measure-only")) return cmd.fail("--trace drives the shaper; it cannot be combined with --measure-only");
        auto t = core::plan::readBandwidthTrace(p.value("trace").toStdString());
        if (!t) return cmd.fail(QString::fromStdString(t.error()));
        trace = std::move(*t);
        o.trace = &trace;
        if (!p.isSet("count")) o.durationS = trace.durationS();
    }
    const auto count = cmd.intOption("count", o.trace ? 0 : 100, o.trace ? 0 : 1, 100'000'000, &code);
    const auto offset = cmd.intOption("offset", 0, 0, 100'000'000, &code);
    const auto threads = cmd.intOption("threads", 1, 1, 256, &code);
    if (!partition || !count || !offset || !threads) return code;
    o.partition = static_cast<int>(*partition);
    o.count = *count;
    o.offset = *offset;
    o.workerThreads = static_cast<int>(*threads);
    const auto edgeThreads = cmd.intOption("edge-threads", *threads, 1, 256, &code);
    if (!edgeThreads) return code;
    o.edgeThreads = static_cast<int>(*edgeThreads);
    // Checked here, before the database is touched; its default comes from the profile below.
    if (!cmd.numberOption("device-slowdown", 1.0, 1.0, 1000.0, &code)) return code;
    double deadlineMs = 0.0;
    if (p.isSet("deadline")) {
        const auto d = parseDurationMs(p.value("deadline"));
        if (!d) return cmd.fail("--deadline must look like 300ms or 1.2s, got '" + p.value("deadline") + "'");
        deadlineMs = *d;
    }
    if (p.isSet("rate")) {
        bool ok = false;
        o.rateHz = p.value("rate").toDouble(&ok);
        if (!ok || o.rateHz <= 0.0) return cmd.fail("--rate must be a positive number of inputs per second");
    }
    o.dataset = p.value("dataset").toStdString();
    o.dataDir = p.value("data-dir").toStdString();
    o.curveKeysDir = p.value("curve-keys").toStdString();

    // The run is recorded before it starts, so even a crash leaves a trace ("interrupted").
    const std::string dbPath = p.isSet("db") ? p.value("db").toStdString() : defaultDatabasePath();
    auto store = core::store::RunStore::open(dbPath);
    if (!store) return cmd.fail(QString::fromStdString(store.error()));
    auto power = core::energy::powerProfile(p.value("power-profile").toStdString());
    if (!power) return cmd.fail(QString::fromStdString(power.error()));
    const core::store::ModelRecord record = core::store::modelRecord(*bytes);
    auto modelId = (*store)->upsertModel(record);
    if (!modelId) return cmd.fail(QString::fromStdString(modelId.error()));
    double predictedMs = NAN;
    double profiledSlowdown = 1.0;
    std::optional<core::plan::ConfigurationMap> dynamicMap;
    std::string policyName = "manual";
    bool feasible = true;
    if (p.isSet("policy")) {
        if (p.isSet("exit") || p.isSet("partition"))
            return cmd.fail("--policy chooses the exit and partition; drop --exit and --partition");
        if (deadlineMs <= 0) return cmd.fail("--policy needs --deadline");
        auto policy = core::plan::policyFromName(p.value("policy").toStdString());
        if (!policy) return cmd.fail(QString::fromStdString(policy.error()));
        auto table = latencyTableFor(**store, *model, record.hash, p.value("predictor").toStdString());
        if (!table) return cmd.fail(QString::fromStdString(table.error()));
        double profiledOverheadMs = table->overheadMs();
        if (auto device = (*store)->latestProfile(record.hash, "device")) {
            profiledSlowdown = device->slowdown;
            profiledOverheadMs = device->overheadMs;
        }
        // The shaper's bandwidth is what the plan assumes; in measure-only mode, the stated one;
        // with a trace, its first value.
        const double assumedBps = o.trace ? trace.kbpsAt(0) * 1000.0 : *bw;
        if (o.trace) o.bandwidthBps = assumedBps;
        if (p.isSet("dynamic")) {
            dynamicMap.emplace(*table, model->spec.exitAccuracy, deadlineMs, *policy);
            o.dynamicMap = &*dynamicMap;
            o.messageOverheadMs = profiledOverheadMs;  // the typical cost, whatever the predictor adds
        }
        const auto chosen = dynamicMap
                                ? dynamicMap->planFor(assumedBps)
                                : core::plan::choosePlan(*table, model->spec.exitAccuracy, assumedBps, deadlineMs, *policy);
        o.exit = chosen.exit;
        o.partition = chosen.partition;
        predictedMs = chosen.predictedMs;
        feasible = chosen.feasible;
        policyName = core::plan::policyName(*policy);
    }
    // A planned run's local device defaults to the slowdown it was profiled with.
    const auto slowdown = cmd.numberOption("device-slowdown", profiledSlowdown, 1.0, 1000.0, &code);
    if (!slowdown) return code;
    o.deviceSlowdown = *slowdown;
    if (p.isSet("policy") && o.local && o.deviceSlowdown != profiledSlowdown)
        std::fprintf(stderr, "warning: the device was profiled with slowdown %g, this run uses %g; the plan will be off\n",
                     profiledSlowdown, o.deviceSlowdown);
    core::store::RunStart start;
    start.experiment = p.value("experiment").toStdString();
    start.modelId = *modelId;
    start.modelHash = record.hash;
    start.policy = policyName;
    start.params = {
        {"exit", std::to_string(o.exit)},
        {"partition", std::to_string(o.partition)},
        {"bandwidth_bps", QString::number(o.bandwidthBps, 'g', 12).toStdString()},
        {"shaping", o.bandwidthBps > 0 ? "shape" : "measure"},
        {"count", std::to_string(o.count)},
        {"rate_hz", QString::number(o.rateHz).toStdString()},
        {"deadline_ms", QString::number(deadlineMs).toStdString()},
        {"dataset", o.dataset},
        {"offset", std::to_string(o.offset)},
        {"workers", o.local ? std::string("local") : o.deviceEndpoint + " " + o.edgeEndpoint},
        {"power_profile", power->name},
        {"predicted_ms", std::isnan(predictedMs) ? std::string() : QString::number(predictedMs, 'g', 10).toStdString()},
        {"plan_feasible", feasible ? "true" : "false"},
        {"dynamic", dynamicMap ? "true" : "false"},
        {"device_slowdown", QString::number(o.deviceSlowdown).toStdString()},
        {"trace", p.value("trace").toStdString()}};
    auto runId = (*store)->beginRun(start);
    if (!runId) return cmd.fail(QString::fromStdString(runId.error()));
    auto writer = core::store::SampleWriter::start(dbPath, *runId);
    if (!writer) return cmd.fail(QString::fromStdString(writer.error()));
    auto* w = writer->get();

    std::signal(SIGINT, onRunInterrupt);
    const auto result = core::control::runCoInference(
        o,
        [w, predictedMs, profile = *power, map = dynamicMap ? &*dynamicMap : nullptr](const core::net::Sample& s) {
            // In dynamic mode the prediction is that of the plan in force, for its state.
            const double predicted = map && s.bandwidthStateBps >= 0
                                         ? map->planFor(static_cast<double>(s.bandwidthStateBps) * 1.0000001).predictedMs
                                         : predictedMs;
            w->add(core::store::SampleRow{s, predicted, profile.energyOf(s), profile.sourceOf(s)});
        },
        [w](const core::control::WorkerEvent& e) {
            core::store::EventRow row;
            row.tMs = e.atMs;
            row.wallTime = e.wallTime;
            row.kind = e.kind == "up" || e.kind == "down" ? "worker-" + e.kind : e.kind;
            row.role = e.controller ? std::string() : std::string(core::net::roleName(e.role));
            row.message = e.message;
            row.value = e.value;
            w->addEvent(row);
        },
        &gCancel);
    std::signal(SIGINT, SIG_DFL);
    const std::string status = result.failed ? "failed" : (gCancel.load() ? "interrupted" : "finished");
    if (auto f = w->finish(status, result.error); !f) return cmd.fail(QString::fromStdString(f.error()));
    const auto s = core::control::summarize(result.samples, deadlineMs);
    QJsonObject out;
    out["run_id"] = static_cast<qint64>(*runId);
    out["db"] = QString::fromStdString(dbPath);
    out["inferences"] = static_cast<qint64>(s.inferences);
    out["accuracy"] = s.accuracy;
    out["latency_ms_p50"] = s.latencyMsP50;
    out["latency_ms_p95"] = s.latencyMsP95;
    out["latency_ms_mean"] = s.latencyMsMean;
    out["deadline_hit_rate"] = s.deadlineHitRate >= 0 ? QJsonValue(s.deadlineHitRate) : QJsonValue::Null;
    out["timely_accuracy"] = s.timelyAccuracy >= 0 ? QJsonValue(s.timelyAccuracy) : QJsonValue::Null;
    out["deadline_ms"] = deadlineMs > 0 ? QJsonValue(deadlineMs) : QJsonValue::Null;
    out["predicted_ms"] = std::isnan(predictedMs) ? QJsonValue(QJsonValue::Null) : QJsonValue(predictedMs);
    out["policy"] = QString::fromStdString(policyName);
    out["feasible"] = feasible;
    out["exit"] = o.exit;
    out["partition"] = o.partition;
    out["path_length"] = model->spec.pathLength(o.exit);
    out["bandwidth_bps"] = o.bandwidthBps;
    out["shaping"] = o.bandwidthBps > 0 ? "shape" : "measure";
    out["bytes_sent_mean"] = s.bytesSentMean;
    out["device_ms_mean"] = s.deviceMsMean;
    out["transfer_ms_mean"] = s.transferMsMean;
    out["edge_ms_mean"] = s.edgeMsMean;
    out["throughput_bps_mean"] = s.throughputBpsMean;
    {
        double energy = 0;
        std::string source = power->sourceTag();
        for (const auto& x : result.samples) {
            energy += power->energyOf(x);
            source = power->sourceOf(x);
        }
        out["energy_mj_mean"] = result.samples.empty() ? 0.0 : energy / static_cast<double>(result.samples.size());
        out["energy_source"] = QString::fromStdString(source);
    }
    if (dynamicMap) {
        out["change_points"] = static_cast<qint64>(result.changePoints);
        out["reconfigurations"] = static_cast<qint64>(result.reconfigurations);
        // For every trace step: samples that arrived between the step and the next plan
        // switch, or null when no switch followed before the next step.
        QJsonArray delays;
        for (size_t i = 0; i < result.events.size(); ++i) {
            const auto& step = result.events[i];
            if (!step.controller || step.kind != "bandwidth") continue;
            QJsonValue delay = QJsonValue::Null;
            for (size_t j = i + 1; j < result.events.size(); ++j) {
                const auto& e = result.events[j];
                if (!e.controller) continue;
                if (e.kind == "bandwidth") break;
                if (e.kind == "plan") {
                    delay = static_cast<qint64>(e.samples - step.samples);
                    break;
                }
            }
            delays.append(delay);
        }
        out["switch_delay_samples"] = delays;
    }
    if (o.trace) out["trace"] = p.value("trace");
    out["frames_bad"] = result.edgeStats.value("frames_bad").toInteger();
    out["wall_seconds"] = result.wallSeconds;
    out["status"] = QString::fromStdString(status);
    if (result.failed) out["error"] = QString::fromStdString(result.error);
    // A run that never got going prints only its error; one that failed midway still
    // reports what it measured (the samples are in the database too).
    if (result.failed && s.inferences == 0) return cmd.fail(QString::fromStdString(result.error));
    if (cmd.json())
        printJson(out);
    else
        std::printf(
            "run %lld in %s: %lld inferences, exit %d, partition %d/%d: accuracy %.2f%%, latency p50 %.2f ms, p95 %.2f ms "
            "(device %.2f + transfer %.2f + edge %.2f ms), %.0f bytes sent\n",
            static_cast<long long>(*runId), dbPath.c_str(), static_cast<long long>(s.inferences), o.exit, o.partition,
            model->spec.pathLength(o.exit), 100 * s.accuracy, s.latencyMsP50, s.latencyMsP95, s.deviceMsMean, s.transferMsMean,
            s.edgeMsMean, s.bytesSentMean);
    if (result.failed) return cmd.fail(QString::fromStdString(result.error));
    return gCancel.load() ? 130 : 0;
}

int runKeys(const QStringList& args) {
    Command cmd(QStringLiteral("keys"),
                QStringLiteral("Creates a CURVE key folder: a server key pair for the workers and a client key pair "
                               "for the controller and the device. Copy the folder to the Pi."),
                QStringLiteral("--out DIR"));
    cmd.addOptions({{"out", "Folder to create.", "DIR"}});
    int code = 0;
    if (!cmd.parse(args, &code)) return code;
    if (!cmd.parser().isSet("out")) return cmd.fail("--out DIR is required");
    const std::string dir = cmd.parser().value("out").toStdString();
    if (auto s = core::net::generateCurveKeys(dir); !s) return cmd.fail(QString::fromStdString(s.error()));
    if (cmd.json()) {
        QJsonObject o;
        o["dir"] = QString::fromStdString(dir);
        printJson(o);
    } else {
        std::printf("CURVE keys written to %s\n", dir.c_str());
    }
    return 0;
}

}  // namespace edgent::app
