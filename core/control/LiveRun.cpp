#include "core/control/LiveRun.h"

#include <QDateTime>
#include <QString>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace edgent::core::control {

using net::Command;
using net::EventKind;
using net::Role;
using Clock = std::chrono::steady_clock;

namespace {

std::string kbps(double bps) { return std::to_string(std::llround(bps / 1000.0)) + " kbps"; }
std::string number(double v) { return QString::number(v, 'g', 12).toStdString(); }

}  // namespace

struct LiveRun::Impl {
    Impl(WorkerLink& l, LiveRunOptions options, LiveRunObserver obs) : link(l), o(std::move(options)), observer(std::move(obs)) {}

    WorkerLink& link;
    const LiveRunOptions o;
    const LiveRunObserver observer;
    int64_t runId = 0;
    std::unique_ptr<store::SampleWriter> writer;
    Controller::Subscription subscription;
    std::thread thread;
    Clock::time_point wallStart = Clock::now();

    mutable std::mutex mutex;
    std::condition_variable wake;
    // Requests from the public members, taken by the run thread (the newest wins).
    bool stopRequested = false;
    std::string stopStatus = "finished";
    bool pauseRequested = false, resumeRequested = false;
    std::optional<std::pair<double, std::string>> bandwidthRequest;
    std::optional<std::pair<RunPlanning, std::string>> goalRequest;
    // The run's state.
    bool active = true;      // events of workers belong to the run
    bool accepting = false;  // samples belong to the run
    bool paused = false;
    bool ended = false;
    int64_t streamId = 0;            // the device's current stream (0 while paused)
    int64_t lastFinishedStream = 0;  // the newest stream the device said has finished
    std::string failure;
    bool clockStarted = false;
    Clock::time_point streamStart, pausedAt, lastSampleAt;
    Clock::duration pausedTotal{};
    size_t nextTracePoint = 1;
    int64_t count = 0;                                  // samples accepted
    uint64_t seqOffset = 0;                             // samples of earlier segments (a resumed stream counts from 0 again)
    double timeOffsetMs = 0.0, lastDeviceTimeMs = 0.0;  // and its clock
    std::vector<net::Sample> samples;
    std::vector<store::EventRow> events;
    struct Mark {
        EventKind kind;
        bool traceStep;
        int64_t samples;
    };
    std::vector<Mark> marks;  // for the switch delays
    double energySum = 0.0;
    std::string energySource;
    // Planning.
    std::optional<RunPlanning> planning;
    std::unique_ptr<plan::ConfigurationMap> map;
    std::unique_ptr<plan::DynamicPlanner> dynamic;
    std::optional<plan::PlanResult> pendingSwitch;  // chosen on the I/O thread, sent by the run thread
    plan::PlanResult current;
    std::optional<plan::PlanResult> firstPlan;
    double assumedBps = 0.0;                          // the bandwidth static plans are made for
    std::map<std::pair<int, int>, double> predicted;  // (exit, partition) -> the latest prediction for it
    int64_t reconfigurations = 0, changePoints = 0;
    LiveRunOutcome outcome;

    double runMsLocked() const {
        if (!clockStarted) return 0.0;
        const auto end = paused ? pausedAt : Clock::now();
        return std::chrono::duration<double, std::milli>(end - streamStart - pausedTotal).count();
    }

    RunEvent recordLocked(EventKind kind, std::string message, double value, std::string role = {},
                          std::optional<plan::PlanResult> plan = std::nullopt, bool traceStep = false) {
        RunEvent e;
        e.kind = kind;
        e.plan = std::move(plan);
        e.row.tMs = runMsLocked();
        e.row.wallTime = QDateTime::currentDateTime().toString(Qt::ISODateWithMs).toStdString();
        e.row.kind = net::eventKindName(kind);
        e.row.role = std::move(role);
        e.row.message = std::move(message);
        e.row.value = value;
        if (writer) writer->addEvent(e.row);
        events.push_back(e.row);
        marks.push_back(Mark{kind, traceStep, count});
        return e;
    }

    void deliver(std::vector<RunEvent>& out) {
        if (observer.onEvent)
            for (const auto& e : out) observer.onEvent(e);
        out.clear();
    }

    plan::PlanResult planFor(double bps) const {
        return plan::choosePlan(planning->table, planning->exitAccuracy, bps, planning->deadlineMs, planning->policy);
    }

    // Puts a plan in force: what the device must change goes into cfg, and a plan event says so.
    void adoptLocked(const plan::PlanResult& p, double forBps, const std::string& source, QJsonObject& cfg,
                     std::vector<RunEvent>& out) {
        predicted[{p.exit, p.partition}] = p.predictedMs;
        const bool changed = p.exit != current.exit || p.partition != current.partition;
        current = p;
        if (!changed) return;
        cfg["exit"] = p.exit;
        cfg["partition"] = p.partition;
        ++reconfigurations;
        out.push_back(recordLocked(EventKind::Plan,
                                   "exit " + std::to_string(p.exit) + ", partition " + std::to_string(p.partition) + " for " +
                                       kbps(forBps) + " (" + source + ")",
                                   forBps, {}, p));
    }

    QJsonObject streamArgs(int64_t remaining, int64_t offset) const {
        return QJsonObject{{"count", static_cast<qint64>(remaining)},
                           {"rate_hz", o.rateHz},
                           {"dataset", QString::fromStdString(o.dataset)},
                           {"data_dir", QString::fromStdString(o.dataDir)},
                           {"offset", static_cast<qint64>(offset)}};
    }

    // --- the controller's I/O thread

    void onSample(const net::Sample& in) {
        store::SampleRow row;
        std::vector<RunEvent> out;
        {
            std::lock_guard lock(mutex);
            if (!accepting || (o.count > 0 && count >= o.count)) return;
            row.sample = in;
            net::Sample& s = row.sample;
            s.sequence += seqOffset;
            s.deviceTimeMs += timeOffsetMs;
            lastDeviceTimeMs = s.deviceTimeMs;
            if (dynamic) {
                // The sample carries the state and source of the configuration in force; its
                // transfer (or probe) then feeds the estimator.
                s.bandwidthStateBps = dynamic->stateLowerBps();
                s.configSource = dynamic->source();
                const auto d = dynamic->observe(s.bytesSent, s.transferMs, s.probeBytes, s.probeMs);
                if (d.changePoint) {
                    ++changePoints;
                    out.push_back(recordLocked(EventKind::ChangePoint, "bandwidth changed: now about " + kbps(d.estimateBps),
                                               d.estimateBps));
                }
                if (d.switchTo) pendingSwitch = d.switchTo;
            }
            const auto p = predicted.find({s.exit, s.partition});
            row.predictedMs = p != predicted.end() ? p->second : NAN;
            if (!o.power.name.empty()) {
                row.energyMj = o.power.energyOf(s);
                row.energySource = o.power.sourceOf(s);
                energySum += row.energyMj;
                energySource = row.energySource;
            }
            writer->add(row);
            if (o.keepSamples) samples.push_back(s);
            ++count;
            lastSampleAt = Clock::now();
        }
        wake.notify_all();
        deliver(out);
        if (observer.onSample) observer.onSample(row);
    }

    void onWorkerEvent(const WorkerEvent& e) {
        if (e.kind != EventKind::StreamFinished && e.kind != EventKind::StreamError && e.kind != EventKind::WorkerDown &&
            e.kind != EventKind::Log)
            return;
        std::vector<RunEvent> out;
        {
            std::lock_guard lock(mutex);
            if (!active) return;
            if (e.kind == EventKind::StreamFinished && e.role == Role::Device)
                lastFinishedStream = std::max(lastFinishedStream, e.stream);
            if (e.kind == EventKind::StreamError && failure.empty())
                failure = std::string(net::roleName(e.role)) + " worker: " + e.message;
            if (e.kind == EventKind::WorkerDown && failure.empty()) failure = e.message + " at " + e.wallTime;
            out.push_back(recordLocked(e.kind, e.message, NAN, net::roleName(e.role)));
        }
        wake.notify_all();
        deliver(out);
    }

    // --- the run thread

    void main() {
        std::string status = "finished", error;
        try {
            const Status s = body(status);
            if (!s) {
                status = "failed";
                error = s.error();
            }
        } catch (const std::exception& e) {
            status = "failed";
            error = std::string("the run failed: ") + e.what();
        }
        finish(status, error);
    }

    Status body(std::string& status) {
        Controller& c = link.controller();
        std::vector<RunEvent> out;
        const double firstShaperBps = o.trace ? o.trace->kbpsAt(0) * 1000.0 : o.bandwidthBps;
        QJsonObject cfg{{"exit", current.exit},
                        {"partition", current.partition},
                        {"bandwidth_bps", firstShaperBps},
                        {"probe", dynamic != nullptr},
                        {"edge_endpoint", QString::fromStdString(c.info(Role::Edge).dataEndpoint)}};
        if (auto r = c.call(Role::Device, Command::Configure, cfg, o.requestTimeoutMs); !r) return makeError(r.error());
        {
            std::lock_guard lock(mutex);
            streamStart = lastSampleAt = Clock::now();
            clockStarted = true;
            accepting = true;
            if (firstPlan)
                out.push_back(recordLocked(EventKind::Plan,
                                           "exit " + std::to_string(current.exit) + ", partition " +
                                               std::to_string(current.partition) + " for " + kbps(assumedBps) + " (initial)",
                                           assumedBps, {}, current));
        }
        deliver(out);
        {
            auto r = c.call(Role::Device, Command::StartStream, streamArgs(o.count, o.offset), o.requestTimeoutMs);
            if (!r) return makeError(r.error());
            std::lock_guard lock(mutex);
            streamId = r->value("stream").toInteger();
        }

        std::unique_lock lock(mutex);
        while (true) {
            if (!failure.empty()) return makeError(failure);
            if (stopRequested) {
                status = stopStatus;
                return Status::success();
            }
            if (streamId != 0 && lastFinishedStream >= streamId) return Status::success();  // the device's count is done
            if (o.count > 0 && count >= o.count) return Status::success();
            const double runMs = runMsLocked();
            if (!paused && o.durationS > 0 && runMs >= o.durationS * 1000.0) return Status::success();
            if (!paused && o.trace && o.count == 0 && o.durationS <= 0 && runMs >= o.trace->durationS() * 1000.0)
                return Status::success();  // the trace's last time stamp ends it

            if (pauseRequested && !paused) {
                pauseRequested = false;
                out.push_back(recordLocked(EventKind::Pause, "paused", NAN));
                paused = true;
                pausedAt = Clock::now();
                streamId = 0;
                lock.unlock();
                deliver(out);
                auto r = c.call(Role::Device, Command::Stop, {}, o.requestTimeoutMs);
                lock.lock();
                if (!r && failure.empty()) failure = "the device did not pause: " + r.error();
                // The device numbers the next segment from 0 again, on a new clock.
                seqOffset = static_cast<uint64_t>(count);
                timeOffsetMs = lastDeviceTimeMs;
                continue;
            }
            if (resumeRequested && paused) {
                resumeRequested = false;
                pausedTotal += Clock::now() - pausedAt;
                paused = false;
                lastSampleAt = Clock::now();
                out.push_back(recordLocked(EventKind::Resume, "resumed", NAN));
                const QJsonObject args = streamArgs(o.count > 0 ? o.count - count : 0, o.offset + count);
                lock.unlock();
                deliver(out);
                auto r = c.call(Role::Device, Command::StartStream, args, o.requestTimeoutMs);
                lock.lock();
                if (!r && failure.empty()) failure = "the device did not resume: " + r.error();
                if (r) streamId = r->value("stream").toInteger();
                continue;
            }
            pauseRequested = resumeRequested = false;

            cfg = QJsonObject();
            if (!paused && o.trace && nextTracePoint < o.trace->points.size() &&
                runMs >= o.trace->points[nextTracePoint].timeS * 1000.0) {
                const double bps = o.trace->points[nextTracePoint].kbps * 1000.0;
                cfg["bandwidth_bps"] = bps;
                out.push_back(recordLocked(EventKind::Bandwidth, kbps(bps) + " (trace step)", bps, {}, std::nullopt, true));
                ++nextTracePoint;
            }
            if (bandwidthRequest) {
                const auto [bps, why] = *bandwidthRequest;
                bandwidthRequest.reset();
                if (o.bandwidthBps > 0.0) cfg["bandwidth_bps"] = bps;  // measure-only runs leave the link alone
                out.push_back(recordLocked(EventKind::Bandwidth, kbps(bps) + (why.empty() ? "" : " (" + why + ")"), bps));
                if (planning && !dynamic) {
                    assumedBps = bps;
                    adoptLocked(planFor(bps), bps, why.empty() ? "bandwidth" : why, cfg, out);
                }
            }
            if (goalRequest) {
                auto [next, why] = std::move(*goalRequest);
                goalRequest.reset();
                if (planning) {
                    out.push_back(recordLocked(EventKind::Goal,
                                               "deadline " + number(next.deadlineMs) + " ms, policy " +
                                                   plan::policyName(next.policy) + ", predictor " + next.predictor +
                                                   (why.empty() ? "" : " (" + why + ")"),
                                               next.deadlineMs));
                    next.dynamic = planning->dynamic;
                    planning = std::move(next);
                    if (dynamic) {
                        const double estimate =
                            dynamic->estimator().estimateBps() > 0 ? dynamic->estimator().estimateBps() : assumedBps;
                        dynamic.reset();
                        map = std::make_unique<plan::ConfigurationMap>(planning->table, planning->exitAccuracy,
                                                                       planning->deadlineMs, planning->policy);
                        dynamic =
                            std::make_unique<plan::DynamicPlanner>(*map, estimate, planning->messageOverheadMs, planning->cusum);
                        pendingSwitch.reset();
                        adoptLocked(dynamic->plan(), static_cast<double>(dynamic->stateLowerBps()), "goal", cfg, out);
                    } else {
                        adoptLocked(planFor(assumedBps), assumedBps, "goal", cfg, out);
                    }
                }
            }
            if (pendingSwitch && dynamic) {
                adoptLocked(*pendingSwitch, static_cast<double>(dynamic->stateLowerBps()), dynamic->source(), cfg, out);
                pendingSwitch.reset();
            }
            if (!cfg.isEmpty() || !out.empty()) {
                lock.unlock();
                deliver(out);
                Result<QJsonObject> r = QJsonObject();
                if (!cfg.isEmpty()) r = c.call(Role::Device, Command::Configure, cfg, o.requestTimeoutMs);
                lock.lock();
                if (!r && failure.empty()) failure = "the device refused the new configuration: " + r.error();
                continue;
            }

            if (!paused && Clock::now() - lastSampleAt > std::chrono::milliseconds(o.sampleSilenceLimitMs)) {
                failure = "the device sent no sample for " + std::to_string(o.sampleSilenceLimitMs / 1000) + " s";
                continue;
            }
            // Local processes that exit are noticed at once, not only by missing heartbeats.
            lock.unlock();
            link.checkLocalProcesses();
            lock.lock();
            double waitMs = 100.0;
            if (!paused && o.trace && nextTracePoint < o.trace->points.size())
                waitMs = std::clamp(o.trace->points[nextTracePoint].timeS * 1000.0 - runMsLocked(), 0.0, waitMs);
            if (!paused && o.durationS > 0) waitMs = std::clamp(o.durationS * 1000.0 - runMsLocked(), 0.0, waitMs);
            wake.wait_for(lock, std::chrono::microseconds(static_cast<int64_t>(waitMs * 1000.0)));
        }
    }

    void finish(std::string status, std::string error) {
        Controller& c = link.controller();
        // Stop the stream and collect the counters of whoever is still alive; samples the
        // device flushes on stopping still count.
        if (c.info(Role::Device).alive) {
            (void)c.call(Role::Device, Command::Stop, {}, 5000);
            if (auto s = c.call(Role::Device, Command::Stats, {}, 5000)) outcome.deviceStats = s->value("stats").toObject();
        }
        if (c.info(Role::Edge).alive)
            if (auto s = c.call(Role::Edge, Command::Stats, {}, 5000)) outcome.edgeStats = s->value("stats").toObject();
        {
            std::lock_guard lock(mutex);
            accepting = false;
            active = false;
        }
        subscription.reset();
        if (auto s = writer->finish(status, error); !s) {
            // The run's own record still says how it ended.
            if (auto db = store::RunStore::open(o.dbPath)) (void)(*db)->finishRun(runId, "failed", s.error());
            status = "failed";
            error = s.error();
        }
        std::lock_guard lock(mutex);
        outcome.runId = runId;
        outcome.status = status;
        outcome.error = error;
        outcome.sampleCount = count;
        outcome.samples = std::move(samples);
        outcome.events = events;
        outcome.firstPlan = firstPlan;
        outcome.deviceHello = c.info(Role::Device).hello;
        outcome.edgeHello = c.info(Role::Edge).hello;
        outcome.changePoints = changePoints;
        outcome.reconfigurations = reconfigurations;
        outcome.energyMjSum = energySum;
        outcome.energySource = energySource;
        for (size_t i = 0; i < marks.size(); ++i) {
            if (!marks[i].traceStep) continue;
            std::optional<int64_t> delay;
            for (size_t j = i + 1; j < marks.size(); ++j) {
                if (marks[j].traceStep) break;
                if (marks[j].kind == EventKind::Plan) {
                    delay = marks[j].samples - marks[i].samples;
                    break;
                }
            }
            outcome.switchDelaySamples.push_back(delay);
        }
        outcome.wallSeconds = std::chrono::duration<double>(Clock::now() - wallStart).count();
        ended = true;
    }
};

LiveRun::LiveRun(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

LiveRun::~LiveRun() {
    stop();
    if (impl_->thread.joinable()) impl_->thread.join();
}

Result<std::unique_ptr<LiveRun>> LiveRun::start(WorkerLink& link, LiveRunOptions options, LiveRunObserver observer) {
    if (options.count < 0) return makeError("the inference count must not be negative");
    if (options.rateHz < 0.0) return makeError("the input rate must not be negative");
    if (options.bandwidthBps < 0.0) return makeError("the bandwidth must not be negative");
    if (options.trace && options.trace->points.empty()) return makeError("the bandwidth trace is empty");
    if (options.planning) {
        const auto& p = *options.planning;
        if (p.deadlineMs <= 0.0) return makeError("a planned run needs a positive deadline");
        if (static_cast<int>(p.exitAccuracy.size()) != p.table.numExits())
            return makeError("the model's exit accuracies do not match its latency table");
    }
    auto impl = std::make_unique<Impl>(link, std::move(options), std::move(observer));
    Impl& r = *impl;
    const LiveRunOptions& o = r.o;

    // The first configuration: the plan for the initial bandwidth, or the manual one.
    const double initialBps =
        o.trace ? o.trace->kbpsAt(0) * 1000.0 : (o.assumedBandwidthBps > 0 ? o.assumedBandwidthBps : o.bandwidthBps);
    r.assumedBps = initialBps;
    r.current.exit = o.exit;
    r.current.partition = o.partition;
    r.current.predictedMs = NAN;
    if (o.planning) {
        r.planning = o.planning;
        if (o.planning->dynamic) {
            r.map = std::make_unique<plan::ConfigurationMap>(r.planning->table, r.planning->exitAccuracy, r.planning->deadlineMs,
                                                             r.planning->policy);
            r.dynamic =
                std::make_unique<plan::DynamicPlanner>(*r.map, initialBps, r.planning->messageOverheadMs, r.planning->cusum);
            r.current = r.dynamic->plan();
        } else {
            r.current = r.planFor(initialBps);
        }
        r.firstPlan = r.current;
        r.predicted[{r.current.exit, r.current.partition}] = r.current.predictedMs;
    }

    // The run is recorded before it starts, so even a crash leaves a trace ("interrupted").
    auto db = store::RunStore::open(o.dbPath);
    if (!db) return makeError(db.error());
    const QJsonObject deviceHello = link.controller().info(Role::Device).hello;
    store::RunStart start;
    start.experiment = o.experiment;
    start.modelId = o.modelId;
    start.modelHash = o.modelHash;
    start.policy = o.planning ? plan::policyName(o.planning->policy) : "manual";
    const bool planned = r.firstPlan.has_value();
    start.params = {{"exit", std::to_string(r.current.exit)},
                    {"partition", std::to_string(r.current.partition)},
                    {"bandwidth_bps", number(o.trace ? initialBps : o.bandwidthBps)},
                    {"shaping", o.bandwidthBps > 0 || o.trace ? "shape" : "measure"},
                    {"count", std::to_string(o.count)},
                    {"rate_hz", number(o.rateHz)},
                    {"deadline_ms", number(o.planning ? o.planning->deadlineMs : o.deadlineMs)},
                    {"dataset", o.dataset},
                    {"offset", std::to_string(o.offset)},
                    {"workers", link.description()},
                    {"power_profile", o.power.name},
                    {"predicted_ms", planned ? number(r.current.predictedMs) : std::string()},
                    {"plan_feasible", !planned || r.current.feasible ? "true" : "false"},
                    {"predictor", o.planning ? o.planning->predictor : std::string()},
                    {"dynamic", o.planning && o.planning->dynamic ? "true" : "false"},
                    {"device_slowdown", number(deviceHello.value("slowdown").toDouble(1.0))},
                    {"trace", ""},
                    {"source", o.source}};
    for (const auto& [k, v] : o.extraParams) start.params[k] = v;
    auto id = (*db)->beginRun(start);
    if (!id) return makeError(id.error());
    r.runId = *id;
    auto writer = store::SampleWriter::start(o.dbPath, r.runId);
    if (!writer) {
        (void)(*db)->finishRun(r.runId, "failed", writer.error());
        return makeError(writer.error());
    }
    r.writer = std::move(*writer);
    r.subscription = link.controller().subscribe([&r](const net::Sample& s) { r.onSample(s); },
                                                 [&r](const WorkerEvent& e) { r.onWorkerEvent(e); });
    r.thread = std::thread([&r] {
        r.main();
        r.wake.notify_all();
        if (r.observer.onFinished) r.observer.onFinished(r.outcome);
    });
    return std::unique_ptr<LiveRun>(new LiveRun(std::move(impl)));
}

Result<LiveRunOutcome> runToEnd(WorkerLink& link, LiveRunOptions options) {
    auto run = LiveRun::start(link, std::move(options));
    if (!run) return makeError(run.error());
    while (!(*run)->waitFor(1000)) {
    }
    return (*run)->outcome();
}

int64_t LiveRun::runId() const { return impl_->runId; }

plan::PlanResult LiveRun::currentPlan() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->current;
}

void LiveRun::setBandwidth(double bps, const std::string& why) {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->bandwidthRequest = std::make_pair(bps, why);
    }
    impl_->wake.notify_all();
}

void LiveRun::setGoal(RunPlanning planning, const std::string& why) {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->goalRequest = std::make_pair(std::move(planning), why);
    }
    impl_->wake.notify_all();
}

void LiveRun::pause() {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->pauseRequested = true;
        impl_->resumeRequested = false;
    }
    impl_->wake.notify_all();
}

void LiveRun::resume() {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->resumeRequested = true;
        impl_->pauseRequested = false;
    }
    impl_->wake.notify_all();
}

bool LiveRun::paused() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->paused || impl_->pauseRequested;
}

void LiveRun::stop(const std::string& status) {
    {
        std::lock_guard lock(impl_->mutex);
        if (!impl_->stopRequested) impl_->stopStatus = status;
        impl_->stopRequested = true;
    }
    impl_->wake.notify_all();
}

bool LiveRun::waitFor(int timeoutMs) {
    std::unique_lock lock(impl_->mutex);
    return impl_->wake.wait_for(lock, std::chrono::milliseconds(timeoutMs), [&] { return impl_->ended; });
}

const LiveRunOutcome& LiveRun::outcome() const { return impl_->outcome; }

bool LiveRun::ended() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->ended;
}

int64_t LiveRun::samples() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->count;
}

double LiveRun::elapsedMs() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->runMsLocked();
}

}  // namespace edgent::core::control
