#pragma once
// A measured fleet projected to sizes one host cannot emulate, with the planner re-run at
// every size: what `edgent fleet-sim --replan` draws its curves from.
//
// The service model is measured, not assumed: every answered sample of a stored fleet gives
// the ratio of what it measured to what the profile's table predicted for its configuration,
// on each part of its latency (the device's compute and encode, the uplink and the answer's
// return, the edge's decode and layers). The edge's ratios were measured with the fleet's
// other devices sharing it, so they carry its service under that concurrency. At each size
// the planner plans N devices (the fleet's planning, bandwidth and deadline), and the
// simulation (core/plan/FleetSim.h) draws each part of every plan's time as its predicted
// time times a ratio drawn from the measured ones. Device i of the projection computes as
// measured device i mod M did (its own ratios, its compute scaled by their 90th percentile,
// as a fleet learns it); a measured device that computed nothing (it sent its raw input)
// takes the median scale of those that did, as a fleet plans a device not yet measured.
// Uplink and edge ratios are pooled over the fleet. A part the table predicts as
// near zero (the device's share of a plan that sends the raw input) is drawn from the measured
// times themselves. Torch-free.

#include "core/plan/Fleet.h"
#include "core/plan/FleetSim.h"

#include <string>
#include <vector>

namespace edgent::core::plan {

struct ServiceModel {
    std::vector<double> device, transfer, edge;  // measured over predicted, one per sample that had the part
    std::vector<double> deviceFloorMs;           // the device's measured time where the table predicts ~0
    // One answered sample of configuration (exit, partition), fp32, at the shaper's bandwidth.
    void add(const LatencyTable& table, int exit, int partition, double bandwidthBps, double deviceMs, double transferMs,
             double edgeMs, bool sentToEdge);
    bool empty() const { return device.empty() && deviceFloorMs.empty() && edge.empty(); }
    // The compute scale a fleet would plan the devices with (the 90th percentile of `device`; 1 without any).
    double deviceScale() const;
};

// A fleet's service model: pooled over its devices, and each measured device's own.
struct FleetService {
    ServiceModel pooled;
    std::vector<ServiceModel> devices;  // empty: every device computes as `pooled` does
};

struct Projection {
    FleetPlan plan;
    SimResult sim;
    int offloading = 0;  // devices whose plan sends something to the edge
};

// Plans `devices` devices (planning: "joint", "paced" or "independent") at one bandwidth and
// the goal's deadline, then simulates them with `options` (rate, inputs, servers, capacity;
// its deadline is the goal's; with options.edges > 1, device i is on edge i mod edges and each
// edge's devices are planned against it alone). Paced planning needs options.rateHz and up to 5,000 devices;
// above that it plans as joint does.
Projection projectFleet(const PlanContext& context, const PlanGoal& goal, const std::string& planning, int devices,
                        double bandwidthBps, const FleetService& service, SimOptions options);

}  // namespace edgent::core::plan
