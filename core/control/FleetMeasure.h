#pragma once
// A stored fleet as the simulation's input (core/plan/FleetSim.h): each device's measured
// compute, uplink and edge service times from its samples, the fleet's rate, inputs, deadline
// and edge, and what was measured, to compare the simulation with. Torch-free.

#include "core/plan/FleetProject.h"
#include "core/plan/FleetSim.h"
#include "core/model/ModelFile.h"
#include "core/store/RunStore.h"

namespace edgent::core::control {

struct MeasuredFleet {
    std::vector<plan::SimDevice> devices;
    plan::SimOptions options;  // rate, inputs, deadline, servers, capacity as the fleet ran
    std::string planning;
    double p95Ms = 0.0, hitRate = 0.0, utilisation = 0.0, throughputHz = 0.0;
    std::string modelHash, predictor;  // the devices' model and the predictor the fleet planned with
    double bandwidthBps = 0.0;         // the devices' median shaper rate
    plan::FleetService service;        // with a table: every answered sample's measured over predicted
};

// A device whose inputs mostly went to the edge is simulated as offloading (its offloaded
// samples' times), else as device-only. With `table` (the profile's, for the fleet's model),
// the service model is filled from every answered sample.
Result<MeasuredFleet> measuredFleet(store::RunStore& db, int64_t fleetId, const plan::LatencyTable* table = nullptr);

// A stored fleet planned anew at other sizes (core/plan/FleetProject.h), as `edgent fleet-sim
// --replan` and the window's fleet dialog show it.
struct ProjectedPoint {
    std::string planning;
    int devices = 0, offloading = 0;
    double meanAccuracy = 0.0;
    plan::SimResult sim;
};
struct FleetProjection {
    MeasuredFleet measured;  // with its service model
    double deviceScale = 1.0;          // the pooled 90th percentile of the devices' measured compute ratios
    std::vector<double> deviceScales;  // each measured device's (empty when it computed nothing)
    std::vector<ProjectedPoint> points;  // by planning, the fleet's own size first, then `sizes`
};
// `model` must be the model the fleet ran; `predictor` empty: the one it planned with. `sim`
// gives the inputs per device, seed and phases; the rest is the fleet's own.
Result<FleetProjection> projectStoredFleet(store::RunStore& db, int64_t fleetId, const ModelBytes& model,
                                           const std::string& predictor, const std::vector<std::string>& plannings,
                                           const std::vector<int>& sizes, const plan::SimOptions& sim);

}  // namespace edgent::core::control
