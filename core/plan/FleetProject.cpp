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
                        double bandwidthBps, const FleetService& service, SimOptions options) {
    Projection out;
    const size_t n = static_cast<size_t>(std::max(0, devices));
    // Whose compute each projected device has: measured device i mod M, or the pool.
    const size_t m = service.devices.size();
    auto own = [&](size_t i) -> const ServiceModel& { return m ? service.devices[i % m] : service.pooled; };
    std::vector<double> measuredScales;
    for (const ServiceModel& d : service.devices)
        if (!d.device.empty()) measuredScales.push_back(d.deviceScale());
    std::sort(measuredScales.begin(), measuredScales.end());
    const double prior = measuredScales.empty() ? service.pooled.deviceScale() : measuredScales[measuredScales.size() / 2];
    std::vector<FleetDevice> fleet;
    fleet.reserve(n);
    for (size_t i = 0; i < n; ++i)
        fleet.push_back(FleetDevice{bandwidthBps, goal.deadlineMs, own(i).device.empty() ? prior : own(i).deviceScale(),
                                    planning == "paced" ? options.rateHz : 0.0});
    // Device i on edge i mod edges, as a fleet spreads its devices; each edge planned alone.
    std::vector<int> edgeOf;
    if (options.edges > 1)
        for (size_t i = 0; i < n; ++i) edgeOf.push_back(static_cast<int>(i % static_cast<size_t>(options.edges)));
    options.edgeOf = edgeOf;
    out.plan = planOverEdges(context, goal, fleet, edgeOf, options.servers, planning);
    const LatencyTable& t = context.table;
    const std::vector<double> one{1.0};
    auto ratios = [&](const std::vector<double>& r) -> const std::vector<double>& { return r.empty() ? one : r; };
    std::vector<SimDevice> sim;
    sim.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        const PlanResult& p = out.plan.plans[i];
        // Devices with one plan and one measured device share one set of pools.
        const size_t back = m ? m : 1;
        if (i >= back && sameConfiguration(p, out.plan.plans[i - back])) {
            sim.push_back(sim[i - back]);
            continue;
        }
        const ServiceModel& d = own(i).device.empty() && own(i).deviceFloorMs.empty() ? service.pooled : own(i);
        SimDevice x;
        const double deviceMs = t.deviceMs(p.exit, p.partition);
        x.deviceMs = deviceMs >= kNearZeroMs || d.deviceFloorMs.empty()
                         ? pool(deviceMs, ratios(d.device.empty() ? service.pooled.device : d.device))
                         : pool(1.0, d.deviceFloorMs);
        if (p.partition < t.pathLength(p.exit)) {
            x.transferMs = pool(transferPredictedMs(t, p.exit, p.partition, bandwidthBps), ratios(service.pooled.transfer));
            x.serviceMs = pool(t.edgeMs(p.exit, p.partition), ratios(service.pooled.edge));
        }
        sim.push_back(std::move(x));
    }
    for (const SimDevice& d : sim) out.offloading += d.serviceMs.empty() ? 0 : 1;
    options.deadlineMs = goal.deadlineMs;
    out.sim = simulateFleet(sim, options);
    return out;
}

}  // namespace edgent::core::plan
