#include "core/plan/Fleet.h"
#include "core/plan/FleetSim.h"

#include <algorithm>
#include <cmath>
#include <optional>
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

// Options as a frontier: cheaper edge time first, each more accurate than the one before (or
// as accurate and faster). `fits` says which options may be taken; none: the fastest alone.
template <typename Fits>
std::vector<const Option*> frontierOf(const std::vector<Option>& options, Fits fits) {
    std::vector<const Option*> ok, out;
    for (const Option& o : options)
        if (fits(o)) ok.push_back(&o);
    if (ok.empty()) {
        const Option* fastest = &options.front();
        for (const Option& o : options)
            if (o.plan.predictedMs < fastest->plan.predictedMs) fastest = &o;
        return {fastest};
    }
    std::sort(ok.begin(), ok.end(), [](const Option* a, const Option* b) {
        if (a->serviceMs != b->serviceMs) return a->serviceMs < b->serviceMs;
        if (a->plan.accuracy != b->plan.accuracy) return a->plan.accuracy > b->plan.accuracy;
        return a->plan.predictedMs < b->plan.predictedMs;
    });
    for (const Option* o : ok)
        if (out.empty() || o->plan.accuracy > out.back()->plan.accuracy) out.push_back(o);
    return out;
}

constexpr size_t kPacedMaxDevices = 5000;
constexpr int64_t kPacedPeriods = 40;  // simulated inputs per device

// Paced devices (see Fleet.h): from each device's most accurate plan alone, step down until
// the simulated queue meets every deadline within the load cap. nullopt: not a paced fleet.
std::optional<FleetPlan> planPaced(const PlanContext& context, const std::vector<FleetDevice>& devices, int servers,
                                   const std::vector<std::vector<Option>>& options) {
    const size_t n = devices.size();
    if (n == 0 || n > kPacedMaxDevices) return std::nullopt;
    const double rate = devices.front().rateHz;
    for (const FleetDevice& d : devices)
        if (rate <= 0.0 || d.rateHz != rate) return std::nullopt;
    const double k0 = std::max(1, servers);
    std::vector<std::vector<const Option*>> frontier(n);
    std::vector<size_t> at(n);
    for (size_t i = 0; i < n; ++i) {
        frontier[i] = frontierOf(options[i], [&](const Option& o) { return o.plan.predictedMs <= devices[i].deadlineMs; });
        at[i] = frontier[i].size() - 1;
    }
    std::vector<double> worst(n, 0.0);
    auto simulate = [&] {
        std::vector<SimDevice> sim;
        for (size_t i = 0; i < n; ++i) {
            const Option* o = frontier[i][at[i]];
            sim.push_back(SimDevice{{o->ownMs}, {0.0}, o->serviceMs > 0 ? std::vector<double>{o->serviceMs} : std::vector<double>{}});
        }
        SimOptions so;
        so.rateHz = rate;
        so.inputs = kPacedPeriods;
        so.servers = servers;
        so.capacity = 1 << 20;  // the bound is the deadline, not the queue's length
        const SimResult r = simulateFleet(sim, so);
        for (size_t i = 0; i < n; ++i)
            worst[i] = *std::max_element(r.latencyMs.begin() + static_cast<std::ptrdiff_t>(i * kPacedPeriods),
                                         r.latencyMs.begin() + static_cast<std::ptrdiff_t>((i + 1) * kPacedPeriods));
    };
    // The greedy order does not depend on the simulation: record it once, then find the first
    // step of it that meets every deadline within the load cap by bisection, taking that fewer
    // ms of edge work never break a deadline (a few simulations, not one per step).
    // Ties (devices alike) step down in an order whose last devices, those left offloading,
    // are spread over the period (the reverse of a bit-reversal order): devices left offloading
    // side by side in phase would queue behind each other at the edge.
    std::vector<size_t> rank(n);
    {
        int bits = 0;
        while ((size_t{1} << bits) < n) ++bits;
        std::vector<std::pair<size_t, size_t>> keyed;
        for (size_t i = 0; i < n; ++i) {
            size_t r = 0;
            for (int b = 0; b < bits; ++b)
                if (i & (size_t{1} << b)) r |= size_t{1} << (bits - 1 - b);
            keyed.push_back({r, i});
        }
        std::sort(keyed.begin(), keyed.end());
        for (size_t j = 0; j < n; ++j) rank[keyed[j].second] = n - 1 - j;
    }
    std::vector<size_t> order;
    {
        std::vector<size_t> a = at;
        while (true) {
            size_t pick = n;  // the step that loses the least accuracy per ms of edge time saved
            double cost = 0.0;
            for (size_t i = 0; i < n; ++i) {
                if (a[i] == 0) continue;
                const double saved = frontier[i][a[i]]->serviceMs - frontier[i][a[i] - 1]->serviceMs;
                if (saved <= 0) continue;
                const double c = (frontier[i][a[i]]->plan.accuracy - frontier[i][a[i] - 1]->plan.accuracy) / saved;
                if (pick == n || c < cost - 1e-12 || (c <= cost + 1e-12 && rank[i] < rank[pick])) {
                    pick = i;
                    cost = c;
                }
            }
            if (pick == n) break;  // nothing left to step down
            order.push_back(pick);
            --a[pick];
        }
    }
    const std::vector<size_t> top = at;
    auto metAt = [&](size_t k) {
        at = top;
        for (size_t j = 0; j < k; ++j) --at[order[j]];
        double load = 0.0;
        for (size_t i = 0; i < n; ++i) load += frontier[i][at[i]]->serviceMs * rate / 1000.0 / k0;
        simulate();
        bool met = load <= kPacedLoadCap;
        for (size_t i = 0; i < n && met; ++i)
            met = worst[i] <= devices[i].deadlineMs || frontier[i][at[i]]->plan.predictedMs > devices[i].deadlineMs;
        return met;
    };
    if (!metAt(0)) {
        size_t lo = 0, hi = order.size();  // lo: not met; hi: met, or the best it can do
        if (metAt(hi))
            while (hi - lo > 1) {
                const size_t mid = lo + (hi - lo) / 2;
                (metAt(mid) ? hi : lo) = mid;
            }
        metAt(hi);
    }
    FleetPlan fleet;
    fleet.planning = "joint";
    fleet.paced = true;
    for (size_t i = 0; i < n; ++i) fleet.plans.push_back(frontier[i][at[i]]->plan);
    boundFleet(context.table, devices, servers, fleet);
    fleet.feasible = 0;
    for (size_t i = 0; i < n; ++i) {
        fleet.boundMs[i] = worst[i];
        fleet.plans[i].feasible = worst[i] <= devices[i].deadlineMs;
        fleet.feasible += fleet.plans[i].feasible ? 1 : 0;
    }
    return fleet;
}

}  // namespace

PlanContext scaledDevice(const PlanContext& context, double scale) {
    if (scale == 1.0) return context;
    PlanContext out = context;
    out.table = context.table.withDeviceScaled(scale);
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
    if (auto paced = planPaced(context, devices, servers, options))
        if (paced->feasible > best.feasible ||
            (paced->feasible == best.feasible && paced->meanAccuracy > best.meanAccuracy + 1e-12))
            return std::move(*paced);
    return best;
}

FleetPlan planOverEdges(const PlanContext& context, const PlanGoal& goal, const std::vector<FleetDevice>& devices,
                        const std::vector<int>& edgeOf, int servers, const std::string& planning) {
    auto planGroup = [&](const std::vector<FleetDevice>& group) {
        return planning == "independent" ? planIndependently(context, goal, group, servers)
                                         : planJointly(context, goal, group, servers);
    };
    int edges = 1;
    for (int e : edgeOf) edges = std::max(edges, e + 1);
    if (edges == 1 || edgeOf.size() != devices.size()) return planGroup(devices);
    FleetPlan out;
    out.plans.resize(devices.size());
    out.serviceMs.resize(devices.size());
    out.boundMs.resize(devices.size());
    double accuracy = 0.0;
    for (int e = 0; e < edges; ++e) {
        std::vector<size_t> members;
        std::vector<FleetDevice> group;
        for (size_t i = 0; i < devices.size(); ++i)
            if (edgeOf[i] == e) {
                members.push_back(i);
                group.push_back(devices[i]);
            }
        if (group.empty()) continue;
        FleetPlan g = planGroup(group);
        for (size_t j = 0; j < members.size(); ++j) {
            out.plans[members[j]] = g.plans[j];
            out.serviceMs[members[j]] = g.serviceMs[j];
            out.boundMs[members[j]] = g.boundMs[j];
            accuracy += g.plans[j].accuracy;
        }
        out.roundMs = std::max(out.roundMs, g.roundMs);
        out.feasible += g.feasible;
        out.planning = g.planning;
        out.paced = out.paced || g.paced;
    }
    out.meanAccuracy = devices.empty() ? 0.0 : accuracy / static_cast<double>(devices.size());
    return out;
}

}  // namespace edgent::core::plan
