#include "core/control/FleetPoint.h"

#include <cstdio>

namespace edgent::core::control {

Status checkFleetOptions(const FleetOptions& o) {
    if (o.bandwidthsBps.empty()) return makeError("a fleet needs at least one device");
    if (!o.deviceEndpoints.empty() && o.deviceEndpoints.size() != o.bandwidthsBps.size())
        return makeError("give one bandwidth per device endpoint");
    for (double b : o.bandwidthsBps)
        if (b <= 0.0) return makeError("every device of a fleet needs a positive bandwidth");
    if (o.edgeEndpoints.empty() && (o.edges < 1 || o.edges > kMaxFleetEdges))
        return makeError("a fleet spawns 1 to " + std::to_string(kMaxFleetEdges) + " edges, not " + std::to_string(o.edges));
    for (const auto& e : o.edgeEndpoints)
        if (e.empty()) return makeError("an edge endpoint is empty");
    if (!o.edgeEndpoints.empty() && o.deviceEndpoints.empty())
        return makeError("running edges need running devices: give the device list");
    if (o.planning.goal.deadlineMs <= 0.0) return makeError("a fleet needs a positive deadline");
    if (plan::isAdaptive(o.planning.goal.policy)) return makeError("a fleet plans static policies only");
    if (o.fleetPlanning != "joint" && o.fleetPlanning != "paced" && o.fleetPlanning != "independent")
        return makeError("a fleet plans joint, paced or independent, not '" + o.fleetPlanning + "'");
    if (o.fleetPlanning == "paced" && o.run.rateHz <= 0.0)
        return makeError("paced planning needs the devices' input rate");
    if (!o.shapeLinks)
        for (const auto& t : o.traces)
            if (t && !t->points.empty()) return makeError("a trace drives a device's shaper: links shaped outside take none");
    if (auto s = plan::checkPlanInputs(o.planning.context, o.planning.goal); !s) return makeError(s.error());
    return Status::success();
}

void useWorkerOptions(FleetOptions& fleet, const WorkerLinkOptions& link) {
    fleet.curveKeysDir = link.curveKeysDir;
    fleet.deviceThreads = link.deviceThreads;
    fleet.edgeThreads = link.edgeThreads;
    fleet.deviceSlowdown = link.deviceSlowdown;
    fleet.slowdownWait = link.slowdownWait;
    fleet.timeoutMs = link.timeoutMs;
}

Result<FleetOutcome> runFleetToEnd(FleetOptions options, const std::atomic<bool>* cancel) {
    auto fleet = FleetRun::start(std::move(options));
    if (!fleet) return makeError(fleet.error());
    bool stopped = false;
    while (!(*fleet)->waitFor(200))
        if (cancel && cancel->load() && !stopped) {
            (*fleet)->stop("interrupted");
            stopped = true;
        }
    return (*fleet)->outcome();
}

Result<FleetPoint> runFleetPoint(const FleetOptions& base, const FleetPointSpec& spec, const std::atomic<bool>* cancel) {
    if (spec.devices < 1) return makeError("a fleet point needs at least one device");
    FleetOptions o = base;
    o.bandwidthsBps.assign(static_cast<size_t>(spec.devices), spec.bandwidthBps);
    o.planning.goal.deadlineMs = spec.deadlineMs;
    o.fleetPlanning = spec.planning;
    o.edgeServers = spec.servers;
    o.edges = spec.edges;
    o.run.keepSamples = true;
    const std::string what = std::to_string(spec.devices) + " devices (" + spec.planning +
                             (spec.edges > 1 ? ", " + std::to_string(spec.edges) + " edges)" : ")");
    auto outcome = runFleetToEnd(o, cancel);
    if (!outcome) return makeError(what + ": " + outcome.error());
    if (outcome->status == "interrupted") return makeError(what + ": interrupted");
    if (outcome->status == "failed") return makeError(what + ": " + outcome->error);
    FleetPoint p;
    p.spec = spec;
    p.fleetId = outcome->fleetId;
    p.status = outcome->status;
    p.summary = summarizeFleet(*outcome, spec.deadlineMs);
    p.replans = outcome->replans;
    p.wallSeconds = outcome->wallSeconds;
    const plan::LatencyTable& table = o.planning.context.table;
    for (const plan::PlanResult& plan : outcome->firstPlan.plans)
        p.offloading += plan.partition < table.pathLength(plan.exit) ? 1 : 0;
    // Every offloaded frame the edge answered, against the profile's edge time for its configuration.
    double measured = 0.0, profiled = 0.0;
    int64_t frames = 0;
    for (const LiveRunOutcome& run : outcome->runs)
        for (const net::Sample& x : run.samples) {
            if (x.busy || !x.sentToEdge || x.exit < 0 || x.exit >= table.numExits() || x.partition > table.pathLength(x.exit))
                continue;
            measured += x.edgeMs;
            profiled += table.edgeMs(x.exit, x.partition);
            ++frames;
        }
    if (frames > 0) {
        p.edgeMsMeasured = measured / static_cast<double>(frames);
        p.edgeMsProfiled = profiled / static_cast<double>(frames);
    }
    return p;
}

std::string fleetPointCsvHeader() {
    return "fleet_id,devices,planning,edges,edge_servers,bandwidth_bps,deadline_ms,inferences,throughput_hz,accuracy,latency_ms_p50,"
           "latency_ms_p95,worst_device_p95_ms,deadline_hit_rate,worst_device_hit_rate,busy,queue_ms_mean,edge_utilisation,"
           "edge_ms_measured,edge_ms_profiled,offloading,replans,wall_s\n";
}

std::string fleetPointCsvRow(const FleetPoint& p) {
    const FleetSummary& s = p.summary;
    char line[512];
    std::snprintf(line, sizeof line,
                  "%lld,%d,%s,%d,%d,%.0f,%.3f,%lld,%.3f,%.4f,%.3f,%.3f,%.3f,%.4f,%.4f,%lld,%.3f,%.4f,%.3f,%.3f,%d,%lld,%.1f\n",
                  static_cast<long long>(p.fleetId), p.spec.devices, p.spec.planning.c_str(), p.spec.edges, p.spec.servers,
                  p.spec.bandwidthBps, p.spec.deadlineMs, static_cast<long long>(s.all.inferences), s.throughputHz,
                  s.all.accuracy, s.all.latencyMsP50, s.all.latencyMsP95, s.worstDeviceP95Ms, s.all.deadlineHitRate,
                  s.worstDeviceHitRate, static_cast<long long>(s.all.busy), s.all.queueMsMean, s.edgeUtilisation,
                  p.edgeMsMeasured, p.edgeMsProfiled, p.offloading, static_cast<long long>(p.replans), p.wallSeconds);
    return line;
}

}  // namespace edgent::core::control
