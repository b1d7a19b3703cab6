#include "core/plan/Fleet.h"

#include <algorithm>
#include <cmath>
#include <queue>

namespace edgent::core::plan {

namespace {

struct Option {
    PlanResult plan;
    double ownMs = 0.0;  // A - s: the device's compute, encode and transfer
    double serviceMs = 0.0;
};

// Every (exit, partition, codec) the goal allows, for one device's bandwidth.
std::vector<Option> optionsFor(const PlanContext& context, const PlanGoal& goal, double bps) {
    const LatencyTable& t = context.table;
    int pinned = -1;
    if (goal.codec != "auto")
        if (auto c = net::codecFromName(goal.codec)) pinned = std::max(0, t.codecOption(*c));
    std::vector<Option> out;
    for (int e = 0; e < t.numExits(); ++e)
        for (int p = 0; p <= t.pathLength(e); ++p)
            for (int c = 0; c < t.numCodecs(); ++c) {
                if (pinned >= 0 && c != pinned && c != 0) continue;
                if (!t.codecApplies(c, e, p)) continue;
                Option o;
                o.plan.policy = goal.policy;
                o.plan.exit = e;
                o.plan.partition = p;
                o.plan.codec = t.codecAt(c);
                o.plan.predictedMs = t.predictMs(e, p, bps, c);
                o.plan.accuracy = context.exitAccuracy[static_cast<size_t>(e)] - t.accuracyDrop(c, e, p);
                o.serviceMs = edgeServiceMs(t, o.plan);
                o.ownMs = o.plan.predictedMs - o.serviceMs;
                out.push_back(o);
            }
    return out;
}

}  // namespace

PlanContext scaledDevice(const PlanContext& context, double scale) {
    if (scale == 1.0) return context;
    const LatencyTable& t = context.table;
    std::vector<std::vector<double>> device, edge;
    for (int e = 0; e < t.numExits(); ++e) {
        device.emplace_back();
        edge.emplace_back();
        for (int i = 0; i < t.pathLength(e); ++i) {
            device.back().push_back(t.deviceLayerMs(e, i) * scale);
            edge.back().push_back(t.edgeLayerMs(e, i));
        }
    }
    PlanContext out = context;
    if (auto scaled = LatencyTable::fromLayerTimes(context.spec, device, edge, t.overheadMs())) out.table = std::move(*scaled);
    out.typical.reset();
    out.tail.reset();
    return out;
}

double edgeServiceMs(const LatencyTable& table, const PlanResult& plan) {
    if (plan.partition >= table.pathLength(plan.exit)) return 0.0;
    return table.edgeMs(plan.exit, plan.partition);
}

void boundFleet(const LatencyTable& table, const std::vector<FleetDevice>& devices, int servers, FleetPlan& fleet) {
    const size_t n = fleet.plans.size();
    fleet.serviceMs.assign(n, 0.0);
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) sum += fleet.serviceMs[i] = edgeServiceMs(table, fleet.plans[i]);
    const double k = std::max(1, servers);
    fleet.roundMs = sum / k;
    fleet.boundMs.assign(n, 0.0);
    fleet.feasible = 0;
    fleet.meanAccuracy = 0.0;
    for (size_t i = 0; i < n; ++i) {
        // Only a device that offloads waits for the others.
        const double wait = fleet.serviceMs[i] > 0.0 ? (sum - fleet.serviceMs[i]) / k : 0.0;
        fleet.boundMs[i] = fleet.plans[i].predictedMs + wait;
        fleet.plans[i].feasible = fleet.boundMs[i] <= devices[i].deadlineMs;
        fleet.feasible += fleet.plans[i].feasible ? 1 : 0;
        fleet.meanAccuracy += fleet.plans[i].accuracy / static_cast<double>(n);
    }
}

FleetPlan planIndependently(const PlanContext& context, const PlanGoal& goal, const std::vector<FleetDevice>& devices,
                            int servers) {
    FleetPlan fleet;
    fleet.planning = "independent";
    for (const FleetDevice& d : devices) {
        PlanGoal g = goal;
        g.deadlineMs = d.deadlineMs;
        const PlanContext c = scaledDevice(context, d.deviceScale);
        auto p = makePlan(c, g, d.bandwidthBps);
        fleet.plans.push_back(p ? *p : choosePlan(c.table, c.exitAccuracy, d.bandwidthBps, d.deadlineMs, Policy::Edgent));
    }
    boundFleet(context.table, devices, servers, fleet);
    return fleet;
}

FleetPlan planJointly(const PlanContext& context, const PlanGoal& goal, const std::vector<FleetDevice>& devices, int servers) {
    const size_t n = devices.size();
    const double k = std::max(1, servers);
    std::vector<std::vector<Option>> options(n);
    double maxDeadline = 0.0;
    for (size_t i = 0; i < n; ++i) {
        options[i] = optionsFor(scaledDevice(context, devices[i].deviceScale), goal, devices[i].bandwidthBps);
        maxDeadline = std::max(maxDeadline, devices[i].deadlineMs);
    }
    FleetPlan best;
    best.planning = "joint";
    bool haveBest = false;
    constexpr int kSteps = 400;
    for (int step = 0; step <= kSteps; ++step) {
        const double round = maxDeadline * step / kSteps;  // S / servers
        // Each device's options that meet its deadline at this round, as a frontier: cheaper
        // edge time first, each step more accurate than the one before.
        std::vector<std::vector<const Option*>> frontier(n);
        std::vector<size_t> at(n);
        FleetPlan fleet;
        fleet.planning = "joint";
        double load = 0.0;  // sum of s
        for (size_t i = 0; i < n; ++i) {
            std::vector<const Option*> ok;
            for (const Option& o : options[i])
                if (o.ownMs + (o.serviceMs > 0 ? o.serviceMs * (1.0 - 1.0 / k) + round : 0.0) <= devices[i].deadlineMs &&
                    o.serviceMs / k <= round + 1e-12)
                    ok.push_back(&o);
            if (ok.empty()) {
                // Nothing meets the deadline: the fastest option, which cannot be made worse.
                const Option* fastest = &options[i].front();
                for (const Option& o : options[i])
                    if (o.plan.predictedMs < fastest->plan.predictedMs) fastest = &o;
                frontier[i] = {fastest};
            } else {
                std::sort(ok.begin(), ok.end(), [](const Option* a, const Option* b) {
                    if (a->serviceMs != b->serviceMs) return a->serviceMs < b->serviceMs;
                    if (a->plan.accuracy != b->plan.accuracy) return a->plan.accuracy > b->plan.accuracy;
                    return a->plan.predictedMs < b->plan.predictedMs;
                });
                // Among equally accurate options, more edge time must buy a lower bound (Edgent's
                // fastest partition); stepping back down then costs no accuracy.
                auto bound = [&](const Option* o) { return o->ownMs + (o->serviceMs > 0 ? o->serviceMs * (1.0 - 1.0 / k) + round : 0.0); };
                for (const Option* o : ok)
                    if (frontier[i].empty() || o->plan.accuracy > frontier[i].back()->plan.accuracy ||
                        (o->plan.accuracy == frontier[i].back()->plan.accuracy && bound(o) < bound(frontier[i].back())))
                        frontier[i].push_back(o);
            }
            at[i] = frontier[i].size() - 1;  // the most accurate
            load += frontier[i][at[i]]->serviceMs;
        }
        // Step down where it costs the least accuracy per ms of edge time, until the load fits.
        using Step = std::pair<double, size_t>;  // (accuracy lost per ms saved, device)
        std::priority_queue<Step, std::vector<Step>, std::greater<Step>> steps;
        auto push = [&](size_t i) {
            if (at[i] == 0) return;
            const Option* now = frontier[i][at[i]];
            const Option* next = frontier[i][at[i] - 1];
            const double saved = now->serviceMs - next->serviceMs;
            if (saved <= 0) return;
            steps.push({(now->plan.accuracy - next->plan.accuracy) / saved, i});
        };
        for (size_t i = 0; i < n; ++i) push(i);
        while (load / k > round + 1e-9 && !steps.empty()) {
            const size_t i = steps.top().second;
            steps.pop();
            load -= frontier[i][at[i]]->serviceMs - frontier[i][at[i] - 1]->serviceMs;
            --at[i];
            push(i);
        }
        for (size_t i = 0; i < n; ++i) fleet.plans.push_back(frontier[i][at[i]]->plan);
        boundFleet(context.table, devices, servers, fleet);
        auto meanBound = [](const FleetPlan& f) {
            double sum = 0.0;
            for (double b : f.boundMs) sum += b;
            return f.boundMs.empty() ? 0.0 : sum / static_cast<double>(f.boundMs.size());
        };
        if (!haveBest || fleet.feasible > best.feasible ||
            (fleet.feasible == best.feasible && fleet.meanAccuracy > best.meanAccuracy + 1e-12) ||
            (fleet.feasible == best.feasible && std::abs(fleet.meanAccuracy - best.meanAccuracy) <= 1e-12 &&
             meanBound(fleet) < meanBound(best) - 1e-9)) {
            best = std::move(fleet);
            haveBest = true;
        }
    }
    return best;
}

}  // namespace edgent::core::plan
