#include "core/control/LiveRunImpl.h"

namespace edgent::core::control {

using net::Role;

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
        if (p.goal.deadlineMs <= 0.0) return makeError("a planned run needs a positive deadline");
        if (static_cast<int>(p.context.exitAccuracy.size()) != p.context.table.numExits())
            return makeError("the model's exit accuracies do not match its latency table");
        if (auto s = plan::checkPlanInputs(p.context, p.goal); !s) return makeError(s.error());
        if (p.external && p.dynamic) return makeError("a fleet's member plans statically");
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
    r.current.early = o.early;
    r.current.codec = o.codec;
    r.current.predictedMs = NAN;
    if (o.planning) {
        r.planning = o.planning;
        if (o.planning->external) {
            r.current = *o.planning->external;
        } else if (o.planning->dynamic) {
            r.buildDynamic(initialBps);
            r.current = r.dynamic->plan();
        } else {
            r.current = r.planFor(initialBps);
        }
        r.firstPlan = r.current;
        r.predicted[Impl::predictionKey(r.current.exit, r.current.partition, net::codecName(r.current.codec))] =
            r.current.predictedMs;
    }

    // The run is recorded before it starts, so even a crash leaves a trace ("interrupted").
    auto db = store::RunStore::open(o.dbPath);
    if (!db) return makeError(db.error());
    const QJsonObject deviceHello = link.controller().info(Role::Device).hello;
    store::RunStart start;
    start.experiment = o.experiment;
    start.modelId = o.modelId;
    start.modelHash = o.modelHash;
    start.policy = o.planning ? plan::policyName(o.planning->goal.policy) : "manual";
    const bool planned = r.firstPlan.has_value();
    start.params = {{"exit", std::to_string(r.current.exit)},
                    {"partition", std::to_string(r.current.partition)},
                    {"bandwidth_bps", number(o.trace ? initialBps : o.bandwidthBps)},
                    {"shaping", o.bandwidthBps > 0 || o.trace ? "shape" : "measure"},
                    {"count", std::to_string(o.count)},
                    {"rate_hz", number(o.rateHz)},
                    {"deadline_ms", number(o.planning ? o.planning->goal.deadlineMs : o.deadlineMs)},
                    {"early_exits", r.current.early.active() ? plan::describePlan(r.current) : std::string()},
                    {"codec", net::codecName(r.current.codec)},
                    {"codec_goal", o.planning ? o.planning->goal.codec : std::string()},
                    {"target_accuracy",
                     o.planning && !std::isnan(o.planning->goal.targetAccuracy) ? number(o.planning->goal.targetAccuracy)
                                                                                 : std::string()},
                    {"dataset", o.dataset},
                    {"offset", std::to_string(o.offset)},
                    {"shift", o.shift},
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

Result<LiveRunOutcome> runToEnd(WorkerLink& link, LiveRunOptions options, const std::atomic<bool>* cancel) {
    auto run = LiveRun::start(link, std::move(options));
    if (!run) return makeError(run.error());
    bool stopped = false;
    while (!(*run)->waitFor(cancel ? 200 : 1000))
        if (cancel && cancel->load() && !stopped) {
            (*run)->stop("interrupted");
            stopped = true;
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

void LiveRun::adoptPlan(const plan::PlanResult& plan, const std::string& why) {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->planRequest = std::make_pair(plan, why);
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
