#pragma once
// A stored fleet as the simulation's input (core/plan/FleetSim.h): each device's measured
// compute, uplink and edge service times from its samples, the fleet's rate, inputs, deadline
// and edge, and what was measured, to compare the simulation with. Torch-free.

#include "core/plan/FleetSim.h"
#include "core/store/RunStore.h"

namespace edgent::core::control {

struct MeasuredFleet {
    std::vector<plan::SimDevice> devices;
    plan::SimOptions options;  // rate, inputs, deadline, servers, capacity as the fleet ran
    std::string planning;
    double p95Ms = 0.0, hitRate = 0.0, utilisation = 0.0, throughputHz = 0.0;
};

// A device whose inputs mostly went to the edge is simulated as offloading (its offloaded
// samples' times), else as device-only.
Result<MeasuredFleet> measuredFleet(store::RunStore& db, int64_t fleetId);

}  // namespace edgent::core::control
