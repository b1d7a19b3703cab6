#include "core/plan/FleetSim.h"

#include "core/util/Stats.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <queue>
#include <random>

namespace edgent::core::plan {

namespace {

struct Event {
    double t;
    int device;
    bool arrival;  // false: the device starts an input; true: its frame reaches the edge
    double startedAt;
    bool operator>(const Event& o) const { return t > o.t; }
};

}  // namespace

SimResult simulateFleet(const std::vector<SimDevice>& devices, const SimOptions& o) {
    SimResult r;
    const size_t n = devices.size();
    if (n == 0) return r;
    std::mt19937_64 rng(o.seed);
    auto draw = [&](const std::vector<double>& pool) {
        if (pool.empty()) return 0.0;
        return pool[std::uniform_int_distribution<size_t>(0, pool.size() - 1)(rng)];
    };
    const double periodMs = o.rateHz > 0 ? 1000.0 / o.rateHz : 0.0;
    std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events;
    std::vector<int64_t> started(n, 0);
    std::vector<std::vector<double>> latency(n);
    // Each device's phase: spread over the period as the fleet spreads them, or, when
    // randomPhases, anywhere in it (each device's stream starts when its own configure returns).
    std::vector<double> phase(n);
    for (size_t i = 0; i < n; ++i)
        phase[i] = o.randomPhases ? std::uniform_real_distribution<double>(0.0, periodMs)(rng)
                                  : periodMs * static_cast<double>(i) / static_cast<double>(n);
    for (size_t i = 0; i < n; ++i) events.push({phase[i], static_cast<int>(i), false, 0.0});
    // Each edge: each server's next free time (frames begin in arrival order), and the begin
    // times of frames accepted and not yet begun, for the capacity.
    const size_t edges = static_cast<size_t>(std::max(1, o.edges));
    const size_t servers = static_cast<size_t>(std::max(1, o.servers));
    std::vector<std::vector<double>> freeAtOf(edges, std::vector<double>(servers, 0.0));
    std::vector<std::deque<double>> beginsAheadOf(edges);
    auto edgeOf = [&](size_t i) {
        if (i < o.edgeOf.size()) return std::clamp<size_t>(static_cast<size_t>(std::max(0, o.edgeOf[i])), 0, edges - 1);
        return i % edges;
    };
    double busyMs = 0.0, endMs = 0.0;
    auto next = [&](int d, double doneAt) {
        const size_t i = static_cast<size_t>(d);
        endMs = std::max(endMs, doneAt);
        if (started[i] >= o.inputs) return;
        const double scheduled = phase[i] + periodMs * static_cast<double>(started[i]);
        events.push({std::max(scheduled, doneAt), d, false, 0.0});
    };
    while (!events.empty()) {
        const Event e = events.top();
        events.pop();
        const size_t i = static_cast<size_t>(e.device);
        const SimDevice& dev = devices[i];
        if (!e.arrival) {
            ++started[i];
            const double computed = e.t + draw(dev.deviceMs);
            if (dev.serviceMs.empty()) {
                latency[i].push_back(computed - e.t);
                next(e.device, computed);
            } else {
                events.push({computed + draw(dev.transferMs), e.device, true, e.t});
            }
            continue;
        }
        std::vector<double>& freeAt = freeAtOf[edgeOf(i)];
        std::deque<double>& beginsAhead = beginsAheadOf[edgeOf(i)];
        while (!beginsAhead.empty() && beginsAhead.front() <= e.t) beginsAhead.pop_front();
        auto server = std::min_element(freeAt.begin(), freeAt.end());
        const double begin = std::max(e.t, *server);
        if (begin > e.t && static_cast<int>(beginsAhead.size()) >= o.capacity) {
            ++r.shed;  // it would wait behind a full queue: busy, answered at once, no prediction
            latency[i].push_back(-1.0);
            next(e.device, e.t + o.busyBackoffMs);
            continue;
        }
        const double service = draw(dev.serviceMs);
        *server = begin + service;
        busyMs += service;
        if (begin > e.t) beginsAhead.insert(std::upper_bound(beginsAhead.begin(), beginsAhead.end(), begin), begin);
        latency[i].push_back(begin + service - e.startedAt);
        next(e.device, begin + service);
    }
    int64_t hits = 0, answered = 0;
    for (size_t i = 0; i < n; ++i) {
        std::vector<double> sorted;
        for (double x : latency[i]) {
            r.latencyMs.push_back(x);
            if (x < 0) continue;
            sorted.push_back(x);
            ++answered;
            hits += o.deadlineMs > 0 && x <= o.deadlineMs;
        }
        std::sort(sorted.begin(), sorted.end());
        r.deviceP95Ms.push_back(sorted.empty() ? 0.0 : nearestRank(sorted, 0.95));
    }
    std::vector<double> all;
    for (double x : r.latencyMs)
        if (x >= 0) all.push_back(x);
    std::sort(all.begin(), all.end());
    if (!all.empty()) {
        r.p95Ms = nearestRank(all, 0.95);
        r.p50Ms = nearestRank(all, 0.50);
    }
    r.hitRate = r.latencyMs.empty() ? 0.0 : static_cast<double>(hits) / static_cast<double>(r.latencyMs.size());
    r.utilisation = endMs > 0 ? busyMs / endMs / static_cast<double>(servers * edges) : 0.0;
    r.throughputHz = endMs > 0 ? static_cast<double>(answered) / (endMs / 1000.0) : 0.0;
    return r;
}

}  // namespace edgent::core::plan
