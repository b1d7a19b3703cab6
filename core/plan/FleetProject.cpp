#include "core/plan/FleetProject.h"

#include "core/util/Stats.h"

#include <algorithm>

namespace edgent::core::plan {

namespace {

constexpr double kNearZeroMs = 0.05;  // below this a predicted part gives no usable ratio
constexpr size_t kPoolSize = 512;     // draws kept per part and plan (evenly over the measured ones)

double transferPredictedMs(const LatencyTable& t, int exit, int partition, double bps) {
    return t.predictMs(exit, partition, bps) - t.deviceMs(exit, partition) - t.edgeMs(exit, partition);
}

// predicted x each measured ratio, at most kPoolSize of them.
std::vector<double> pool(double predictedMs, const std::vector<double>& ratios) {
    std::vector<double> out;
    const size_t step = std::max<size_t>(1, ratios.size() / kPoolSize);
    for (size_t i = 0; i < ratios.size(); i += step) out.push_back(predictedMs * ratios[i]);
    return out;
}

}  // namespace

void ServiceModel::add(const LatencyTable& t, int exit, int partition, double bps, double deviceMs, double transferMs,
                       double edgeMs, bool sentToEdge) {
    if (exit < 0 || exit >= t.numExits() || partition < 0 || partition > t.pathLength(exit)) return;
    const double d = t.deviceMs(exit, partition);
    if (d >= kNearZeroMs) {
        device.push_back(deviceMs / d);
    } else {
        deviceFloorMs.push_back(deviceMs);
    }
    if (!sentToEdge || partition >= t.pathLength(exit)) return;
    if (bps > 0) {
        const double x = transferPredictedMs(t, exit, partition, bps);
        if (x >= kNearZeroMs) transfer.push_back(transferMs / x);
    }
    const double e = t.edgeMs(exit, partition);
    if (e >= kNearZeroMs) edge.push_back(edgeMs / e);
}

double ServiceModel::deviceScale() const {
    if (device.empty()) return 1.0;
    std::vector<double> sorted = device;
    std::sort(sorted.begin(), sorted.end());
    return nearestRank(sorted, 0.90);
}

Projection projectFleet(const PlanContext& context, const PlanGoal& goal, const std::string& planning, int devices,
                        double bandwidthBps, const ServiceModel& model, SimOptions options) {
    Projection out;
    const double scale = model.deviceScale();
    std::vector<FleetDevice> fleet(static_cast<size_t>(std::max(0, devices)),
                                   FleetDevice{bandwidthBps, goal.deadlineMs, scale, planning == "paced" ? options.rateHz : 0.0});
    out.plan = planning == "independent" ? planIndependently(context, goal, fleet, options.servers)
                                         : planJointly(context, goal, fleet, options.servers);
    const LatencyTable& t = context.table;
    const std::vector<double> one{1.0};
    auto ratios = [&](const std::vector<double>& r) -> const std::vector<double>& { return r.empty() ? one : r; };
    std::vector<SimDevice> sim;
    sim.reserve(fleet.size());
    for (const PlanResult& p : out.plan.plans) {
        // Devices with one plan share one set of pools.
        if (!sim.empty() && p.exit == out.plan.plans[sim.size() - 1].exit &&
            p.partition == out.plan.plans[sim.size() - 1].partition) {
            sim.push_back(sim.back());
            continue;
        }
        SimDevice d;
        const double deviceMs = t.deviceMs(p.exit, p.partition);
        d.deviceMs = deviceMs >= kNearZeroMs || model.deviceFloorMs.empty() ? pool(deviceMs, ratios(model.device))
                                                                             : pool(1.0, model.deviceFloorMs);
        if (p.partition < t.pathLength(p.exit)) {
            d.transferMs = pool(transferPredictedMs(t, p.exit, p.partition, bandwidthBps), ratios(model.transfer));
            d.serviceMs = pool(t.edgeMs(p.exit, p.partition), ratios(model.edge));
        }
        sim.push_back(std::move(d));
    }
    for (const SimDevice& d : sim) out.offloading += d.serviceMs.empty() ? 0 : 1;
    options.deadlineMs = goal.deadlineMs;
    out.sim = simulateFleet(sim, options);
    return out;
}

}  // namespace edgent::core::plan
