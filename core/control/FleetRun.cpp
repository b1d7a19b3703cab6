#include "core/control/FleetRun.h"

#include "core/control/FleetEdges.h"

#include <QJsonDocument>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace edgent::core::control {

using net::Role;
using Clock = std::chrono::steady_clock;

namespace {

struct Member {
    int device = 0;
    double bps = 0.0;
    std::string endpoint;  // a remote device's control endpoint; empty: local
    int edge = 0;          // the edge that serves it
    std::optional<plan::BandwidthTrace> trace;  // its shaper follows it
    std::unique_ptr<WorkerLink> link;
    std::unique_ptr<LiveRun> run;
    store::FleetDeviceRow row;
    bool recorded = false;  // its end is in the store
    plan::PlanResult plan;
    double boundMs = 0.0;
    // The device's measured compute against the profile's, per sample (the newest few), and
    // the scale the planner applies to its layers.
    std::deque<double> ratios;
    double scale = 1.0;
    bool measured = false;  // its scale comes from its own samples
};

// How many of a device's newest samples its compute scale is read from, and the percentile.
constexpr size_t kScaleWindow = 40;
constexpr size_t kScaleMinimum = 8;
constexpr double kScaleQuantile = 0.9;
constexpr double kScaleChange = 0.15;  // a new scale re-plans when it differs this much

std::string oneLine(const LiveRunOutcome& o) { return o.error.empty() ? o.status : o.status + ": " + o.error; }

}  // namespace

struct FleetRun::Impl {
    FleetOptions o;
    FleetObserver observer;
    const Clock::time_point t0 = Clock::now();
    int64_t fleetId = 0;
    std::unique_ptr<store::RunStore> db;  // start(), then the fleet thread only
    std::vector<std::unique_ptr<FleetEdge>> edges;  // by number; the fleet thread's (start()'s before)

    mutable std::mutex mutex;
    std::condition_variable wake;
    std::vector<std::unique_ptr<Member>> members;  // by device number
    std::vector<double> addRequests;
    std::vector<int> removeRequests;
    std::vector<std::pair<int, double>> bandwidthRequests;
    std::vector<std::pair<int, double>> traceSteps;  // a device's shaper stepped along its trace
    bool stopRequested = false;
    std::string stopStatus = "finished";
    bool ended = false;
    FleetOutcome outcome;
    std::thread thread;

    double nowMs() const { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

    Status spawn(Member& m) {
        WorkerLinkOptions w;
        w.local = m.endpoint.empty();
        w.deviceEndpoint = m.endpoint;
        w.edgeEndpoint = edges[static_cast<size_t>(m.edge)]->control();
        w.sharedEdgeEndpoint = w.edgeEndpoint;
        w.curveKeysDir = o.curveKeysDir;
        w.deviceThreads = o.deviceThreads;
        w.deviceSlowdown = o.deviceSlowdown;
        w.slowdownWait = o.slowdownWait;
        w.timeoutMs = o.timeoutMs;
        m.link = std::make_unique<WorkerLink>(w);
        if (auto s = m.link->start(); !s) return makeError("device " + std::to_string(m.device) + ": " + s.error());
        if (auto s = m.link->loadModel(o.model); !s) return makeError("device " + std::to_string(m.device) + ": " + s.error());
        m.row.device = m.device;
        m.row.endpoint = m.endpoint.empty() ? m.link->controller().info(Role::Device).endpoint : m.endpoint;
        m.row.bandwidthBps = m.bps;
        m.row.edge = m.edge;
        return Status::success();
    }

    // The plans of every member still running, by the fleet's planning. Caller holds the mutex.
    plan::FleetPlan planLocked(const std::vector<Member*>& active) const {
        std::vector<plan::FleetDevice> devices;
        std::vector<int> edgeOf;
        // A device not yet measured is taken to compute as the fleet's measured devices do (their
        // median scale): else each re-plan would hand the device-side plans to the devices not
        // yet measured, one after another, as their scales are learned in turn.
        const double prior = priorScaleLocked();
        for (const Member* m : active)
            devices.push_back({m->bps, o.planning.goal.deadlineMs, m->measured ? m->scale : prior,
                               o.fleetPlanning == "paced" ? o.run.rateHz : 0.0});
        for (const Member* m : active) edgeOf.push_back(m->edge);
        return plan::planOverEdges(o.planning.context, o.planning.goal, devices, edgeOf, o.edgeServers, o.fleetPlanning);
    }

    // The living edge serving the fewest running devices (the lowest number among equals); -1: none lives.
    int leastLoadedEdgeLocked() {
        std::vector<int> load(edges.size(), 0);
        for (Member* m : activeLocked(true)) ++load[static_cast<size_t>(m->edge)];
        int best = -1;
        for (size_t e = 0; e < edges.size(); ++e)
            if (edges[e]->failure().empty() && (best < 0 || load[e] < load[static_cast<size_t>(best)])) best = static_cast<int>(e);
        return best;
    }

    double priorScaleLocked() const {
        std::vector<double> known;
        for (const auto& m : members)
            if (m->measured) known.push_back(m->scale);
        std::sort(known.begin(), known.end());
        return known.empty() ? 1.0 : known[known.size() / 2];
    }

    std::vector<Member*> activeLocked(bool includeUnstarted) {
        std::vector<Member*> out;
        for (auto& m : members)
            if (!m->recorded && (m->run ? !m->run->ended() : includeUnstarted)) out.push_back(m.get());
        return out;
    }

    // Re-plans the running members and hands each its plan. Caller holds the mutex.
    void replanLocked(const std::string& why) {
        auto active = activeLocked(false);
        if (active.empty()) return;
        const plan::FleetPlan fleet = planLocked(active);
        for (size_t i = 0; i < active.size(); ++i) {
            Member& m = *active[i];
            m.boundMs = fleet.boundMs[i];
            const bool changed = !plan::sameConfiguration(m.plan, fleet.plans[i]);
            m.plan = fleet.plans[i];
            if (changed) m.run->adoptPlan(m.plan, "fleet: " + why);
        }
        ++outcome.replans;
    }

    Status startMember(Member& m) {
        LiveRunOptions r = o.run;
        r.device = m.device;
        r.bandwidthBps = o.shapeLinks ? m.bps : 0.0;
        r.assumedBandwidthBps = m.bps;
        r.trace = m.trace;
        r.offset = (o.run.offset + 1000 * static_cast<int64_t>(m.device)) % 10000;  // each device its own images
        // Devices at a rate start out of step, spread over one period, as independent cameras are;
        // in step, they would also compute at the same instants on this host's shared cores.
        const int n = std::max<int>(1, static_cast<int>(o.bandwidthsBps.size()));
        if (r.rateHz > 0) r.phaseMs = 1000.0 / r.rateHz * static_cast<double>(m.device % n) / n;
        r.extraParams["fleet_id"] = std::to_string(fleetId);
        r.extraParams["fleet_device"] = std::to_string(m.device);
        r.extraParams["fleet_planning"] = o.fleetPlanning;
        r.extraParams["fleet_bound_ms"] = std::to_string(m.boundMs);
        RunPlanning p = o.planning;
        p.dynamic = false;
        p.external = m.plan;
        r.planning = p;
        LiveRunObserver obs;
        const int device = m.device;
        obs.onSample = [this, device](const store::SampleRow& row) {
            const net::Sample& x = row.sample;
            const plan::LatencyTable& t = o.planning.context.table;
            if (!x.busy && x.partition > 0 && x.deviceMs > 0 && x.exit < t.numExits() && x.partition <= t.pathLength(x.exit) &&
                t.deviceMs(x.exit, x.partition) > 0) {
                std::lock_guard lock(mutex);
                auto& r = members[static_cast<size_t>(device)]->ratios;
                r.push_back(x.deviceMs / t.deviceMs(x.exit, x.partition));
                if (r.size() > kScaleWindow) r.pop_front();
            }
            if (observer.onSample) observer.onSample(device, row);
        };
        obs.onEvent = [this, device](const RunEvent& e) {
            if (e.kind == net::EventKind::Bandwidth && e.row.message.find("(trace step)") != std::string::npos &&
                e.row.value > 0) {
                {
                    std::lock_guard lock(mutex);
                    traceSteps.push_back({device, e.row.value});
                }
                wake.notify_all();
            }
            if (observer.onEvent) observer.onEvent(device, e);
        };
        obs.onFinished = [this](const LiveRunOutcome&) { wake.notify_all(); };
        auto run = LiveRun::start(*m.link, r, obs);
        if (!run) return makeError("device " + std::to_string(m.device) + ": " + run.error());
        m.row.runId = (*run)->runId();
        m.row.joinedMs = nowMs();
        {
            std::lock_guard lock(mutex);
            m.run = std::move(*run);
        }
        return db->saveFleetDevice(fleetId, m.row);
    }

    std::vector<FleetDeviceStatus> statusLocked() const {
        std::vector<FleetDeviceStatus> out;
        for (const auto& m : members) {
            FleetDeviceStatus s;
            s.device = m->device;
            s.runId = m->row.runId;
            s.state = !m->run ? "starting" : (m->recorded || m->run->ended()) ? "ended" : "running";
            s.endReason = m->row.endReason;
            s.samples = m->run ? m->run->samples() : 0;
            s.edge = m->edge;
            s.bandwidthBps = m->bps;
            s.plan = m->plan;
            s.boundMs = m->boundMs;
            s.deviceScale = m->scale;
            out.push_back(s);
        }
        return out;
    }
    void announce() {
        if (!observer.onDevices) return;
        std::vector<FleetDeviceStatus> s;
        {
            std::lock_guard lock(mutex);
            s = statusLocked();
        }
        observer.onDevices(s);
    }

    void pollEdges() {
        for (auto& e : edges) {
            if (e->noticeDeath()) {
                // Its devices hear it now, not after their own timeout: each run ends, keeping its samples.
                std::lock_guard lock(mutex);
                for (auto& m : members)
                    if (m->link && m->edge == e->index()) m->link->controller().markDead(Role::Edge, e->failure());
                continue;
            }
            auto row = e->poll(nowMs());
            if (!row) continue;
            (void)db->addFleetEdge(fleetId, *row);
            outcome.edge.push_back(*row);
            if (observer.onEdge) observer.onEdge(*row);
        }
    }

    Clock::time_point nextRescale = Clock::now() + std::chrono::milliseconds(500);

    void main();
    void finish();
};

void FleetRun::Impl::main() {
    while (true) {
        std::vector<double> adds;
        std::vector<int> removes;
        std::vector<std::pair<int, double>> bandwidths, steps;
        bool stopping = false;
        {
            std::unique_lock lock(mutex);
            wake.wait_for(lock, std::chrono::milliseconds(o.edgePollMs));
            adds.swap(addRequests);
            removes.swap(removeRequests);
            bandwidths.swap(bandwidthRequests);
            steps.swap(traceSteps);
            stopping = stopRequested;
        }
        if (stopping) {
            std::string status;
            {
                std::lock_guard lock(mutex);
                status = stopStatus;
                for (auto& m : members)
                    if (m->run) m->run->stop(status);
            }
            for (auto& m : members)
                if (m->run) (void)m->run->waitFor(30000);  // bounded: each run ends on its own within its silence limit
        }
        bool changed = false;
        std::string why;
        for (double bps : adds) {
            if (stopping) break;
            auto m = std::make_unique<Member>();
            m->bps = bps;
            {
                std::lock_guard lock(mutex);
                m->edge = leastLoadedEdgeLocked();
                if (m->edge < 0) break;  // every edge died: nothing to join
                m->device = static_cast<int>(members.size());
                members.push_back(std::move(m));
            }
            Member& added = *members.back();
            if (auto s = spawn(added); !s) {
                std::lock_guard lock(mutex);
                added.row.endReason = "failed to start: " + s.error();
                added.row.leftMs = added.row.joinedMs = nowMs();
                added.recorded = true;
                (void)db->saveFleetDevice(fleetId, added.row);
                continue;
            }
            {
                std::lock_guard lock(mutex);
                auto active = activeLocked(false);
                active.push_back(&added);
                const plan::FleetPlan fleet = planLocked(active);
                added.plan = fleet.plans.back();
                added.boundMs = fleet.boundMs.back();
            }
            if (auto s = startMember(added); !s) {
                std::lock_guard lock(mutex);
                added.row.endReason = "failed to start: " + s.error();
                added.row.leftMs = nowMs();
                added.recorded = true;
                (void)db->saveFleetDevice(fleetId, added.row);
                continue;
            }
            changed = true;
            why = "device " + std::to_string(added.device) + " joined";
        }
        {
            std::lock_guard lock(mutex);
            for (int d : removes)
                if (d >= 0 && d < static_cast<int>(members.size()) && members[static_cast<size_t>(d)]->run) {
                    members[static_cast<size_t>(d)]->row.endReason = "removed";
                    members[static_cast<size_t>(d)]->run->stop("finished");
                }
            // Bandwidths set live go to the device's shaper; a trace's steps are there already.
            const auto adopt = [&](int d, double bps, bool shape) {
                if (d < 0 || d >= static_cast<int>(members.size()) || !members[static_cast<size_t>(d)]->run) return;
                Member& m = *members[static_cast<size_t>(d)];
                m.bps = bps;
                m.row.bandwidthBps = bps;
                if (shape && o.shapeLinks) m.run->setBandwidth(bps, "fleet");
                changed = true;
                why = "device " + std::to_string(d) + " at " + std::to_string(static_cast<int64_t>(bps / 1000)) + " kbps";
            };
            for (auto [d, bps] : bandwidths) adopt(d, bps, true);
            for (auto [d, bps] : steps) adopt(d, bps, false);
        }
        pollEdges();
        // Devices whose run ended: their leave goes into the store, and the others re-plan.
        bool allEnded = true;
        {
            std::lock_guard lock(mutex);
            for (auto& m : members) {
                if (m->recorded) continue;
                if (!m->run || !m->run->ended()) {
                    allEnded = false;
                    continue;
                }
                const LiveRunOutcome& out = m->run->outcome();
                m->row.leftMs = nowMs();
                const std::string how = oneLine(out);
                m->row.endReason = m->row.endReason == "removed" ? "removed (" + how + ")" : how;
                m->recorded = true;
                (void)db->saveFleetDevice(fleetId, m->row);
                changed = true;
                why = "device " + std::to_string(m->device) + " left";
            }
            // The devices' compute as the run meets it: a device slower (or faster) than its
            // profile is planned with its measured scale.
            if (!stopping && Clock::now() >= nextRescale) {
                nextRescale = Clock::now() + std::chrono::milliseconds(500);
                for (auto& m : members) {
                    if (m->recorded || !m->run || m->ratios.size() < kScaleMinimum) continue;
                    std::vector<double> r(m->ratios.begin(), m->ratios.end());
                    std::sort(r.begin(), r.end());
                    const double q = std::clamp(r[static_cast<size_t>(kScaleQuantile * static_cast<double>(r.size() - 1))], 0.5, 10.0);
                    const double before = m->measured ? m->scale : priorScaleLocked();
                    m->measured = true;
                    m->scale = before;
                    if (std::abs(q / before - 1.0) <= kScaleChange) continue;
                    m->scale = q;
                    m->ratios.clear();
                    changed = true;
                    why = "device " + std::to_string(m->device) + " computes at " + std::to_string(q).substr(0, 4) +
                          "x its profile";
                }
            }
            if (changed && !stopping) replanLocked(why);
        }
        if (changed) announce();
        if (allEnded && (stopping || adds.empty())) {
            std::lock_guard lock(mutex);
            if (addRequests.empty()) break;
        }
    }
    finish();
}

void FleetRun::Impl::finish() {
    std::vector<std::string> failures;
    for (auto& m : members) {
        if (!m->run) continue;
        outcome.runs.push_back(m->run->outcome());
        if (m->run->outcome().status == "failed") failures.push_back("device " + std::to_string(m->device) + ": " + m->run->outcome().error);
    }
    for (auto& m : members) {
        outcome.devices.push_back(m->row);
        outcome.deviceScales.push_back(m->scale);
    }
    for (auto& m : members)
        if (m->link) m->link->shutdown();
    for (auto& e : edges) {
        (void)e->noticeDeath();
        e->finish();
        outcome.edgeStats.push_back(e->stats());
        if (!e->failure().empty()) outcome.edgeFailures.push_back(e->failure());
    }
    {
        std::lock_guard lock(mutex);
        outcome.status = stopRequested ? stopStatus : "finished";
    }
    if (!outcome.edgeFailures.empty() && outcome.edgeFailures.size() == edges.size()) {
        outcome.status = "failed";
        outcome.error = outcome.edgeFailures.front();
    } else if (!outcome.edgeFailures.empty()) {
        outcome.error = std::to_string(outcome.edgeFailures.size()) + " of " + std::to_string(edges.size()) +
                        " edges died, their devices' runs ended; the first: " + outcome.edgeFailures.front();
    } else if (!failures.empty() && failures.size() == outcome.runs.size()) {
        outcome.status = "failed";
        outcome.error = failures.front();
    } else if (!failures.empty()) {
        outcome.error = std::to_string(failures.size()) + " of " + std::to_string(outcome.runs.size()) +
                        " devices failed; the first: " + failures.front();
    }
    (void)db->finishFleet(fleetId, outcome.status, outcome.error);
    outcome.fleetId = fleetId;
    outcome.wallSeconds = std::chrono::duration<double>(Clock::now() - t0).count();
    {
        std::lock_guard lock(mutex);
        ended = true;
    }
    wake.notify_all();
    if (observer.onFinished) observer.onFinished(outcome);
}

FleetRun::FleetRun(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FleetRun::~FleetRun() {
    stop("interrupted");
    if (impl_->thread.joinable()) impl_->thread.join();
}

Result<std::unique_ptr<FleetRun>> FleetRun::start(FleetOptions options, FleetObserver observer) {
    if (auto s = checkFleetOptions(options); !s) return makeError(s.error());
    auto impl = std::make_unique<Impl>();
    Impl& f = *impl;
    f.o = std::move(options);
    f.observer = std::move(observer);

    // The edges: spawned, or reached; the model goes on each once.
    const int edgeCount = f.o.edgeEndpoints.empty() ? f.o.edges : static_cast<int>(f.o.edgeEndpoints.size());
    for (int e = 0; e < edgeCount; ++e) {
        auto edge = FleetEdge::start(e, f.o.edgeEndpoints.empty() ? std::string() : f.o.edgeEndpoints[static_cast<size_t>(e)], f.o);
        if (!edge) return makeError(edge.error());
        f.edges.push_back(std::move(*edge));
    }

    auto db = store::RunStore::open(f.o.run.dbPath);
    if (!db) return makeError(db.error());
    f.db = std::move(*db);
    QJsonObject params{{"devices", static_cast<int>(f.o.bandwidthsBps.size())},
                       {"deadline_ms", f.o.planning.goal.deadlineMs},
                       {"device_slowdown", f.o.deviceSlowdown},
                       {"slowdown_wait", QString::fromStdString(f.o.slowdownWait)},
                       {"edge_servers", f.o.edgeServers},
                       {"edges", edgeCount},
                       {"shaped", f.o.shapeLinks},
                       {"edge_queue", f.o.edgeQueue},
                       {"edge_queue_per_device", f.o.edgeQueuePerDevice},
                       {"predictor", QString::fromStdString(f.o.planning.predictor)},
                       {"count", static_cast<qint64>(f.o.run.count)}};
    auto id = f.db->beginFleet(f.o.run.experiment, f.o.fleetPlanning,
                               QJsonDocument(params).toJson(QJsonDocument::Compact).toStdString());
    if (!id) return makeError(id.error());
    f.fleetId = *id;

    // Every device is up before any starts, so that the first plan counts them all.
    for (size_t i = 0; i < f.o.bandwidthsBps.size(); ++i) {
        auto m = std::make_unique<Member>();
        m->device = static_cast<int>(i);
        m->edge = static_cast<int>(i % static_cast<size_t>(edgeCount));
        m->bps = f.o.bandwidthsBps[i];
        if (i < f.o.traces.size() && f.o.traces[i] && !f.o.traces[i]->points.empty()) {
            m->trace = f.o.traces[i];
            m->bps = m->trace->kbpsAt(0) * 1000.0;
        }
        if (!f.o.deviceEndpoints.empty()) m->endpoint = f.o.deviceEndpoints[i];
        f.members.push_back(std::move(m));
        if (auto s = f.spawn(*f.members.back()); !s) {
            (void)f.db->finishFleet(f.fleetId, "failed", s.error());
            return makeError(s.error());
        }
    }
    {
        std::lock_guard lock(f.mutex);
        std::vector<Member*> all;
        for (auto& m : f.members) all.push_back(m.get());
        f.outcome.firstPlan = f.planLocked(all);
        for (size_t i = 0; i < all.size(); ++i) {
            all[i]->plan = f.outcome.firstPlan.plans[i];
            all[i]->boundMs = f.outcome.firstPlan.boundMs[i];
        }
    }
    for (auto& m : f.members)
        if (auto s = f.startMember(*m); !s) {
            for (auto& other : f.members)
                if (other->run) other->run->stop("failed");
            for (auto& other : f.members) other->run.reset();
            (void)f.db->finishFleet(f.fleetId, "failed", s.error());
            return makeError(s.error());
        }
    f.announce();
    f.thread = std::thread([&f] { f.main(); });
    return std::unique_ptr<FleetRun>(new FleetRun(std::move(impl)));
}

int64_t FleetRun::fleetId() const { return impl_->fleetId; }

void FleetRun::addDevice(double bandwidthBps) {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->addRequests.push_back(bandwidthBps);
    }
    impl_->wake.notify_all();
}

void FleetRun::removeDevice(int device) {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->removeRequests.push_back(device);
    }
    impl_->wake.notify_all();
}

void FleetRun::setBandwidth(int device, double bandwidthBps) {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->bandwidthRequests.push_back({device, bandwidthBps});
    }
    impl_->wake.notify_all();
}

void FleetRun::stop(const std::string& status) {
    {
        std::lock_guard lock(impl_->mutex);
        if (!impl_->stopRequested) impl_->stopStatus = status;
        impl_->stopRequested = true;
    }
    impl_->wake.notify_all();
}

bool FleetRun::waitFor(int timeoutMs) {
    std::unique_lock lock(impl_->mutex);
    return impl_->wake.wait_for(lock, std::chrono::milliseconds(timeoutMs), [&] { return impl_->ended; });
}

bool FleetRun::ended() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->ended;
}

const FleetOutcome& FleetRun::outcome() const { return impl_->outcome; }

std::vector<FleetDeviceStatus> FleetRun::devices() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->statusLocked();
}

long FleetRun::devicePid(int device) const {
    std::lock_guard lock(impl_->mutex);
    if (device < 0 || device >= static_cast<int>(impl_->members.size())) return 0;
    const auto& m = impl_->members[static_cast<size_t>(device)];
    return m->link ? m->link->localPid(Role::Device) : 0;
}

long FleetRun::edgePid(int edge) const {
    // The edges are fixed once start() returns; each one's process stays until the fleet is destroyed.
    if (edge < 0 || edge >= static_cast<int>(impl_->edges.size())) return 0;
    return impl_->edges[static_cast<size_t>(edge)]->pid();
}

int FleetRun::edges() const { return static_cast<int>(impl_->edges.size()); }

}  // namespace edgent::core::control
