#pragma once
// Many devices sharing edges: one fleet run drives N device workers and one or more edge
// workers, each device through its own LiveRun (the one engine of a run: its record, samples,
// events, live changes), all planned together.
//
//   - Each edge is spawned locally (with --queue, --queue-per-device and --servers) or reached
//     at a running edge's control endpoint (core/control/FleetEdges.h); the model is loaded on
//     it once. Device i starts on edge i mod K; a device that joins goes to the edge serving
//     the fewest running devices. Each edge's devices are planned against that edge alone.
//   - Devices are local processes (each with its own shaped uplink, its bandwidth, and the
//     emulated slowdown), or running device workers at their control endpoints. A device's
//     bandwidth is fixed, changed live (setBandwidth), or follows its own trace.
//   - Planning: "joint" (core/plan/Fleet.h: every device's bound under the others' edge time),
//     "paced" (joint, checked against the simulated queue of devices at the run's rate) or
//     "independent" (Edgent per device, the baseline), per edge. The fleet re-plans whenever a device
//     joins, leaves (its run ends, its worker dies) or changes bandwidth, and when a device's
//     measured compute (the 90th percentile of its newest samples against the profile, from its
//     8th sample on, checked twice a second) drifts
//     more than 15% from the scale it is planned with (a device not yet measured is planned
//     with the measured devices' median scale); each member adopts its new plan live.
//   - The store: every device's run is an ordinary run (one per device, its samples carrying
//     the device number); `fleets` and `fleet_devices` tie them together with each device's
//     join, leave, end and edge; `fleet_edge` polls each edge's queue and service.
//   - A device that dies ends its own run (failed, with the reason and time) and the others go
//     on; an edge that dies ends the runs of the devices it served, each keeping every sample
//     it acknowledged, and the other edges' devices go on (re-planned). Devices are not moved
//     to another edge.
//
// Threads: start() spawns and connects the workers on the caller's thread (every wait
// bounded), then a fleet thread polls the edge, notices ends and applies requests. Public
// members may be called from any thread; addDevice() only queues the request (the fleet
// thread spawns the device). Observers run on the controllers' I/O threads (samples) or the
// fleet thread; they must be quick. Torch-free.

#include "core/control/LiveRun.h"
#include "core/control/RunSummary.h"
#include "core/control/WorkerLink.h"
#include "core/plan/Fleet.h"

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace edgent::core::control {

struct FleetOptions {
    LiveRunOptions run;     // every device's run: store, model record, count, rate, dataset, power, source
    RunPlanning planning;   // context and goal (deadline, codec); static
    // joint (every device's worst-case bound, core/plan/Fleet.h), paced (joint against the
    // simulated queue of devices paced at run.rateHz) or independent (each device alone).
    std::string fleetPlanning = "joint";
    std::vector<double> bandwidthsBps;  // one per device at the start (its shaper's rate)
    // false: every device's link is shaped outside the workbench (tc on a real link, a network
    // namespace): plans assume bandwidthsBps, and no device shapes in software.
    bool shapeLinks = true;
    // Per device, a bandwidth trace its shaper follows from its stream's start (missing or
    // empty: its fixed bandwidth); the fleet re-plans at every step, as for setBandwidth().
    std::vector<std::optional<plan::BandwidthTrace>> traces;
    ModelBytes model;
    // The workers.
    std::vector<std::string> edgeEndpoints;    // running edges' control endpoints; empty: spawn `edges` on loopback
    int edges = 1;
    std::vector<std::string> deviceEndpoints;  // running devices, one per bandwidth; empty: spawn local ones
    std::string curveKeysDir;
    int deviceThreads = 1, edgeThreads = 1;
    int edgeServers = 1, edgeQueue = 16, edgeQueuePerDevice = 2;  // each spawned edge's (edgent-worker --servers ...)
    double deviceSlowdown = 1.0;
    std::string slowdownWait = "sleep";  // emulated devices sleep: spinning, N devices would compete for the host's cores
    int timeoutMs = 15000;
    int edgePollMs = 250;
};

inline constexpr int kMaxFleetEdges = 16;

// Why a fleet cannot start with these options (FleetRun::start checks them first), as one line.
Status checkFleetOptions(const FleetOptions& options);

struct FleetDeviceStatus {
    int device = 0;
    int64_t runId = 0;
    std::string state;  // starting, running, ended
    std::string endReason;
    int64_t samples = 0;
    int edge = 0;  // the edge that serves it
    double bandwidthBps = 0.0;
    plan::PlanResult plan;
    double boundMs = 0.0;  // the planner's worst-case latency for it
    double deviceScale = 1.0;  // its measured compute against its profile's, as the planner now uses it
};

struct FleetOutcome {
    int64_t fleetId = 0;
    std::string status;  // finished, failed or interrupted
    std::string error;
    std::vector<LiveRunOutcome> runs;  // one per device that started, by device number
    std::vector<store::FleetDeviceRow> devices;
    std::vector<double> deviceScales;  // each device's compute scale at the end
    std::vector<store::FleetEdgeRow> edge;
    plan::FleetPlan firstPlan;
    std::vector<QJsonObject> edgeStats;  // each edge's counters at the end, by edge
    std::vector<std::string> edgeFailures;  // the edges that died, why
    int64_t replans = 0;
    double wallSeconds = 0.0;
};

struct FleetObserver {
    std::function<void(int device, const store::SampleRow&)> onSample;
    std::function<void(int device, const RunEvent&)> onEvent;
    std::function<void(const store::FleetEdgeRow&)> onEdge;
    std::function<void(const std::vector<FleetDeviceStatus>&)> onDevices;  // after every change
    std::function<void(const FleetOutcome&)> onFinished;
};

class FleetRun {
public:
    static Result<std::unique_ptr<FleetRun>> start(FleetOptions options, FleetObserver observer = {});
    ~FleetRun();  // stop() and wait
    FleetRun(const FleetRun&) = delete;
    FleetRun& operator=(const FleetRun&) = delete;

    int64_t fleetId() const;
    // A new local device at this bandwidth (queued; the fleet thread spawns it and re-plans).
    void addDevice(double bandwidthBps);
    // Ends one device's run (finished) and re-plans the others.
    void removeDevice(int device);
    void setBandwidth(int device, double bandwidthBps);
    void stop(const std::string& status = "finished");
    bool waitFor(int timeoutMs);
    bool ended() const;
    const FleetOutcome& outcome() const;  // once ended()
    std::vector<FleetDeviceStatus> devices() const;
    // Local device worker processes (0 when remote or gone), for tests that kill them.
    long devicePid(int device) const;
    long edgePid(int edge = 0) const;
    int edges() const;

private:
    struct Impl;
    explicit FleetRun(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// A fleet's figures: each device's and all samples', the answered inputs per second over the
// whole fleet, and each edge's utilisation (its service time over its polled interval, per server).
struct FleetSummary {
    std::vector<RunSummary> devices;  // as outcome.runs
    RunSummary all;
    double throughputHz = 0.0;
    double edgeUtilisation = 0.0;  // the mean over the edges
    std::vector<double> edgeUtilisations;  // by edge
    int64_t shed = 0, queuePeak = 0;  // shed over every edge; the longest queue any edge held
    double worstDeviceP95Ms = 0.0, worstDeviceHitRate = 1.0;
};
FleetSummary summarizeFleet(const FleetOutcome& outcome, double deadlineMs);

}  // namespace edgent::core::control
