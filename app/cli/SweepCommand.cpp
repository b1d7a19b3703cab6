// `edgent sweep`: a bandwidth x deadline grid for one or more policies. Every point is
// planned from the stored profile, run on real workers, stored as a run, and written as a
// row of a CSV table (the raw material for Edgent's Figs. 6-9).
#include "app/cli/CliCommon.h"
#include "app/cli/Planning.h"

#include "core/control/PlannedPoint.h"
#include "core/energy/PowerModel.h"
#include "core/store/Export.h"

#include <QJsonArray>

#include <cstdio>

namespace edgent::app {

using namespace edgent::core;

int runSweep(const QStringList& args) {
    Command cmd(
        QStringLiteral("sweep"),
        QStringLiteral("Runs a bandwidth x deadline grid for one or more policies on local (or remote) workers: each point "
                       "is planned from the stored profile, run, stored as a run, and written as a CSV row. With --devices, every point is "
                       "a fleet of local devices sharing one edge, once per device count, planning and edge server count."),
        QStringLiteral("--db DB --bandwidths B,... --deadlines D,... [--policies P,...] [--codecs C,...] [--count N] "
                       "[--devices N,... [--plannings independent,joint,paced] [--edges E,...] [--edge-servers K,...]] --out TABLE.csv"));
    cmd.addOptions({modelCliOption()});
    cmd.addOptions(workerCliOptions());
    cmd.addOptions(fleetSweepCliOptions());
    cmd.addOptions({
        {"db", "Run database holding a profile of the model (edgent profile).", "DB"},
        {"bandwidths", "Comma-separated bandwidths, e.g. 400kbps,1Mbps.", "LIST"},
        {"deadlines", "Comma-separated deadlines, e.g. 10ms,50ms,100ms.", "LIST"},
        {"policies",
         "Comma-separated policies (default: Edgent's and its four baselines); the per-input ones, branchynet, appealnet, "
         "cascade and adaptive, need edgent calibrate first.",
         "LIST", "edgent,device-only,edge-only,partition-only,exit-only"},
        {"target-accuracy", "Per-input policies: the expected accuracy to reach at the least device energy.", "A"},
        {"codecs",
         "Comma-separated codecs of the cut tensor to sweep: auto (the planner chooses) and/or codecs pinned (fp32, fp16, "
         "int8, fp32+zstd, fp16+zstd, int8+zstd; docs/codecs.md). Default: auto.",
         "LIST", "auto"},
        {"predictor", kPredictorHelp, "NAME", "auto"},
        {"count", "Inferences per point (per device in a fleet; default 30).", "N"},
        {"rate", "Inputs per second of every run (default: back-to-back).", "HZ"},
        {"power-profile", "Device power model (default laptop).", "NAME", "laptop"},
        {"device-slowdown", "Emulate a device F times slower than this host (default: as when the device was profiled).", "F"},
        {"out", "CSV table to write.", "TABLE"},
    });
    int code = 0;
    if (!cmd.parse(args, &code)) return code;
    auto& p = cmd.parser();
    for (const char* required : {"db", "bandwidths", "deadlines", "out"})
        if (!p.isSet(required)) return cmd.fail(QStringLiteral("--%1 is required").arg(required));
    const auto bandwidths = parseList<double>(p.value("bandwidths"), parseBandwidthBps);
    if (!bandwidths) return cmd.fail("--bandwidths must be positive values like 400kbps,1Mbps");
    const auto deadlines = parseList<double>(p.value("deadlines"), parseDurationMs);
    if (!deadlines) return cmd.fail("--deadlines must be positive values like 50ms,100ms");
    std::vector<plan::Policy> policies;
    for (const QString& name : p.value("policies").split(',', Qt::SkipEmptyParts)) {
        auto policy = plan::policyFromName(name.trimmed().toStdString());
        if (!policy) return cmd.fail(QString::fromStdString(policy.error()));
        policies.push_back(*policy);
    }
    std::vector<std::string> codecs;
    for (const QString& name : p.value("codecs").split(',', Qt::SkipEmptyParts)) {
        const std::string c = name.trimmed().toStdString();
        if (c != "auto")
            if (auto known = net::codecFromName(c); !known) return cmd.fail(QString::fromStdString("--codecs: " + known.error()));
        codecs.push_back(c);
    }
    if (codecs.empty()) return cmd.fail("--codecs needs at least one codec (or auto)");
    const auto count = cmd.intOption("count", 30, 1, 1'000'000, &code);
    if (!count) return code;
    const auto rate = cmd.numberOption("rate", 0.0, 0.0, 100'000.0, &code);
    if (!rate) return code;
    const bool fleets = p.isSet("devices");
    // A fleet sweep plans by one static policy (edgent unless given); joint planning is Edgent's rule.
    if (fleets && !p.isSet("policies")) policies = {plan::Policy::Edgent};
    if (fleets && (policies.size() != 1 || plan::isAdaptive(policies[0]) || codecs != std::vector<std::string>{"auto"}))
        return cmd.fail("--devices sweeps fleets planned by one static policy (default edgent) with codec auto");
    if (fleets && policies[0] != plan::Policy::Edgent &&
        (p.value("plannings").contains("joint") || p.value("plannings").contains("paced")))
        return cmd.fail("joint and paced planning are Edgent's rule: give --plannings independent with --policies " +
                        QString::fromLatin1(plan::policyName(policies[0])));
    if (!fleets)
        for (const char* fleetOnly : {"plannings", "edges", "edge-servers", "edge-queue"})
            if (p.isSet(fleetOnly)) return cmd.fail(QStringLiteral("--%1 needs --devices").arg(fleetOnly));
    auto power = energy::powerProfile(p.value("power-profile").toStdString());
    if (!power) return cmd.fail(QString::fromStdString(power.error()));

    auto bytes = readModelOption(cmd, &code);
    if (!bytes) return code;
    const ModelFile* model = &bytes->file;
    const std::string dbPath = p.value("db").toStdString();
    auto db = store::RunStore::open(dbPath);
    if (!db) return cmd.fail(QString::fromStdString(db.error()));
    const store::ModelRecord record = store::modelRecord(*bytes);
    const std::string& hash = record.hash;
    auto context = control::planContextFor(**db, *model, hash, p.value("predictor").toStdString(), *power);
    if (!context) return cmd.fail(QString::fromStdString(context.error()));
    const auto target = targetAccuracyOption(cmd, &code);
    if (!target) return code;
    for (plan::Policy policy : policies)
        for (const std::string& codec : codecs)
            if (auto s = plan::checkPlanInputs(*context, plan::PlanGoal{deadlines->front(), policy, *target, codec}); !s)
                return cmd.fail(QString::fromStdString(s.error()));
    auto deviceProfile = (*db)->latestProfile(hash, "device");
    if (!deviceProfile) return cmd.fail(QString::fromStdString(deviceProfile.error()));
    const auto slowdownOption = cmd.numberOption("device-slowdown", deviceProfile->slowdown, 1.0, 1000.0, &code);
    if (!slowdownOption) return code;
    const double slowdown = *slowdownOption;
    auto modelId = (*db)->upsertModel(record);
    if (!modelId) return cmd.fail(QString::fromStdString(modelId.error()));

    auto linkOptions = workerLinkOptions(cmd, slowdown, &code, deviceProfile->slowdownWait.empty() ? "spin" : deviceProfile->slowdownWait);
    if (!linkOptions) return code;
    if (linkOptions->local)  // a fleet's devices sleep unless told otherwise
        warnUnlikeProfile("the sweep", deviceProfile->slowdown, deviceProfile->slowdownWait, slowdown,
                          fleets && !p.isSet("slowdown-wait") ? "sleep" : linkOptions->slowdownWait);

    control::LiveRunOptions base;
    base.dbPath = dbPath;
    base.experiment = "sweep";
    base.modelId = *modelId;
    base.modelHash = hash;
    base.source = "sweep";
    base.count = *count;
    base.rateHz = *rate;
    base.power = *power;
    if (fleets) {
        if (!linkOptions->local) return cmd.fail("--devices sweeps fleets of local devices: drop --device and --edge");
        control::FleetOptions f;
        f.run = base;
        f.planning.context = *context;
        f.planning.goal = plan::PlanGoal{deadlines->front(), policies[0], *target, "auto"};
        f.planning.predictor = context->predictor;
        f.planning.messageOverheadMs = deviceProfile->overheadMs;
        f.model = *bytes;
        useWorkerOptions(f, *linkOptions, cmd);
        return runFleetSweep(cmd, std::move(f), *bandwidths, *deadlines, p.value("out"));
    }

    // One pair of workers serves the whole grid.
    control::WorkerLink link(*linkOptions);
    if (auto s = link.start(); !s) return cmd.fail(QString::fromStdString(s.error()));
    if (auto s = link.loadModel(*bytes); !s) return cmd.fail(QString::fromStdString(s.error()));

    std::string csv = control::plannedPointCsvHeader();
    QJsonArray rows;
    const int points = static_cast<int>(bandwidths->size() * deadlines->size() * policies.size() * codecs.size());
    int done = 0;
    for (double bps : *bandwidths)
        for (double deadline : *deadlines)
            for (plan::Policy policy : policies)
                for (const std::string& codec : codecs) {
                const auto point =
                    control::runPlannedPoint(link, base, *context, plan::PlanGoal{deadline, policy, *target, codec}, bps);
                if (!point) return cmd.fail(QString::fromStdString(point.error()));
                const plan::PlanResult& chosen = point->plan;
                const control::RunSummary& s = point->summary;
                csv += control::plannedPointCsvRow(*point);
                rows.append(QJsonObject{{"bandwidth_bps", bps},
                                        {"deadline_ms", deadline},
                                        {"policy", plan::policyName(policy)},
                                        {"exit", chosen.exit},
                                        {"partition", chosen.partition},
                                        {"codec", QString::fromStdString(net::codecName(chosen.codec))},
                                        {"codec_goal", QString::fromStdString(codec)},
                                        {"feasible", chosen.feasible},
                                        {"predicted_ms", chosen.predictedMs},
                                        {"exit_accuracy", chosen.accuracy},
                                        {"run_id", static_cast<qint64>(point->runId)},
                                        {"latency_ms_p50", s.latencyMsP50},
                                        {"deadline_hit_rate", s.deadlineHitRate},
                                        {"timely_accuracy", s.timelyAccuracy}});
                if (!cmd.json())
                    std::fprintf(stderr,
                                 "sweep %d/%d: %s (codec %s) at %.0f kbps, deadline %.0f ms: exit %d, p %d, %s, p50 %.2f ms, "
                                 "hit rate %.2f\n",
                                 ++done, points, plan::policyName(policy), codec.c_str(), bps / 1e3, deadline, chosen.exit,
                                 chosen.partition, net::codecName(chosen.codec).c_str(), s.latencyMsP50, s.deadlineHitRate);
            }
    link.shutdown();
    if (auto s = writeFileAtomically(p.value("out").toStdString(), csv); !s) return cmd.fail(QString::fromStdString(s.error()));
    if (cmd.json())
        printJson(QJsonObject{{"out", p.value("out")}, {"db", QString::fromStdString(dbPath)}, {"points", rows}});
    else
        std::printf("%d points written to %s and %s\n", points, p.value("out").toLocal8Bit().constData(), dbPath.c_str());
    return 0;
}

}  // namespace edgent::app
