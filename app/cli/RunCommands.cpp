// `edgent run` (co-inference on two real worker processes) and `edgent keys`.
#include "app/cli/CliCommon.h"
#include "app/cli/Planning.h"

#include "core/control/LiveRun.h"
#include "core/energy/PowerModel.h"
#include "core/net/Curve.h"
#include "core/store/Export.h"
#include "core/store/RunStore.h"

#include <QJsonArray>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <optional>

namespace edgent::app {

namespace {

std::atomic<bool> gCancel{false};

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
                QStringLiteral("[--model MODEL] (--local | --device EP --edge EP) --bandwidth B (--exit E --partition P | "
                               "--policy P --deadline D) [--count N] [--json]"));
    cmd.addOptions({modelCliOption()});
    cmd.addOptions(workerCliOptions());
    cmd.addOptions(earlyExitCliOptions());
    cmd.addOptions({
        {"bandwidth", "Uplink bandwidth the device's shaper enforces, e.g. 1Mbps.", "B", "100Mbps"},
        {"measure-only",
         "Do not shape: the link is really shaped (tc); measure its throughput. A fleet of --device-list devices plans "
         "at --bandwidth(s) and shapes nothing."},
        {"exit", "Exit to run (0 = earliest; default: the final exit).", "E"},
        {"partition", "Partition point p: the device runs layers [0, p) (default: 0, edge-only).", "P"},
        {"deadline", "Latency deadline for the hit rate, e.g. 300ms.", "D"},
        {"count", "Inferences to run (default 100; with --trace, until the trace ends).", "N"},
        {"rate", "Inputs per second (default: back-to-back).", "HZ"},
        {"dataset", "Dataset the device streams (default fashion-mnist).", "NAME", "fashion-mnist"},
        {"data-dir", "Dataset folder on the device's host.", "DIR"},
        {"offset", "First test image (default 0).", "N"},
        {"shift",
         "The device streams its test images shifted: default, or key=value pairs (rotation, contrast, brightness, noise, "
         "occlusion, seed), as edgent adapt trains on (docs/adaptation.md).",
         "SPEC"},
        {"device-slowdown",
         "Local device only: emulate a device F times slower than this host (edgent-worker "
         "--slowdown), e.g. 4 for a Raspberry Pi-class device beside a laptop edge (default 1; with --policy, "
         "as when the device was profiled).",
         "F"},
        {"db", "Run database (default: runs.sqlite in the user's data folder).", "DB"},
        {"experiment", "Experiment name the run belongs to (default: default).", "NAME", "default"},
        {"policy",
         "Plan from the stored profile: edgent, device-only, edge-only, partition-only or exit-only; or per input "
         "(needs edgent calibrate): branchynet, appealnet, cascade or adaptive. Needs --deadline.",
         "P"},
        {"target-accuracy",
         "Per-input policies: reach at least this expected accuracy (e.g. 0.91 or 91%) at the least device energy, "
         "instead of the highest accuracy.",
         "A"},
        {"predictor", QStringLiteral("With --policy: ") + kPredictorHelp, "NAME", "auto"},
        {"power-profile", "Device power model for energy: laptop (default) or raspberry-pi-3b (resources/power-profiles.json).",
         "NAME", "laptop"},
        {"trace",
         "Replay a bandwidth trace (CSV time_s,kbps) through the shaper; the run lasts the trace unless --count is given. A "
         "static plan is made once, for the trace's first bandwidth.",
         "FILE"},
        {"dynamic", "With --policy: follow the bandwidth live (estimator, change points, configuration map)."},
    });
    cmd.addOptions({codecCliOption()});
    cmd.addOptions(fleetCliOptions());
    int code = 0;
    if (!cmd.parse(args, &code)) return code;
    auto& p = cmd.parser();
    auto bytes = readModelOption(cmd, &code);
    if (!bytes) return code;
    const core::ModelFile& model = bytes->file;
    core::control::LiveRunOptions o;
    const auto bw = parseBandwidthBps(p.value("bandwidth"));
    if (!bw) return cmd.fail("--bandwidth must look like 50kbps, 1.5Mbps or 100Mbps, got '" + p.value("bandwidth") + "'");
    o.bandwidthBps = p.isSet("measure-only") ? 0.0 : *bw;
    o.assumedBandwidthBps = *bw;
    if (p.isSet("dynamic") && !p.isSet("policy")) return cmd.fail("--dynamic needs --policy (and --deadline)");
    const int exits = model.spec.numExits();
    const auto exit = cmd.intOption("exit", exits - 1, 0, exits - 1, &code);
    if (!exit) return code;
    o.exit = static_cast<int>(*exit);
    const auto partition = cmd.intOption("partition", 0, 0, model.spec.pathLength(o.exit), &code);
    if (!partition) return code;
    o.partition = static_cast<int>(*partition);
    const auto early = earlyExitsOption(cmd, model.spec, o.exit, &code);
    if (!early) return code;
    o.early = *early;
    const auto target = targetAccuracyOption(cmd, &code);
    if (!target) return code;
    const auto codec = codecOption(cmd, p.isSet("policy"), &code);
    if (!codec) return code;
    if (!p.isSet("policy")) o.codec = core::net::codecFromName(*codec).value();
    if (p.isSet("trace")) {
        if (p.isSet("measure-only")) return cmd.fail("--trace drives the shaper; it cannot be combined with --measure-only");
        auto t = core::plan::readBandwidthTrace(p.value("trace").toStdString());
        if (!t) return cmd.fail(QString::fromStdString(t.error()));
        o.trace = std::move(*t);
    }
    const auto count = cmd.intOption("count", o.trace ? 0 : 100, o.trace ? 0 : 1, 100'000'000, &code);
    const auto offset = cmd.intOption("offset", 0, 0, 100'000'000, &code);
    if (!count || !offset) return code;
    o.count = *count;
    o.offset = *offset;
    if (p.isSet("shift")) {
        auto shift = core::parseShift(p.value("shift").toStdString());
        if (!shift) return cmd.fail(QString::fromStdString(shift.error()));
        o.shift = core::shiftToString(*shift);
    }
    // Checked here, before the database is touched; its default comes from the profile below.
    if (!cmd.numberOption("device-slowdown", 1.0, 1.0, 1000.0, &code)) return code;
    if (!workerLinkOptions(cmd, 1.0, &code)) return code;
    if (p.isSet("deadline")) {
        const auto d = parseDurationMs(p.value("deadline"));
        if (!d) return cmd.fail("--deadline must look like 300ms or 1.2s, got '" + p.value("deadline") + "'");
        o.deadlineMs = *d;
    }
    if (p.isSet("rate")) {
        bool ok = false;
        o.rateHz = p.value("rate").toDouble(&ok);
        if (!ok || o.rateHz <= 0.0) return cmd.fail("--rate must be a positive number of inputs per second");
    }
    o.dataset = p.value("dataset").toStdString();
    o.dataDir = p.value("data-dir").toStdString();
    o.experiment = p.value("experiment").toStdString();
    o.source = "cli";
    o.extraParams["trace"] = p.value("trace").toStdString();

    o.dbPath = p.isSet("db") ? p.value("db").toStdString() : defaultDatabasePath();
    auto store = core::store::RunStore::open(o.dbPath);
    if (!store) return cmd.fail(QString::fromStdString(store.error()));
    auto power = core::energy::powerProfile(p.value("power-profile").toStdString());
    if (!power) return cmd.fail(QString::fromStdString(power.error()));
    o.power = *power;
    const core::store::ModelRecord record = core::store::modelRecord(*bytes);
    auto modelId = (*store)->upsertModel(record);
    if (!modelId) return cmd.fail(QString::fromStdString(modelId.error()));
    o.modelId = *modelId;
    o.modelHash = record.hash;
    double profiledSlowdown = 1.0;
    std::string profiledWait;
    if (p.isSet("policy")) {
        if (p.isSet("exit") || p.isSet("partition") || p.isSet("early-exits"))
            return cmd.fail("--policy chooses the configuration; drop --exit, --partition and --early-exits");
        if (o.deadlineMs <= 0) return cmd.fail("--policy needs --deadline");
        auto policy = core::plan::policyFromName(p.value("policy").toStdString());
        if (!policy) return cmd.fail(QString::fromStdString(policy.error()));
        auto context = core::control::planContextFor(**store, model, record.hash, p.value("predictor").toStdString(), o.power);
        if (!context) return cmd.fail(QString::fromStdString(context.error()));
        core::control::RunPlanning planning;
        planning.context = std::move(*context);
        planning.goal.deadlineMs = o.deadlineMs;
        planning.goal.policy = *policy;
        planning.goal.targetAccuracy = *target;
        planning.goal.codec = *codec;
        if (auto s = core::plan::checkPlanInputs(planning.context, planning.goal); !s)
            return cmd.fail(QString::fromStdString(s.error()));
        planning.predictor = planning.context.predictor;
        planning.messageOverheadMs = planning.context.table.overheadMs();
        if (auto device = (*store)->latestProfile(record.hash, "device")) {
            profiledSlowdown = device->slowdown;
            profiledWait = device->slowdownWait;
            planning.messageOverheadMs = device->overheadMs;  // the typical cost, whatever the predictor adds
        }
        planning.dynamic = p.isSet("dynamic");
        o.planning = std::move(planning);
    }
    // A planned run's local device defaults to the slowdown it was profiled with, and waits as
    // it did then (a fleet's devices sleep unless told otherwise: docs/fleets.md).
    const auto slowdown = cmd.numberOption("device-slowdown", profiledSlowdown, 1.0, 1000.0, &code);
    if (!slowdown) return code;
    auto linkOptions = workerLinkOptions(cmd, *slowdown, &code, profiledWait.empty() ? "spin" : profiledWait);
    if (!linkOptions) return code;
    if (o.planning && linkOptions->local) {
        const bool fleetSleeps = wantsFleet(cmd) && !p.isSet("slowdown-wait");
        warnUnlikeProfile("this run", profiledSlowdown, profiledWait, *slowdown, fleetSleeps ? "sleep" : linkOptions->slowdownWait);
    }

    if (wantsFleet(cmd)) return runFleetCli(cmd, o, *linkOptions, *bytes);

    core::control::WorkerLink link(*linkOptions);
    if (auto s = link.start(); !s) return cmd.fail(QString::fromStdString(s.error()));
    if (auto s = link.loadModel(*bytes); !s) return cmd.fail(QString::fromStdString(s.error()));
    std::signal(SIGINT, onRunInterrupt);
    auto run = core::control::LiveRun::start(link, o);
    if (!run) return cmd.fail(QString::fromStdString(run.error()));
    const int64_t runId = (*run)->runId();
    bool interrupted = false;
    while (!(*run)->waitFor(100))
        if (gCancel.load() && !interrupted) {
            interrupted = true;
            (*run)->stop("interrupted");
        }
    std::signal(SIGINT, SIG_DFL);
    const core::control::LiveRunOutcome& result = (*run)->outcome();
    link.shutdown();
    const double deadlineMs = o.planning ? o.planning->goal.deadlineMs : o.deadlineMs;
    const auto s = core::control::summarize(result.samples, deadlineMs);
    const core::plan::PlanResult chosen = result.firstPlan.value_or(core::plan::PlanResult{});
    const int runExit = result.firstPlan ? chosen.exit : o.exit;
    const int runPartition = result.firstPlan ? chosen.partition : o.partition;
    QJsonObject out;
    out["run_id"] = static_cast<qint64>(runId);
    out["db"] = QString::fromStdString(o.dbPath);
    out["inferences"] = static_cast<qint64>(s.inferences);
    out["accuracy"] = s.accuracy;
    out["latency_ms_p50"] = s.latencyMsP50;
    out["latency_ms_p95"] = s.latencyMsP95;
    out["latency_ms_mean"] = s.latencyMsMean;
    out["deadline_hit_rate"] = s.deadlineHitRate >= 0 ? QJsonValue(s.deadlineHitRate) : QJsonValue::Null;
    out["timely_accuracy"] = s.timelyAccuracy >= 0 ? QJsonValue(s.timelyAccuracy) : QJsonValue::Null;
    out["deadline_ms"] = deadlineMs > 0 ? QJsonValue(deadlineMs) : QJsonValue::Null;
    out["predicted_ms"] = result.firstPlan ? QJsonValue(chosen.predictedMs) : QJsonValue(QJsonValue::Null);
    out["policy"] = o.planning ? QString(core::plan::policyName(o.planning->goal.policy)) : QStringLiteral("manual");
    const core::EarlyExits& runEarly = result.firstPlan ? chosen.early : o.early;
    if (runEarly.active()) {
        out["early_exits"] = core::earlyExitsToJson(runEarly);
        out["offload_rate"] = s.offloadRate;
        QJsonArray fractions;
        for (double f : s.exitFractions) fractions.append(f);
        out["exit_fractions"] = fractions;
    }
    if (result.firstPlan && core::plan::isAdaptive(chosen.policy)) {
        out["predicted_p95_ms"] = chosen.predictedP95Ms;
        out["expected_accuracy"] = chosen.accuracy;
        out["expected_energy_mj"] = chosen.energyMj;
        out["expected_offload_rate"] = chosen.offloadRate;
    }
    out["feasible"] = result.firstPlan ? chosen.feasible : true;
    out["exit"] = runExit;
    out["partition"] = runPartition;
    out["codec"] = QString::fromStdString(core::net::codecName(result.firstPlan ? chosen.codec : o.codec));
    out["encode_ms_mean"] = s.encodeMsMean;
    out["decode_ms_mean"] = s.decodeMsMean;
    out["path_length"] = model.spec.pathLength(runExit);
    out["bandwidth_bps"] = o.bandwidthBps;
    out["shaping"] = o.bandwidthBps > 0 ? "shape" : "measure";
    out["bytes_sent_mean"] = s.bytesSentMean;
    out["device_ms_mean"] = s.deviceMsMean;
    out["transfer_ms_mean"] = s.transferMsMean;
    out["edge_ms_mean"] = s.edgeMsMean;
    out["throughput_bps_mean"] = s.throughputBpsMean;
    out["energy_mj_mean"] = result.sampleCount ? result.energyMjSum / static_cast<double>(result.sampleCount) : 0.0;
    out["energy_source"] = QString::fromStdString(result.energySource.empty() ? power->sourceTag() : result.energySource);
    if (o.planning && o.planning->dynamic) {
        out["change_points"] = static_cast<qint64>(result.changePoints);
        out["reconfigurations"] = static_cast<qint64>(result.reconfigurations);
        QJsonArray delays;
        for (const auto& d : result.switchDelaySamples) delays.append(d ? QJsonValue(static_cast<qint64>(*d)) : QJsonValue());
        out["switch_delay_samples"] = delays;
    }
    if (o.trace) out["trace"] = p.value("trace");
    out["frames_bad"] = result.edgeStats.value("frames_bad").toInteger();
    out["wall_seconds"] = result.wallSeconds;
    out["status"] = QString::fromStdString(result.status);
    if (!result.error.empty()) out["error"] = QString::fromStdString(result.error);
    // A run that never got going prints only its error; one that failed midway still
    // reports what it measured (the samples are in the database too).
    const bool failed = result.status == "failed";
    if (failed && s.inferences == 0) return cmd.fail(QString::fromStdString(result.error));
    if (cmd.json())
        printJson(out);
    else
        std::printf(
            "run %lld in %s: %lld inferences, exit %d, partition %d/%d: accuracy %.2f%%, latency p50 %.2f ms, p95 %.2f ms "
            "(device %.2f + transfer %.2f + edge %.2f ms), %.0f bytes sent\n",
            static_cast<long long>(runId), o.dbPath.c_str(), static_cast<long long>(s.inferences), runExit, runPartition,
            model.spec.pathLength(runExit), 100 * s.accuracy, s.latencyMsP50, s.latencyMsP95, s.deviceMsMean, s.transferMsMean,
            s.edgeMsMean, s.bytesSentMean);
    if (failed) return cmd.fail(QString::fromStdString(result.error));
    return result.status == "interrupted" ? 130 : 0;
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
