// The live run: start, pause, resume, stop, trace steps, events, and the samples' way from
// the controller's I/O thread to the store and the plots.
#include "app/gui/Session.h"

#include <QDateTime>

#include <cmath>

namespace edgent::gui {

using namespace edgent::core;
using net::Role;

// ---------------------------------------------------------------------------- live runs

double Session::runSeconds() const {
    // Time the stream ran: pauses left out, as the samples' device clock leaves them out.
    auto now = std::chrono::steady_clock::now();
    if (paused_) now = pausedAt_;
    return std::chrono::duration<double>(now - runStart_ - pausedTotal_).count();
}

void Session::startRun(const RunRequest& request) {
    if (running()) return;
    auto c = ctrl();
    if (!c || !workersReady_ || !modelInWorkers_) {
        Q_EMIT errorOccurred(tr("Start needs both workers up with the model loaded."));
        return;
    }
    if (!store_) {
        Q_EMIT errorOccurred(tr("No run database is open."));
        return;
    }
    if (!plan_) {
        Q_EMIT errorOccurred(planProblem_.isEmpty() ? tr("Nothing to run: no plan.") : planProblem_);
        return;
    }
    if (profiling_) {
        Q_EMIT errorOccurred(tr("Profiling is running; wait for it or cancel it."));
        return;
    }
    trace_.reset();
    if (!request.tracePath.isEmpty()) {
        auto t = plan::readBandwidthTrace(request.tracePath.toStdString());
        if (!t) {
            Q_EMIT errorOccurred(qs(t.error()));
            return;
        }
        trace_ = std::move(*t);
        inputs_.bandwidthBps = trace_->kbpsAt(0) * 1000.0;
        replan();
    }
    request_ = request;
    // What runs first: the static plan, or in dynamic mode the map's plan for the assumed
    // bandwidth (the same one replan() takes below).
    plan::PlanResult first = *plan_;
    if (request.dynamic)
        first = plan::ConfigurationMap(*table_, model_->file.spec.exitAccuracy, inputs_.deadlineMs, inputs_.policy)
                    .planFor(inputs_.bandwidthBps);
    store::RunStart start;
    start.experiment = request.experiment.toStdString();
    start.modelId = modelId_;
    start.modelHash = modelHash_;
    start.policy = plan::policyName(inputs_.policy);
    start.params = {
        {"exit", std::to_string(first.exit)},
        {"partition", std::to_string(first.partition)},
        {"bandwidth_bps", QString::number(inputs_.bandwidthBps, 'g', 12).toStdString()},
        {"shaping", "shape"},
        {"deadline_ms", QString::number(inputs_.deadlineMs).toStdString()},
        {"rate_hz", QString::number(request.rateHz).toStdString()},
        {"predictor", inputs_.predictor.toStdString()},
        {"dynamic", request.dynamic ? "true" : "false"},
        {"trace", request.tracePath.toStdString()},
        {"workers", localWorkers() ? std::string("local") : c->info(Role::Device).endpoint + " " + c->info(Role::Edge).endpoint},
        {"power_profile", powerProfile_},
        {"source", "workbench window"}};
    auto id = store_->beginRun(start);
    if (!id) {
        Q_EMIT errorOccurred(qs(id.error()));
        return;
    }
    auto writer = store::SampleWriter::start(dbPath_.toStdString(), *id);
    if (!writer) {
        (void)store_->finishRun(*id, "failed", writer.error());
        Q_EMIT errorOccurred(qs(writer.error()));
        return;
    }
    {
        std::lock_guard lock(ioMutex_);
        writer_ = std::move(*writer);
        map_.reset();
        dynamic_.reset();
        if (request.dynamic) {
            map_.emplace(*table_, model_->file.spec.exitAccuracy, inputs_.deadlineMs, inputs_.policy);
            dynamic_.emplace(*map_, inputs_.bandwidthBps, messageOverheadMs_);
        }
        predictedMs_ = dynamic_ ? dynamic_->plan().predictedMs : plan_->predictedMs;
        seqOffset_ = 0;
        timeOffsetMs_ = 0.0;
        lastDeviceTimeMs_ = 0.0;
        pending_.clear();
    }
    if (dynamic_) replan();
    runId_ = *id;
    paused_ = false;
    samplesThisRun_ = 0;
    runStart_ = std::chrono::steady_clock::now();
    pausedTotal_ = {};
    flushTimer_.start();
    traceNext_ = 1;
    if (trace_ && trace_->points.size() > 1) traceTimer_.start(static_cast<int>(trace_->points[1].timeS * 1000.0));
    Q_EMIT runStarted(runId_);

    QJsonObject cfg{{"exit", plan_->exit},
                    {"partition", plan_->partition},
                    {"bandwidth_bps", inputs_.bandwidthBps},
                    {"probe", request.dynamic},
                    {"edge_endpoint", qs(c->info(Role::Edge).dataEndpoint)}};
    const double rate = request.rateHz;
    post([this, cfg, rate] {
        auto c = ctrl();
        if (!c) return;
        auto r = c->call(Role::Device, "configure", cfg, kCallTimeoutMs);
        if (r) r = c->call(Role::Device, "start-stream", QJsonObject{{"count", 0}, {"rate_hz", rate}}, kCallTimeoutMs);
        if (!r)
            onUi([this, why = qs(r.error())] {
                finishRun(QStringLiteral("failed"), why);
                Q_EMIT errorOccurred(why);
            });
    });
}

void Session::pauseRun() {
    if (!running() || paused_) return;
    paused_ = true;
    pausedAt_ = std::chrono::steady_clock::now();
    traceTimer_.stop();
    recordEvent(QStringLiteral("pause"), tr("paused"), NAN);
    const qint64 id = runId_;
    post([this, id] {
        auto c = ctrl();
        auto r =
            c ? c->call(Role::Device, "stop", {}, kCallTimeoutMs) : Result<QJsonObject>(makeError("no workers are connected"));
        if (r) {
            // The device numbers the next segment from 0 again, on a new clock.
            std::lock_guard lock(ioMutex_);
            seqOffset_ = static_cast<uint64_t>(samplesThisRun_.load());
            timeOffsetMs_ = lastDeviceTimeMs_;
            return;
        }
        onUi([this, id, why = qs(r.error())] {
            if (runId_ != id) return;
            finishRun(QStringLiteral("failed"), tr("the device did not pause: %1").arg(why));
            Q_EMIT errorOccurred(tr("The device did not pause: %1").arg(why));
        });
    });
}

void Session::resumeRun() {
    if (!running() || !paused_) return;
    paused_ = false;
    pausedTotal_ += std::chrono::steady_clock::now() - pausedAt_;
    recordEvent(QStringLiteral("resume"), tr("resumed"), NAN);
    if (trace_ && traceNext_ < trace_->points.size())
        traceTimer_.start(std::max(0, static_cast<int>(trace_->points[traceNext_].timeS * 1000.0 - runSeconds() * 1000.0)));
    const double rate = request_.rateHz;
    const qint64 id = runId_;
    post([this, rate, id] {
        auto c = ctrl();
        auto r = c ? c->call(Role::Device, "start-stream", QJsonObject{{"count", 0}, {"rate_hz", rate}}, kCallTimeoutMs)
                   : Result<QJsonObject>(makeError("no workers are connected"));
        if (!r)
            onUi([this, id, why = qs(r.error())] {
                if (runId_ != id) return;
                finishRun(QStringLiteral("failed"), why);
                Q_EMIT errorOccurred(tr("The device did not resume: %1").arg(why));
            });
    });
}

void Session::stopRun() {
    if (!running()) return;
    const qint64 id = runId_;
    post([this, id] {
        if (auto c = ctrl(); c && c->info(Role::Device).alive) (void)c->call(Role::Device, "stop", {}, kCallTimeoutMs);
        onUi([this, id] {
            if (runId_ == id) finishRun(QStringLiteral("finished"), {});
        });
    });
}

void Session::finishRun(const QString& status, const QString& error) {
    if (!running()) return;
    traceTimer_.stop();
    flushSamples();
    flushTimer_.stop();
    std::unique_ptr<store::SampleWriter> writer;
    {
        std::lock_guard lock(ioMutex_);
        writer.swap(writer_);
        dynamic_.reset();
        map_.reset();
    }
    const qint64 id = runId_;
    runId_ = 0;
    paused_ = false;
    trace_.reset();
    if (writer)
        if (auto s = writer->finish(status.toStdString(), error.toStdString()); !s) {
            // The run's own record still says how it ended.
            if (store_) (void)store_->finishRun(id, "failed", s.error());
            Q_EMIT errorOccurred(qs(s.error()));
        }
    replan();
    Q_EMIT runStopped(id, status);
}

void Session::applyTraceStep() {
    if (!running() || !trace_ || traceNext_ >= trace_->points.size()) return;
    const auto& step = trace_->points[traceNext_++];
    const double bps = step.kbps * 1000.0;
    inputs_.bandwidthBps = bps;
    // The shaper follows the trace; a static plan is re-planned for it (Edgent's static
    // mode knows the bandwidth), a dynamic one finds out by itself.
    if (!dynamic_) {
        const bool moved = replan();
        reconfigureLive(moved ? plan_ : std::nullopt, bps, moved ? QStringLiteral("plan") : QStringLiteral("bandwidth"),
                        tr("trace"));
    } else {
        reconfigureLive(std::nullopt, bps, QStringLiteral("bandwidth"), tr("trace"));
    }
    if (traceNext_ < trace_->points.size()) {
        traceTimer_.start(std::max(0, static_cast<int>(trace_->points[traceNext_].timeS * 1000.0 - runSeconds() * 1000.0)));
    } else {
        // The last time stamp ends the trace.
        stopRun();
    }
}

void Session::recordEvent(const QString& kind, const QString& message, double value, const std::string& role) {
    if (!running()) return;
    const double t = runSeconds();
    store::EventRow row;
    row.tMs = t * 1000.0;
    row.wallTime = QDateTime::currentDateTime().toString(Qt::ISODateWithMs).toStdString();
    row.kind = kind.toStdString();
    row.role = role;
    row.message = message.toStdString();
    row.value = value;
    {
        std::lock_guard lock(ioMutex_);
        if (writer_) writer_->addEvent(row);
    }
    Q_EMIT runEvent(kind, message, t, value);
}

void Session::onSampleIo(const net::Sample& in) {
    std::lock_guard lock(ioMutex_);
    if (!writer_) return;  // a sample after the run ended
    store::SampleRow row;
    row.sample = in;
    net::Sample& s = row.sample;
    s.sequence += seqOffset_;
    s.deviceTimeMs += timeOffsetMs_;
    lastDeviceTimeMs_ = s.deviceTimeMs;
    std::optional<plan::PlanResult> switchTo;
    double changeBps = NAN;
    if (dynamic_) {
        s.bandwidthStateBps = dynamic_->stateLowerBps();
        s.configSource = dynamic_->source();
        const auto d = dynamic_->observe(s.bytesSent, s.transferMs, s.probeBytes, s.probeMs);
        if (d.changePoint) changeBps = d.estimateBps;
        if (d.switchTo) {
            switchTo = d.switchTo;
            predictedMs_ = d.switchTo->predictedMs;
        }
    }
    row.predictedMs = predictedMs_;
    if (power_) {
        row.energyMj = power_->energyOf(s);
        row.energySource = power_->sourceOf(s);
    }
    writer_->add(row);
    ++samplesThisRun_;
    pending_.push_back(LiveSample{row, s.deviceTimeMs / 1000.0});
    if (!std::isnan(changeBps) || switchTo)
        onUi([this, changeBps, switchTo] {
            if (!std::isnan(changeBps))
                recordEvent(QStringLiteral("change-point"),
                            tr("bandwidth changed: now about %1 kbps").arg(std::llround(changeBps / 1000)), changeBps);
            if (switchTo && running()) {
                replan();
                reconfigureLive(switchTo, std::nullopt, QStringLiteral("plan"), tr("dynamic mode"));
            }
        });
}

void Session::flushSamples() {
    std::vector<LiveSample> batch;
    {
        std::lock_guard lock(ioMutex_);
        batch.swap(pending_);
    }
    if (!batch.empty()) Q_EMIT samplesArrived(batch);
}

}  // namespace edgent::gui
