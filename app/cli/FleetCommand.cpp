// `edgent run --devices N`: many devices sharing one or more edges (core/control/FleetRun.h).
#include "app/cli/CliCommon.h"
#include "app/cli/Planning.h"

#include "core/control/FleetPoint.h"

#include <QJsonArray>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>

namespace edgent::app {

namespace {

std::atomic<bool> gFleetCancel{false};

extern "C" void onFleetInterrupt(int) {
    gFleetCancel.store(true);
    std::signal(SIGINT, SIG_DFL);
}

QJsonValue rate(double r) { return r >= 0 ? QJsonValue(r) : QJsonValue(QJsonValue::Null); }

}  // namespace

// Spinning, N emulated devices would compete for this host's cores as no real fleet of devices does.
void useWorkerOptions(core::control::FleetOptions& o, const core::control::WorkerLinkOptions& link, const Command& cmd) {
    core::control::useWorkerOptions(o, link);
    o.slowdownWait = cmd.parser().isSet("slowdown-wait") ? link.slowdownWait : "sleep";
}

QList<QCommandLineOption> fleetCliOptions() {
    return {
        {"devices", "Many devices sharing one edge: spawn N local device workers (needs --policy and --deadline).", "N"},
        {"bandwidths", "Per-device uplink bandwidths, e.g. 4Mbps,4Mbps,1Mbps (default: --bandwidth for every device).",
         "LIST"},
        {"device-list", "Running device workers to drive with --edge, one control endpoint per device, comma-separated.",
         "LIST"},
        {"planning",
         "Fleets: joint (every device's worst-case latency counts the others' edge time; default), paced (joint, "
         "checked against the simulated queue of devices at --rate) or independent (each device plans alone, the "
         "baseline).",
         "HOW", "joint"},
        {"edges",
         "Fleets: local edge workers to spawn (default 1); device i is served by edge i mod N, a device added later by the "
         "edge serving the fewest, and each edge's devices are planned against it alone. With --device-list, --edge takes "
         "one or more running edges, comma-separated.",
         "N", "1"},
        {"edge-servers", "Fleets, local edges: threads serving each edge's queue (default 1).", "N", "1"},
        {"edge-queue", "Fleets, local edges: frames that may wait at each edge in total before it answers busy (default 16).",
         "N", "16"},
        {"traces",
         "Fleets: per-device bandwidth traces (CSV time_s,kbps), one file per device, comma-separated; an empty entry keeps "
         "that device's fixed bandwidth. With --trace every device follows the same trace. The fleet re-plans at every step.",
         "LIST"},
    };
}

bool wantsFleet(const Command& cmd) {
    const auto& p = cmd.parser();
    return p.isSet("devices") || p.isSet("bandwidths") || p.isSet("device-list") || p.isSet("traces") || p.isSet("edges");
}

int runFleetCli(Command& cmd, const core::control::LiveRunOptions& run, const core::control::WorkerLinkOptions& link,
                const core::ModelBytes& model) {
    const auto& p = cmd.parser();
    int code = 0;
    if (!run.planning) return cmd.fail("--devices needs --policy and --deadline: a fleet is planned");
    if (run.planning->dynamic) return cmd.fail("a fleet plans every device itself: drop --dynamic");
    if (core::plan::isAdaptive(run.planning->goal.policy)) return cmd.fail("--devices plans static policies only");
    core::control::FleetOptions o;
    o.run = run;
    o.run.keepSamples = true;
    o.run.source = "cli fleet";
    o.planning = *run.planning;
    o.model = model;
    const QString planning = p.value("planning");
    if (planning != "joint" && planning != "paced" && planning != "independent")
        return cmd.fail("--planning must be joint, paced or independent");
    if (planning == "paced" && o.run.rateHz <= 0.0) return cmd.fail("--planning paced needs --rate");
    o.fleetPlanning = planning.toStdString();
    std::vector<std::string> endpoints;
    if (p.isSet("device-list")) {
        if (link.local) return cmd.fail("--device-list needs --edge (the shared edges' control endpoints)");
        if (p.isSet("edges")) return cmd.fail("--edges spawns local edges: with --device-list, list the running ones in --edge");
        if (p.isSet("device")) return cmd.fail("a fleet of remote devices takes --device-list and --edge, not --device");
        for (const QString& ep : p.value("device-list").split(',', Qt::SkipEmptyParts)) endpoints.push_back(ep.trimmed().toStdString());
        o.deviceEndpoints = endpoints;
        for (const QString& ep : QString::fromStdString(link.edgeEndpoint).split(',', Qt::SkipEmptyParts))
            o.edgeEndpoints.push_back(ep.trimmed().toStdString());
    } else if (!link.local) {
        return cmd.fail("a fleet of remote devices takes --device-list and --edge, not --device");
    }
    const auto n = cmd.intOption("devices", endpoints.empty() ? 1 : static_cast<qint64>(endpoints.size()), 1, 64, &code);
    if (!n) return code;
    if (!endpoints.empty() && *n != static_cast<qint64>(endpoints.size()))
        return cmd.fail("--devices and --device-list disagree on the number of devices");
    const double bps = run.bandwidthBps > 0 ? run.bandwidthBps : run.assumedBandwidthBps;
    if (p.isSet("bandwidths")) {
        for (const QString& b : p.value("bandwidths").split(',', Qt::SkipEmptyParts)) {
            const auto v = parseBandwidthBps(b.trimmed());
            if (!v) return cmd.fail("--bandwidths must list bandwidths like 4Mbps, got '" + b + "'");
            o.bandwidthsBps.push_back(*v);
        }
        // Alone, the list says how many devices there are; beside --devices or --device-list it must agree.
        const bool countGiven = p.isSet("devices") || !endpoints.empty();
        if (countGiven && static_cast<qint64>(o.bandwidthsBps.size()) != *n)
            return cmd.fail("--bandwidths needs one bandwidth per device");
    } else {
        o.bandwidthsBps.assign(static_cast<size_t>(*n), bps);
    }
    o.run.trace.reset();  // each member's own, below
    if (p.isSet("traces")) {
        const QStringList files = p.value("traces").split(',', Qt::KeepEmptyParts);
        // Alone, the list says how many devices there are; beside a count it must agree.
        const bool countGiven = p.isSet("devices") || !endpoints.empty() || p.isSet("bandwidths");
        if (!countGiven) o.bandwidthsBps.assign(static_cast<size_t>(files.size()), bps);
        if (static_cast<size_t>(files.size()) != o.bandwidthsBps.size()) return cmd.fail("--traces needs one entry per device");
        for (const QString& f : files) {
            if (f.trimmed().isEmpty()) {
                o.traces.emplace_back();
                continue;
            }
            auto t = core::plan::readBandwidthTrace(f.trimmed().toStdString());
            if (!t) return cmd.fail(QString::fromStdString(t.error()));
            o.traces.emplace_back(std::move(*t));
        }
    } else if (run.trace) {
        o.traces.assign(o.bandwidthsBps.size(), run.trace);
    }
    // Links shaped outside the workbench (tc, network namespaces): plan at the given bandwidths, shape nothing.
    if (p.isSet("measure-only") && endpoints.empty())
        return cmd.fail("a fleet shapes its local devices' uplinks: --measure-only needs --device-list (links shaped outside)");
    o.shapeLinks = !p.isSet("measure-only");
    const auto servers = cmd.intOption("edge-servers", 1, 1, 64, &code);
    const auto queue = cmd.intOption("edge-queue", 16, 1, 4096, &code);
    const auto edges = cmd.intOption("edges", 1, 1, core::control::kMaxFleetEdges, &code);
    if (!servers || !queue || !edges) return code;
    o.edges = static_cast<int>(*edges);
    o.edgeServers = static_cast<int>(*servers);
    o.edgeQueue = static_cast<int>(*queue);
    o.edgeQueuePerDevice = std::min(2, o.edgeQueue);
    useWorkerOptions(o, link, cmd);

    std::signal(SIGINT, onFleetInterrupt);
    auto outcome = core::control::runFleetToEnd(o, &gFleetCancel);
    std::signal(SIGINT, SIG_DFL);
    if (!outcome) return cmd.fail(QString::fromStdString(outcome.error()));
    const double deadline = o.planning.goal.deadlineMs;
    const auto s = core::control::summarizeFleet(*outcome, deadline);
    QJsonObject out;
    out["fleet_id"] = static_cast<qint64>(outcome->fleetId);
    out["db"] = QString::fromStdString(o.run.dbPath);
    out["planning"] = planning;
    out["devices"] = static_cast<qint64>(outcome->devices.size());
    out["deadline_ms"] = deadline;
    out["device_slowdown"] = o.deviceSlowdown;
    out["slowdown_wait"] = QString::fromStdString(o.slowdownWait);
    out["inferences"] = static_cast<qint64>(s.all.inferences);
    out["throughput_hz"] = s.throughputHz;
    out["accuracy"] = s.all.accuracy;
    out["latency_ms_p50"] = s.all.latencyMsP50;
    out["latency_ms_p95"] = s.all.latencyMsP95;
    out["deadline_hit_rate"] = rate(s.all.deadlineHitRate);
    out["worst_device_p95_ms"] = s.worstDeviceP95Ms;
    out["worst_device_hit_rate"] = s.worstDeviceHitRate;
    out["busy"] = static_cast<qint64>(s.all.busy);
    out["queue_ms_mean"] = s.all.queueMsMean;
    out["edge_utilisation"] = s.edgeUtilisation;
    out["edges"] = static_cast<qint64>(outcome->edgeStats.size());
    QJsonArray utilisations;
    for (double u : s.edgeUtilisations) utilisations.append(u);
    out["edge_utilisations"] = utilisations;
    out["edge_shed"] = static_cast<qint64>(s.shed);
    out["edge_queue_peak"] = static_cast<qint64>(s.queuePeak);
    out["replans"] = static_cast<qint64>(outcome->replans);
    QJsonArray devices;
    for (size_t i = 0; i < outcome->runs.size(); ++i) {
        const auto& r = outcome->runs[i];
        const auto& d = s.devices[i];
        const auto& row = outcome->devices[i];
        QJsonObject x;
        x["device"] = row.device;
        x["run_id"] = static_cast<qint64>(r.runId);
        x["status"] = QString::fromStdString(r.status);
        x["end"] = QString::fromStdString(row.endReason);
        x["bandwidth_bps"] = row.bandwidthBps;
        x["edge"] = row.edge;
        if (i < outcome->firstPlan.plans.size()) {
            const auto& plan = outcome->firstPlan.plans[i];
            x["exit"] = plan.exit;
            x["partition"] = plan.partition;
            x["codec"] = QString::fromStdString(core::net::codecName(plan.codec));
            x["predicted_ms"] = plan.predictedMs;
            x["bound_ms"] = outcome->firstPlan.boundMs[i];
            x["offloads"] = plan.partition < o.planning.context.table.pathLength(plan.exit);
        }
        x["inferences"] = static_cast<qint64>(d.inferences);
        x["accuracy"] = d.accuracy;
        x["latency_ms_p50"] = d.latencyMsP50;
        x["latency_ms_p95"] = d.latencyMsP95;
        x["deadline_hit_rate"] = rate(d.deadlineHitRate);
        x["busy"] = static_cast<qint64>(d.busy);
        x["device_scale"] = i < outcome->deviceScales.size() ? outcome->deviceScales[i] : 1.0;
        x["queue_ms_mean"] = d.queueMsMean;
        devices.append(x);
    }
    out["per_device"] = devices;
    out["status"] = QString::fromStdString(outcome->status);
    if (!outcome->error.empty()) out["error"] = QString::fromStdString(outcome->error);
    out["wall_seconds"] = outcome->wallSeconds;
    if (s.all.inferences == 0 && outcome->status == "failed") return cmd.fail(QString::fromStdString(outcome->error));
    if (cmd.json()) {
        printJson(out);
    } else {
        std::printf("fleet %lld in %s: %zu devices, %s planning: %lld inferences, %.1f per second, accuracy %.2f%%, p95 %.2f ms "
                    "(worst device %.2f ms), deadline hit rate %.1f%% (worst device %.1f%%), %lld busy\n",
                    static_cast<long long>(outcome->fleetId), o.run.dbPath.c_str(), outcome->devices.size(),
                    planning.toUtf8().constData(), static_cast<long long>(s.all.inferences), s.throughputHz,
                    100 * s.all.accuracy, s.all.latencyMsP95, s.worstDeviceP95Ms, 100 * s.all.deadlineHitRate,
                    100 * s.worstDeviceHitRate, static_cast<long long>(s.all.busy));
        for (size_t i = 0; i < outcome->runs.size(); ++i)
            std::printf("  device %d: run %lld on edge %d, %s, exit %d partition %d, p95 %.2f ms, hit rate %.1f%%\n",
                        outcome->devices[i].device, static_cast<long long>(outcome->runs[i].runId), outcome->devices[i].edge,
                        outcome->devices[i].endReason.c_str(),
                        i < outcome->firstPlan.plans.size() ? outcome->firstPlan.plans[i].exit : -1,
                        i < outcome->firstPlan.plans.size() ? outcome->firstPlan.plans[i].partition : -1,
                        s.devices[i].latencyMsP95, 100 * s.devices[i].deadlineHitRate);
    }
    if (outcome->status == "failed") return cmd.fail(QString::fromStdString(outcome->error));
    return outcome->status == "interrupted" ? 130 : 0;
}

QList<QCommandLineOption> fleetSweepCliOptions() {
    return {
        {"devices",
         "Sweep fleets of these many local devices sharing one edge, e.g. 1,2,4,8 (one static policy, edgent by default; "
         "codec auto).",
         "LIST"},
        {"plannings", "Fleets: any of independent, joint and paced (default independent,joint).", "LIST", "independent,joint"},
        {"edge-servers", "Fleets: each edge's serving threads to sweep, e.g. 1,2 (default 1).", "LIST", "1"},
        {"edges", "Fleets: local edge workers to sweep, e.g. 1,2 (default 1; device i on edge i mod N).", "LIST", "1"},
        {"edge-queue", "Fleets: frames that may wait at the edge in total before it answers busy (default 16).", "N", "16"},
    };
}

int runFleetSweep(Command& cmd, core::control::FleetOptions base, const std::vector<double>& bandwidthsBps,
                  const std::vector<double>& deadlinesMs, const QString& out) {
    const auto& p = cmd.parser();
    int code = 0;
    const auto positive = [](const QString& t) -> std::optional<int> {
        bool ok = false;
        const int v = t.toInt(&ok);
        return ok && v >= 1 && v <= 64 ? std::optional<int>(v) : std::nullopt;
    };
    const auto counts = parseList<int>(p.value("devices"), positive);
    if (!counts) return cmd.fail("--devices must list device counts from 1 to 64, e.g. 1,2,4,8");
    const auto servers = parseList<int>(p.value("edge-servers"), positive);
    if (!servers) return cmd.fail("--edge-servers must list thread counts from 1 to 64, e.g. 1,2");
    const auto edgeCounts = parseList<int>(p.value("edges"), [&](const QString& t) {
        const auto v = positive(t);
        return v && *v <= core::control::kMaxFleetEdges ? v : std::nullopt;
    });
    if (!edgeCounts) return cmd.fail("--edges must list edge counts from 1 to 16, e.g. 1,2");
    const auto plannings = planningList(p.value("plannings"));
    if (!plannings) return cmd.fail("--plannings must list independent, joint or paced");
    if (base.run.rateHz <= 0.0 && std::find(plannings->begin(), plannings->end(), "paced") != plannings->end())
        return cmd.fail("--plannings paced needs --rate");
    const auto queue = cmd.intOption("edge-queue", 16, 1, 4096, &code);
    if (!queue) return code;
    base.edgeQueue = static_cast<int>(*queue);
    base.edgeQueuePerDevice = std::min(2, base.edgeQueue);
    base.run.source = "sweep fleet";

    std::signal(SIGINT, onFleetInterrupt);
    std::string csv = core::control::fleetPointCsvHeader();
    QJsonArray rows;
    const size_t points =
        bandwidthsBps.size() * deadlinesMs.size() * counts->size() * plannings->size() * servers->size() * edgeCounts->size();
    size_t done = 0;
    for (double bps : bandwidthsBps)
        for (double deadline : deadlinesMs)
            for (int n : *counts)
                for (int edges : *edgeCounts)
                for (int k : *servers)
                    for (const std::string& planning : *plannings) {
                        const auto point =
                            core::control::runFleetPoint(base, {n, bps, deadline, planning, k, edges}, &gFleetCancel);
                        if (!point) {
                            std::signal(SIGINT, SIG_DFL);
                            return cmd.fail(QString::fromStdString(point.error()));
                        }
                        const auto& s = point->summary;
                        csv += core::control::fleetPointCsvRow(*point);
                        rows.append(QJsonObject{{"fleet_id", static_cast<qint64>(point->fleetId)},
                                                {"devices", n},
                                                {"planning", QString::fromStdString(planning)},
                                                {"edges", edges},
                                                {"edge_servers", k},
                                                {"bandwidth_bps", bps},
                                                {"deadline_ms", deadline},
                                                {"throughput_hz", s.throughputHz},
                                                {"latency_ms_p95", s.all.latencyMsP95},
                                                {"worst_device_p95_ms", s.worstDeviceP95Ms},
                                                {"deadline_hit_rate", rate(s.all.deadlineHitRate)},
                                                {"worst_device_hit_rate", s.worstDeviceHitRate},
                                                {"busy", static_cast<qint64>(s.all.busy)},
                                                {"edge_utilisation", s.edgeUtilisation},
                                                {"edge_ms_measured", point->edgeMsMeasured},
                                                {"edge_ms_profiled", point->edgeMsProfiled}});
                        if (!cmd.json())
                            std::fprintf(stderr,
                                         "sweep %zu/%zu: %d devices, %s, %d edges of %d servers, %.0f kbps, deadline %.0f ms: fleet "
                                         "%lld, %.1f/s, p95 %.2f ms, hit rate %.3f (worst device %.3f), edge %.0f%% busy\n",
                                         ++done, points, n, planning.c_str(), edges, k, bps / 1e3, deadline,
                                         static_cast<long long>(point->fleetId), s.throughputHz, s.all.latencyMsP95,
                                         s.all.deadlineHitRate, s.worstDeviceHitRate, 100 * s.edgeUtilisation);
                    }
    std::signal(SIGINT, SIG_DFL);
    if (auto s = core::writeFileAtomically(out.toStdString(), csv); !s) return cmd.fail(QString::fromStdString(s.error()));
    if (cmd.json())
        printJson(QJsonObject{{"out", out}, {"db", QString::fromStdString(base.run.dbPath)}, {"fleets", rows}});
    else
        std::printf("%zu fleets written to %s and %s\n", points, out.toLocal8Bit().constData(), base.run.dbPath.c_str());
    return 0;
}

}  // namespace edgent::app
