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
    int64_t fleetId = 0;
    std::vector<plan::SimDevice> devices;
    plan::SimOptions options;  // rate, inputs, deadline, servers, capacity as the fleet ran
    std::string planning;
    double p95Ms = 0.0, hitRate = 0.0, utilisation = 0.0, throughputHz = 0.0;
    std::string modelHash, predictor;  // the devices' model and the predictor the fleet planned with
    double bandwidthBps = 0.0;         // the devices' median shaper rate
    // Per simulated device (as `devices`), its answered samples, each with the bandwidth it
    // was planned at (the fleet's, where a link shaped outside left the shaper's rate 0).
    std::vector<std::vector<net::Sample>> answered;
};

// A device whose inputs mostly went to the edge is simulated as offloading (its offloaded
// samples' times), else as device-only.
Result<MeasuredFleet> measuredFleet(store::RunStore& db, int64_t fleetId);

// The fleet's service model against `table` (the profile's, for the fleet's model): every
// answered fp32 sample's measured over predicted, pooled and per device.
plan::FleetService serviceModelOf(const MeasuredFleet& fleet, const plan::LatencyTable& table);

// A stored fleet planned anew at other sizes (core/plan/FleetProject.h), as `edgent fleet-sim
// --replan` and the window's fleet dialog show it.
struct ProjectedPoint {
    std::string planning;
    int devices = 0, offloading = 0;
    double meanAccuracy = 0.0;
    plan::SimResult sim;
};
struct FleetProjection {
    double deviceScale = 1.0;          // the pooled 90th percentile of the devices' measured compute ratios
    std::vector<double> deviceScales;  // each measured device's (empty when it computed nothing)
    std::vector<ProjectedPoint> points;  // by planning, the fleet's own size first, then `sizes`
};
// `fleet` as measuredFleet read it from `db`; `model` must be the model it ran; `predictor`
// empty: the one it planned with; `sim` the simulation's options (the fleet's, with the
// inputs per device, seed and phases wanted).
Result<FleetProjection> projectStoredFleet(store::RunStore& db, const MeasuredFleet& fleet, const ModelBytes& model,
                                           const std::string& predictor, const std::vector<std::string>& plannings,
                                           const std::vector<int>& sizes, const plan::SimOptions& sim);

}  // namespace edgent::core::control
