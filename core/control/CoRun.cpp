#include "core/control/CoRun.h"

#include "core/control/LocalWorkers.h"
#include "core/model/ModelFile.h"
#include "core/util/Stats.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <optional>

#include <QDateTime>

namespace edgent::core::control {

using namespace edgent::core::net;
using Clock = std::chrono::steady_clock;

CoRunResult runCoInference(const CoRunOptions& o, const std::function<void(const Sample&)>& onSample,
                           const std::function<void(const WorkerEvent&)>& onEvent, const std::atomic<bool>* cancel) {
    CoRunResult result;
    const auto started = Clock::now();
    auto fail = [&](std::string why) {
        result.failed = true;
        if (result.error.empty()) result.error = std::move(why);
    };

    // The model goes to both workers over the control channel, so a Pi needs no copy.
    auto model = readModelBytes(o.modelPath);
    if (!model) {
        fail(model.error());
        return result;
    }

    SpawnedWorker localDevice, localEdge;
    std::string deviceEp = o.deviceEndpoint, edgeEp = o.edgeEndpoint;
    if (o.local) {
        if (auto s = spawnWorker(localEdge, Role::Edge, o.edgeThreads > 0 ? o.edgeThreads : o.workerThreads, o.curveKeysDir);
            !s) {
            fail(s.error());
            return result;
        }
        if (auto s = spawnWorker(localDevice, Role::Device, o.workerThreads, o.curveKeysDir, 15000, o.deviceSlowdown); !s) {
            fail(s.error());
            return result;
        }
        deviceEp = localDevice.controlEndpoint;
        edgeEp = localEdge.controlEndpoint;
    }

    std::mutex mutex;
    std::condition_variable wake;
    bool streamEnded = false;
    // Events carry ms since the stream started, the device's time base for samples; those
    // before it are held back until the start is known.
    double streamStartMs = -1.0;
    std::vector<WorkerEvent> heldEvents;
    std::string streamError;
    Clock::time_point lastSample = Clock::now();

    // Dynamic mode: the estimator and the configuration in force, guarded by `mutex`.
    std::optional<plan::DynamicPlanner> dynamic;
    if (o.dynamicMap) dynamic.emplace(*o.dynamicMap, o.bandwidthBps, o.messageOverheadMs, o.cusum);
    std::optional<plan::PlanResult> pendingPlan;
    std::vector<WorkerEvent> runEvents;  // raised under `mutex`, delivered by the run's thread

    Controller::Options copts;
    copts.curveKeysDir = o.curveKeysDir;
    Controller controller(copts);
    // An event of the run itself; its time is relative to the stream's start.
    auto runEvent = [&](const char* kind, std::string message, double value) {
        WorkerEvent e;
        e.kind = kind;
        e.message = std::move(message);
        e.controller = true;
        e.value = value;
        e.samples = static_cast<int64_t>(result.samples.size());  // samples received before it
        e.atMs = controller.nowMs() - std::max(0.0, streamStartMs);
        e.wallTime = QDateTime::currentDateTime().toString(Qt::ISODateWithMs).toStdString();
        return e;
    };
    auto deliverRunEvents = [&] {
        std::vector<WorkerEvent> events;
        {
            std::lock_guard lock(mutex);
            events.swap(runEvents);
            result.events.insert(result.events.end(), events.begin(), events.end());
        }
        if (onEvent)
            for (const auto& e : events) onEvent(e);
    };
    controller.setSampleHandler([&](const Sample& in) {
        Sample s = in;
        {
            std::lock_guard lock(mutex);
            if (dynamic) {
                // The sample carries the state and source of the configuration in force; its
                // transfer (or probe) then feeds the estimator.
                s.bandwidthStateBps = dynamic->stateLowerBps();
                s.configSource = dynamic->source();
                const auto d = dynamic->observe(s.bytesSent, s.transferMs, s.probeBytes, s.probeMs);
                if (d.changePoint) {
                    ++result.changePoints;
                    runEvents.push_back(
                        runEvent("change-point",
                                 "bandwidth changed: now about " + std::to_string(std::llround(d.estimateBps / 1000)) + " kbps",
                                 d.estimateBps));
                }
                if (d.switchTo) pendingPlan = d.switchTo;
            }
            result.samples.push_back(s);
            lastSample = Clock::now();
        }
        if (onSample) onSample(s);
        wake.notify_all();
    });
    controller.setEventHandler([&](const WorkerEvent& raw) {
        WorkerEvent e = raw;
        {
            std::lock_guard lock(mutex);
            if (streamStartMs < 0) {
                heldEvents.push_back(e);
                return;
            }
            e.atMs -= streamStartMs;
            result.events.push_back(e);
            if (e.kind == "stream-finished" || e.kind == "stream-error") streamEnded = true;
            if (e.kind == "stream-error" && streamError.empty())
                streamError = std::string(roleName(e.role)) + " worker: " + e.message;
            if (e.kind == "down" && streamError.empty()) streamError = e.message + " at " + e.wallTime;
        }
        if (onEvent) onEvent(e);
        wake.notify_all();
    });

    auto shutdownLocal = [&] {
        if (!o.local) return;
        for (Role r : {Role::Device, Role::Edge})
            if (controller.info(r).alive) (void)controller.call(r, "shutdown", {}, 2000);
        localDevice.process.stop(3000);
        localEdge.process.stop(3000);
    };

    auto run = [&]() -> Status {
        if (auto s = controller.connect(Role::Edge, edgeEp, o.requestTimeoutMs); !s) return s;
        if (auto s = controller.connect(Role::Device, deviceEp, o.requestTimeoutMs); !s) return s;
        result.deviceHello = controller.info(Role::Device).hello;
        result.edgeHello = controller.info(Role::Edge).hello;
        for (Role r : {Role::Edge, Role::Device}) {
            auto loaded = controller.call(r, "load-model", {}, o.requestTimeoutMs, {model->specText, model->weights});
            if (!loaded) return makeError(loaded.error());
        }
        QJsonObject cfg;
        cfg["exit"] = o.exit;
        cfg["partition"] = o.partition;
        if (dynamic) {
            const auto& first = dynamic->plan();
            cfg["exit"] = first.exit;
            cfg["partition"] = first.partition;
            cfg["probe"] = true;
        }
        cfg["bandwidth_bps"] = o.trace ? o.trace->kbpsAt(0) * 1000.0 : o.bandwidthBps;
        cfg["edge_endpoint"] = QString::fromStdString(controller.info(Role::Edge).dataEndpoint);
        if (auto r = controller.call(Role::Device, "configure", cfg, o.requestTimeoutMs); !r) return makeError(r.error());
        QJsonObject stream;
        stream["count"] = static_cast<qint64>(o.count);
        stream["rate_hz"] = o.rateHz;
        stream["dataset"] = QString::fromStdString(o.dataset);
        stream["data_dir"] = QString::fromStdString(o.dataDir);
        stream["offset"] = static_cast<qint64>(o.offset);
        std::vector<WorkerEvent> before;
        {
            std::lock_guard lock(mutex);
            streamStartMs = controller.nowMs();
            before.swap(heldEvents);
            for (auto& e : before) {
                e.atMs -= streamStartMs;
                result.events.push_back(e);
            }
        }
        if (onEvent)
            for (const auto& e : before) onEvent(e);
        if (auto r = controller.call(Role::Device, "start-stream", stream, o.requestTimeoutMs); !r) return makeError(r.error());

        std::unique_lock lock(mutex);
        lastSample = Clock::now();
        size_t nextTracePoint = 1;
        while (true) {
            if (!streamError.empty()) return makeError(streamError);
            if (streamEnded || (o.count > 0 && static_cast<int64_t>(result.samples.size()) >= o.count)) break;
            if (cancel && cancel->load()) break;
            const double elapsedMs = controller.nowMs() - streamStartMs;
            if (o.durationS > 0 && elapsedMs >= o.durationS * 1000.0) break;
            // The trace's next step, and a new configuration chosen by dynamic mode, go to
            // the device live (configure merges what it is given).
            QJsonObject live;
            if (o.trace && nextTracePoint < o.trace->points.size() &&
                elapsedMs >= o.trace->points[nextTracePoint].timeS * 1000.0) {
                const double bps = o.trace->points[nextTracePoint].kbps * 1000.0;
                live["bandwidth_bps"] = bps;
                runEvents.push_back(
                    runEvent("bandwidth", "trace step to " + std::to_string(std::llround(bps / 1000)) + " kbps", bps));
                ++nextTracePoint;
            }
            if (pendingPlan) {
                live["exit"] = pendingPlan->exit;
                live["partition"] = pendingPlan->partition;
                runEvents.push_back(runEvent(
                    "plan",
                    "exit " + std::to_string(pendingPlan->exit) + ", partition " + std::to_string(pendingPlan->partition) +
                        " for >= " + std::to_string(dynamic->stateLowerBps() / 1000) + " kbps (" + dynamic->source() + ")",
                    static_cast<double>(dynamic->stateLowerBps())));
                ++result.reconfigurations;
                pendingPlan.reset();
            }
            if (!runEvents.empty()) {
                lock.unlock();
                deliverRunEvents();
                if (!live.isEmpty())
                    if (auto r = controller.call(Role::Device, "configure", live, o.requestTimeoutMs); !r)
                        return makeError(r.error());
                lock.lock();
                continue;
            }
            // Local processes that exit are noticed at once, not only by missing heartbeats.
            if (o.local) {
                for (auto* w : {&localDevice, &localEdge}) {
                    if (!w->process.running()) {
                        const std::string why = std::string(roleName(w->role)) + " worker (pid " +
                                                std::to_string(w->process.pid()) + ") " + w->process.exitDescription();
                        lock.unlock();
                        controller.markDead(w->role, why);
                        lock.lock();
                    }
                }
            }
            if (Clock::now() - lastSample > std::chrono::milliseconds(o.sampleSilenceLimitMs))
                return makeError("the device sent no sample for " + std::to_string(o.sampleSilenceLimitMs / 1000) + " s");
            double waitMs = 100.0;
            if (o.trace && nextTracePoint < o.trace->points.size())
                waitMs = std::clamp(o.trace->points[nextTracePoint].timeS * 1000.0 - elapsedMs, 0.0, waitMs);
            wake.wait_for(lock, std::chrono::microseconds(static_cast<int64_t>(waitMs * 1000.0)));
        }
        return Status::success();
    };

    const Status status = run();
    if (!status) fail(status.error());
    deliverRunEvents();
    {
        // A run that failed before streaming still records what happened (controller clock).
        std::vector<WorkerEvent> before;
        {
            std::lock_guard lock(mutex);
            before.swap(heldEvents);
            result.events.insert(result.events.end(), before.begin(), before.end());
        }
        if (onEvent)
            for (const auto& e : before) onEvent(e);
    }
    // Stop the stream and collect the counters of whoever is still alive.
    if (controller.info(Role::Device).alive) {
        (void)controller.call(Role::Device, "stop", {}, 5000);
        if (auto s = controller.call(Role::Device, "stats", {}, 5000)) result.deviceStats = s->value("stats").toObject();
    }
    if (controller.info(Role::Edge).alive)
        if (auto s = controller.call(Role::Edge, "stats", {}, 5000)) result.edgeStats = s->value("stats").toObject();
    shutdownLocal();
    controller.setSampleHandler({});
    controller.setEventHandler({});
    {
        std::lock_guard lock(mutex);
        if (o.count > 0 && static_cast<int64_t>(result.samples.size()) > o.count)
            result.samples.resize(static_cast<size_t>(o.count));
    }
    result.wallSeconds = std::chrono::duration<double>(Clock::now() - started).count();
    return result;
}

RunSummary summarize(const std::vector<Sample>& samples, double deadlineMs) {
    RunSummary s;
    s.inferences = static_cast<int64_t>(samples.size());
    if (samples.empty()) return s;
    std::vector<double> latency;
    int64_t correct = 0, hits = 0, timely = 0, senders = 0;
    double throughputSum = 0.0;
    for (const auto& x : samples) {
        latency.push_back(x.totalMs);
        correct += x.correct();
        hits += deadlineMs > 0 && x.totalMs <= deadlineMs;
        timely += deadlineMs > 0 && x.totalMs <= deadlineMs && x.correct();
        s.deviceMsMean += x.deviceMs;
        s.transferMsMean += x.transferMs;
        s.edgeMsMean += x.edgeMs;
        s.latencyMsMean += x.totalMs;
        s.bytesSentMean += static_cast<double>(x.bytesSent);
        if (x.bytesSent > 0 && x.throughputBps > 0) {
            throughputSum += x.throughputBps;
            ++senders;
        }
    }
    const double n = static_cast<double>(samples.size());
    s.accuracy = static_cast<double>(correct) / n;
    s.deviceMsMean /= n;
    s.transferMsMean /= n;
    s.edgeMsMean /= n;
    s.latencyMsMean /= n;
    s.bytesSentMean /= n;
    s.throughputBpsMean = senders ? throughputSum / static_cast<double>(senders) : 0.0;
    std::sort(latency.begin(), latency.end());
    s.latencyMsP50 = nearestRank(latency, 0.50);
    s.latencyMsP95 = nearestRank(latency, 0.95);
    s.deadlineHitRate = deadlineMs > 0 ? static_cast<double>(hits) / n : -1.0;
    s.timelyAccuracy = deadlineMs > 0 ? static_cast<double>(timely) / n : -1.0;
    return s;
}

}  // namespace edgent::core::control
