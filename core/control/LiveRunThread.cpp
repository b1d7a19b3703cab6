// LiveRun on its own thread: configure and start the device, apply live changes, trace steps
// and plan switches, pause and resume, and end the run.
#include "core/control/LiveRunImpl.h"

namespace edgent::core::control {

using net::Command;
using net::EventKind;
using net::Role;

void LiveRun::Impl::adoptLocked(const plan::PlanResult& p, double forBps, const std::string& source, QJsonObject& cfg,
                                std::vector<RunEvent>& out) {
    predicted[predictionKey(p.exit, p.partition, net::codecName(p.codec))] = p.predictedMs;
    const bool changed = !plan::sameConfiguration(p, current);
    current = p;
    if (!changed) return;
    cfg["exit"] = p.exit;
    cfg["partition"] = p.partition;
    cfg["early"] = earlyExitsToJson(p.early);
    cfg["codec"] = QString::fromStdString(net::codecName(p.codec));
    ++reconfigurations;
    out.push_back(recordLocked(EventKind::Plan, describePlan(p) + " for " + kbps(forBps) + " (" + source + ")", forBps, {}, p));
}

void LiveRun::Impl::main() {
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

Status LiveRun::Impl::body(std::string& status) {
    Controller& c = link.controller();
    std::vector<RunEvent> out;
    const double firstShaperBps = o.trace ? o.trace->kbpsAt(0) * 1000.0 : o.bandwidthBps;
    QJsonObject cfg{{"exit", current.exit},
                    {"partition", current.partition},
                    {"early", earlyExitsToJson(current.early)},
                    {"codec", QString::fromStdString(net::codecName(current.codec))},
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
            out.push_back(recordLocked(EventKind::Plan, plan::describePlan(current) + " for " + kbps(assumedBps) + " (initial)",
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
            if (planning && !dynamic && !planning->external) {
                assumedBps = bps;
                adoptLocked(planFor(bps), bps, why.empty() ? "bandwidth" : why, cfg, out);
            }
        }
        if (goalRequest) {
            auto [next, why] = std::move(*goalRequest);
            goalRequest.reset();
            if (planning && !planning->external) {
                out.push_back(recordLocked(EventKind::Goal,
                                           "deadline " + number(next.goal.deadlineMs) + " ms, policy " +
                                               plan::policyName(next.goal.policy) +
                                               (std::isnan(next.goal.targetAccuracy)
                                                    ? std::string()
                                                    : ", target accuracy " + number(next.goal.targetAccuracy)) +
                                               ", predictor " + next.predictor + (why.empty() ? "" : " (" + why + ")"),
                                           next.goal.deadlineMs));
                next.dynamic = planning->dynamic;
                if (!plan::checkPlanInputs(next.context, next.goal)) next.goal = planning->goal;  // cannot plan it: keep the old goal
                planning = std::move(next);
                if (dynamic) {
                    const double estimate =
                        dynamic->estimator().estimateBps() > 0 ? dynamic->estimator().estimateBps() : assumedBps;
                    buildDynamic(estimate);
                    pendingSwitch.reset();
                    adoptLocked(dynamic->plan(), static_cast<double>(dynamic->stateLowerBps()), "goal", cfg, out);
                } else {
                    adoptLocked(planFor(assumedBps), assumedBps, "goal", cfg, out);
                }
            }
        }
        if (planRequest) {
            auto [next, why] = std::move(*planRequest);
            planRequest.reset();
            if (planning && planning->external) adoptLocked(next, assumedBps, why, cfg, out);
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

void LiveRun::Impl::finish(std::string status, std::string error) {
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

}  // namespace edgent::core::control
