// `edgent profile` (per-layer timing on both workers, regressions) and `edgent plan`.
#include "app/cli/CliCommon.h"
#include "app/cli/Planning.h"

#include "core/control/Controller.h"
#include "core/control/ProfileRun.h"
#include "core/control/LocalWorkers.h"
#include "core/model/ModelFile.h"
#include "core/plan/Adaptive.h"
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

int runProfile(const QStringList& args) {
    Command cmd(QStringLiteral("profile"),
                QStringLiteral("Times every layer of every exit path, and a synthetic sweep of layer configurations, "
                               "on the device worker and the edge worker; measures the per-message overhead; fits "
                               "Edgent's per-kind latency regressions; stores it all in the run database."),
                QStringLiteral("[--model MODEL] (--local | --device EP --edge EP) --db DB [--repeats N] [--json]"));
    cmd.addOptions({modelCliOption()});
    cmd.addOptions(workerCliOptions());
    cmd.addOptions({
        {"db", "Run database.", "DB"},
        {"repeats", "Timed repetitions per model layer (default 25).", "N"},
        {"no-synthetic", "Time only the model's own layers."},
        {"adaptive-rounds",
         "Rounds of adaptive sampling after the fixed synthetic sweep: 40 new configurations each, where the latency "
         "forest errs (default 3; 0: none).",
         "N"},
        {"spread",
         "Spread each layer's repeats over N passes through the model and the synthetic sweep (default 25, one "
         "model repeat per pass; 1: back to back). A core of a shared host can run at half speed for seconds; spread, such a stretch "
         "reaches only some of each layer's repeats.",
         "N"},
        {"span",
         "Pace those passes over at least S seconds on each worker (default 10; 0: no pacing).", "S"},
        {"device-slowdown",
         "Local device only: emulate a device F times slower than this host (edgent-worker "
         "--slowdown), e.g. 4 for a Raspberry Pi-class device beside a laptop edge.",
         "F", "1"},
    });
    int code = 0;
    if (!cmd.parse(args, &code)) return code;
    auto& p = cmd.parser();
    if (!p.isSet("db")) return cmd.fail("--db DB is required");
    const auto repeats = cmd.intOption("repeats", 25, 3, 1000, &code);
    if (!repeats) return code;
    const auto adaptiveRounds = cmd.intOption("adaptive-rounds", 3, 0, 50, &code);
    if (!adaptiveRounds) return code;
    const auto spread = cmd.intOption("spread", core::control::ProfileRunOptions{}.spread, 1, 100, &code);
    if (!spread) return code;
    const auto span = cmd.numberOption("span", 10.0, 0.0, 600.0, &code);
    if (!span) return code;
    const auto slowdown = cmd.numberOption("device-slowdown", 1.0, 1.0, 1000.0, &code);
    if (!slowdown) return code;
    auto linkOptions = workerLinkOptions(cmd, *slowdown, &code);
    if (!linkOptions) return code;
    auto bytes = readModelOption(cmd, &code);
    if (!bytes) return code;
    const ModelFile* model = &bytes->file;
    auto db = store::RunStore::open(p.value("db").toStdString());
    if (!db) return cmd.fail(QString::fromStdString(db.error()));
    auto modelId = (*db)->upsertModel(store::modelRecord(*bytes));
    if (!modelId) return cmd.fail(QString::fromStdString(modelId.error()));

    control::WorkerLink link(*linkOptions);
    auto failWith = [&](const std::string& why) {
        link.shutdown();
        return cmd.fail(QString::fromStdString(why));
    };
    if (auto s = link.start(); !s) return failWith(s.error());
    if (auto s = link.loadModel(*bytes); !s) return failWith(s.error());
    control::ProfileRunOptions options;
    options.repeats = static_cast<int>(*repeats);
    options.synthetic = !p.isSet("no-synthetic");
    options.adaptiveRounds = static_cast<int>(*adaptiveRounds);
    options.spread = static_cast<int>(*spread);
    options.spanSeconds = *span;
    std::mutex printing;
    auto run = control::profileWorkers(link.controller(), *model, options, [&](const control::ProfileRunProgress& pr) {
        if (cmd.json()) return;
        std::lock_guard lock(printing);
        std::fprintf(stderr, "%s: %s %d/%d\n", net::roleName(pr.role), pr.stage.c_str(), pr.done, pr.total);
    });
    if (!run) return failWith(run.error());
    auto stored = control::saveProfileRun(**db, *modelId, *run, options);
    if (!stored) return failWith(stored.error());
    const double profileSeconds = run->seconds;
    const double overheadMs = run->overheadMs;
    QJsonArray fits;
    for (const auto& f : *stored) fits.append(fitJson(f.node, f.fit));
    QJsonObject nodes;
    for (const auto& node : run->nodes) {
        nodes[net::roleName(node.role)] = QJsonObject{{"layers_timed", static_cast<int>(node.result.layers.size())},
                                                      {"adaptive_rounds", profile::roundsToJson(node.result.rounds)},
                                                      {"seconds", node.result.seconds},
                                                      {"host", node.hello.value("host")},
                                                      {"slowdown", node.hello.value("slowdown")},
                                                      {"run_tail_ratio", node.tailRatio},
                                                      {"slice_ms", node.sliceMs}};
    }
    link.shutdown();
    auto checks = control::checkForests(*run);
    if (!checks) return failWith(checks.error());
    QJsonArray forests;
    for (const auto& c : *checks)
        forests.append(QJsonObject{{"node", QString::fromStdString(c.node)},
                                   {"heldout_points", c.heldOut.points},
                                   {"heldout_mape", c.heldOut.mape},
                                   {"heldout_within_10pct", c.heldOut.within10},
                                   {"model_from_sweep_points", c.unseenModel.points},
                                   {"model_from_sweep_mape", c.unseenModel.mape},
                                   {"model_from_sweep_within_10pct", c.unseenModel.within10}});
    QJsonObject out{{"model", QString::fromStdString(model->spec.name)},
                    {"nodes", nodes},
                    {"forests", forests},
                    {"regressions", fits},
                    {"message_overhead_ms", overheadMs},
                    {"message_overhead_p95_ms", run->overheadP95Ms},
                    {"seconds", profileSeconds}};
    if (cmd.json())
        printJson(out);
    else {
        std::printf("profiled %s on both workers in %.1f s; per-message overhead %.3f ms (p95 %.3f ms)\n",
                    model->spec.name.c_str(), profileSeconds, overheadMs, run->overheadP95Ms);
        for (const auto& node : run->nodes)
            std::printf("%s: fixed cost of a slice %.3f ms, run tail ratio %.2f\n", net::roleName(node.role), node.sliceMs,
                        node.tailRatio);
        std::printf("%-7s %-10s %-12s %8s %14s %6s\n", "node", "kind", "features", "R2", "heldout MAPE", "points");
        for (const auto& v : fits) {
            const QJsonObject f = v.toObject();
            std::printf("%-7s %-10s %-12s %8.4f %13.1f%% %6d\n", f["node"].toString().toLocal8Bit().constData(),
                        f["kind"].toString().toLocal8Bit().constData(), f["features"].toString().toLocal8Bit().constData(),
                        f["r2"].toDouble(), 100 * f["mape_heldout"].toDouble(), f["fitted"].toInt() + f["held_out"].toInt());
        }
        for (const auto& node : run->nodes)
            for (const auto& r : node.result.rounds)
                std::printf("%-7s adaptive sweep round %d: %d new configurations (%d near earlier misses), predicted by the "
                            "forest on %d points before measuring: %.1f%% within +-10%%, MAPE %.1f%%\n",
                            net::roleName(node.role), r.round, r.points, r.refined, r.fittedOn, 100 * r.within10, 100 * r.mape);
        std::printf("forest (boosted trees on each layer's configuration), layers it never saw:\n");
        for (const auto& c : *checks)
            std::printf("%-7s every 4th row held out: %.1f%% within +-10%%, MAPE %.1f%% (%d rows); the model's layers from "
                        "the sweep alone: %.1f%% within +-10%%, MAPE %.1f%% (%d rows)\n",
                        c.node.c_str(), 100 * c.heldOut.within10, 100 * c.heldOut.mape, c.heldOut.points,
                        100 * c.unseenModel.within10, 100 * c.unseenModel.mape, c.unseenModel.points);
        for (const auto& c : *checks)
            for (const auto& k : c.heldOut.kinds)
                std::printf("%-7s   %-10s held out: %5.1f%% within +-10%%, MAPE %6.1f%%, %3d rows, median %.4f ms\n",
                            c.node.c_str(), layerKindName(k.kind).data(), 100 * k.within10, 100 * k.mape, k.points, k.medianMs);
    }
    return 0;
}

int runPlan(const QStringList& args) {
    Command cmd(QStringLiteral("plan"),
                QStringLiteral("Chooses the exit and partition for a bandwidth and a deadline from the stored "
                               "profile: Edgent's optimizer or one of the paper's baselines."),
                QStringLiteral(
                    "[--model MODEL] --db DB --bandwidth B --deadline D [--policy P] [--predictor NAME] [--json]"));
    cmd.addOptions({modelCliOption()});
    cmd.addOptions({
        {"db", "Run database holding a profile of the model (edgent profile).", "DB"},
        {"bandwidth", "Uplink bandwidth, e.g. 400kbps.", "B"},
        {"deadline", "Latency deadline, e.g. 300ms.", "D"},
        {"policy",
         "edgent (default), device-only, edge-only, partition-only or exit-only; per input (after edgent calibrate): "
         "branchynet, appealnet, cascade or adaptive.",
         "P", "edgent"},
        {"target-accuracy", "Per-input policies: reach at least this expected accuracy at the least device energy.", "A"},
        {"power-profile", "Device power model for the expected energy (default laptop).", "NAME", "laptop"},
        {"predictor", kPredictorHelp, "NAME", "auto"},
    });
    cmd.addOptions({codecCliOption()});
    int code = 0;
    if (!cmd.parse(args, &code)) return code;
    auto& p = cmd.parser();
    const auto codec = codecOption(cmd, true, &code);
    if (!codec) return code;
    for (const char* required : {"db", "bandwidth", "deadline"})
        if (!p.isSet(required)) return cmd.fail(QStringLiteral("--%1 is required").arg(required));
    auto policy = plan::policyFromName(p.value("policy").toStdString());
    if (!policy) return cmd.fail(QString::fromStdString(policy.error()));
    const auto bandwidth = parseBandwidthBps(p.value("bandwidth"));
    if (!bandwidth)
        return cmd.fail("--bandwidth must be positive and look like 50kbps, 1.5Mbps or 100Mbps, got '" + p.value("bandwidth") +
                        "'");
    const auto deadline = parseDurationMs(p.value("deadline"));
    if (!deadline) return cmd.fail("--deadline must be positive and look like 300ms or 1.2s, got '" + p.value("deadline") + "'");
    auto bytes = readModelOption(cmd, &code);
    if (!bytes) return code;
    const ModelFile* model = &bytes->file;
    auto db = store::RunStore::open(p.value("db").toStdString(), store::RunStore::Mode::ReadOnly);
    if (!db) return cmd.fail(QString::fromStdString(db.error()));
    auto power = energy::powerProfile(p.value("power-profile").toStdString());
    if (!power) return cmd.fail(QString::fromStdString(power.error()));
    const auto target = targetAccuracyOption(cmd, &code);
    if (!target) return code;
    auto context = control::planContextFor(**db, *model, store::modelHash(bytes->specText, bytes->weights),
                                           p.value("predictor").toStdString(), *power);
    if (!context) return cmd.fail(QString::fromStdString(context.error()));
    auto planned = plan::makePlan(*context, plan::PlanGoal{*deadline, *policy, *target, *codec}, *bandwidth);
    if (!planned) return cmd.fail(QString::fromStdString(planned.error()));
    const plan::PlanResult& chosen = *planned;
    const int n = model->spec.pathLength(chosen.exit);
    QJsonObject out{{"policy", plan::policyName(chosen.policy)},
                    {"exit", chosen.exit},
                    {"partition", chosen.partition},
                    {"path_length", n},
                    {"predicted_ms", chosen.predictedMs},
                    {"predicted_p95_ms", chosen.predictedP95Ms},
                    {"energy_mj", chosen.energyMj},
                    {"accuracy", chosen.accuracy},
                    {"feasible", chosen.feasible},
                    {"bandwidth_bps", *bandwidth},
                    {"deadline_ms", *deadline},
                    {"predictor", QString::fromStdString(context->predictor)},
                    {"codec", QString::fromStdString(net::codecName(chosen.codec))},
                    {"codec_goal", QString::fromStdString(*codec)}};
    if (!context->codecNote.empty()) out["codec_note"] = QString::fromStdString(context->codecNote);
    if (chosen.early.active()) {
        out["early_exits"] = earlyExitsToJson(chosen.early);
        out["offload_rate"] = chosen.offloadRate;
        QJsonArray fractions;
        for (double f : chosen.exitFractions) fractions.append(f);
        out["exit_fractions"] = fractions;
        out["meets_target"] = chosen.meetsTarget;
        out["accuracy_source"] = "validation calibration";
    }
    if (cmd.json())
        printJson(out);
    else if (chosen.early.active())
        std::printf("%s: %s; expected %.2f ms (p95 %.2f ms), accuracy %.2f%%, %.0f%% offloaded, %.1f mJ on the device%s\n",
                    plan::policyName(chosen.policy), plan::describePlan(chosen).c_str(), chosen.predictedMs,
                    chosen.predictedP95Ms, 100 * chosen.accuracy, 100 * chosen.offloadRate, chosen.energyMj,
                    chosen.feasible ? "" : " (nothing meets the deadline; fastest offered)");
    else
        std::printf("%s: exit %d, partition %d/%d%s%s, predicted %.2f ms, accuracy %.2f%%%s\n", plan::policyName(chosen.policy),
                    chosen.exit, chosen.partition, n, chosen.codec.identity() ? "" : ", codec ",
                    chosen.codec.identity() ? "" : net::codecName(chosen.codec).c_str(), chosen.predictedMs, 100 * chosen.accuracy,
                    chosen.feasible ? "" : " (no configuration meets the deadline; fastest offered)");
    if (!cmd.json())
        std::printf("latency model: %s%s\n", context->predictor.c_str(),
                    control::predictorIsFitted(context->predictor)
                        ? " (predicted from the layers' configurations, not measured on this model)"
                        : " (this model's measured layers)");
    if (!cmd.json() && *codec == "auto" && !context->codecNote.empty())
        std::printf("codec: fp32 only: %s\n", context->codecNote.c_str());
    return 0;
}

}  // namespace edgent::app
