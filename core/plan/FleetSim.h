#pragma once
// A discrete-event simulation of many devices sharing one edge: what `edgent fleet-sim`
// runs to validate the queueing model against a measured fleet and to extend its curve to
// fleets far larger than one host can emulate.
//
// The model: each device takes an input every 1/rate seconds (its phase spread over one
// period, as a fleet's devices start), or back to back, and never before its previous answer.
// Its compute and uplink take times drawn from its measured samples; an offloaded frame then
// queues at its edge (one of `edges`), first come first served across `servers` servers (the fair queue is
// first come first served when every device has one frame in flight), and is served for a
// time drawn from the measured edge times. A frame that finds `capacity` frames waiting is
// shed. The answer's return is part of the measured uplink time. Nothing else is modelled:
// not the host's cores that emulated devices share, nor contention on the edge's cores.
//
// An analytic model could give means; the deadline needs the tail of the waiting time, which
// for phase-aligned periodic arrivals is easier to simulate than to derive. A general
// simulator (SimGrid) models networks and hosts this model does not need. Torch-free.

#include <cstdint>
#include <vector>

namespace edgent::core::plan {

struct SimDevice {
    std::vector<double> deviceMs;    // its compute (and encode) per input, as measured
    std::vector<double> transferMs;  // its uplink and the answer's return per offloaded input
    std::vector<double> serviceMs;   // the edge's time on its frames (decode + layers); empty: device-only
};

struct SimOptions {
    double rateHz = 0.0;  // 0: back to back
    int64_t inputs = 200;  // per device
    int servers = 1;       // per edge
    int capacity = 16;     // frames that may wait at each edge
    // Several edges, each a queue of its own: device i is served by edgeOf[i] (empty: by edge
    // i mod edges, as a fleet spreads its devices at the start).
    int edges = 1;
    std::vector<int> edgeOf;
    double deadlineMs = 0.0;
    uint64_t seed = 1;
    bool randomPhases = false;
    double busyBackoffMs = 10.0;  // a shed device waits this long before its next input, as the device worker does  // each device's phase anywhere in the period, not evenly spread
};

struct SimResult {
    std::vector<double> latencyMs;            // every input of every device, by device then input
    std::vector<double> deviceP95Ms;
    double p95Ms = 0.0, p50Ms = 0.0;
    double hitRate = 0.0;      // within the deadline and not shed
    double utilisation = 0.0;  // the edges' busy time over the span, per server (every edge's)
    double throughputHz = 0.0;
    int64_t shed = 0;
};

SimResult simulateFleet(const std::vector<SimDevice>& devices, const SimOptions& options);

}  // namespace edgent::core::plan
