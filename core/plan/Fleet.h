#pragma once
// Planning many devices that share one edge.
//
// The edge serves frames one at a time per server, fairly across devices, and each device has
// at most one frame in flight (it waits for the answer before its next input). So a frame
// finds at most one frame of every other offloading device ahead of it, and its worst-case
// latency is
//     L_i = A_i + sum over the other offloading devices j of s_j
// where A_i is the device's own predicted latency (core/plan/Planner.h) and s_j the edge's
// service time of device j's plan (its edge layers and decode; 0 when it sends nothing).
// With S = sum of every s_j (the edge's work per round of the fleet), L_i = A_i - s_i + S.
//
//   - planIndependently: Edgent's rule for each device alone, as if it had the edge to itself
//     (the baseline).
//   - planJointly: maximises the fleet's mean accuracy subject to L_i <= D_i for every device.
//     For each candidate round S (a grid up to the largest deadline), every device takes its
//     most accurate option with A_i - s_i + S <= D_i; while the fleet's sum of s exceeds S the
//     device whose next cheaper option loses the least accuracy per ms of edge time saved
//     steps down (a greedy multiple-choice knapsack). The S with the most devices feasible,
//     then the highest accuracy, then the lowest mean bound, wins.
//
// With k servers the round divides by k (the frames ahead are served k at a time).
//
// Paced fleets. The bound above is the worst case: every other device's frame just ahead.
// Devices that take inputs at one rate, their phases spread over the period, rarely meet it,
// and planning for it sends devices to compute alone that the edge could have served. So when
// every device is paced (FleetDevice::rateHz, up to 5,000 devices), planJointly also starts
// from each device's most accurate plan alone and steps down (the same greedy order; devices
// alike step down in an order that leaves those still offloading spread over the period) to
// the first step at which a simulation of the fleet's queue (core/plan/FleetSim.h: the plans'
// predicted times, phases spread) meets every deadline and the edge's load stays within
// kPacedLoadCap, found by bisection over the greedy order; the plan with the more devices
// feasible, then the higher accuracy, wins. A paced plan's boundMs is each device's longest
// simulated latency, not the worst case.
// Torch-free; a plan for 1,000 devices takes milliseconds.

#include "core/plan/Planner.h"

#include <vector>

namespace edgent::core::plan {

struct FleetDevice {
    double bandwidthBps = 0.0;
    double deadlineMs = 0.0;
    // The device's compute as measured in the run against the table's (a fleet learns it from
    // the device's samples): its layers' times are multiplied by this. 1: as profiled.
    double deviceScale = 1.0;
    // Inputs per second (its phase spread over the period, as a fleet starts its devices); 0:
    // back to back. When every device of a fleet is paced at one rate, joint planning checks
    // its plans against the queue they form (see planJointly).
    double rateHz = 0.0;
};

// The context with the device's times multiplied by `scale`: its layers, its slice cost and
// its codecs' encode times (LatencyTable::withDeviceScaled).
PlanContext scaledDevice(const PlanContext& context, double scale);

// The most a paced fleet may load its edge (its service time per second, per server):
// deterministic arrivals spread over the period do not queue below 1, but the times a fleet
// meets jitter, and a queue grows fast as the load nears 1.
inline constexpr double kPacedLoadCap = 0.85;

struct FleetPlan {
    std::vector<PlanResult> plans;  // one per device; feasible: its worst-case bound meets its deadline
    std::vector<double> serviceMs;  // s_i: the edge's service time of each plan
    std::vector<double> boundMs;    // L_i: each device's worst-case latency under the whole fleet's plans
    double roundMs = 0.0;           // S / servers: the edge's work per round
    double meanAccuracy = 0.0;
    int feasible = 0;               // devices whose bound meets their deadline
    std::string planning;           // "joint" or "independent"
    bool paced = false;             // joint: checked against the simulated queue of paced devices
};

// The edge's service time of a plan: its layers after the cut and the decode (0 when device-only).
double edgeServiceMs(const LatencyTable& table, const PlanResult& plan);

// The bounds, round and totals of a set of plans (fills everything but `plans` and `planning`).
void boundFleet(const LatencyTable& table, const std::vector<FleetDevice>& devices, int servers, FleetPlan& plan);

FleetPlan planIndependently(const PlanContext& context, const PlanGoal& goal, const std::vector<FleetDevice>& devices,
                            int servers = 1);
FleetPlan planJointly(const PlanContext& context, const PlanGoal& goal, const std::vector<FleetDevice>& devices,
                      int servers = 1);

// Devices spread over several edges, each edge a queue of its own: device i is served by edge
// edgeOf[i] (empty: all by one), and each edge's devices are planned by `planning` ("joint",
// "paced" or "independent") against that edge alone. The result is by device, as the others'
// are; roundMs is the busiest edge's, and feasible and meanAccuracy are over every device.
FleetPlan planOverEdges(const PlanContext& context, const PlanGoal& goal, const std::vector<FleetDevice>& devices,
                        const std::vector<int>& edgeOf, int servers, const std::string& planning);

}  // namespace edgent::core::plan
