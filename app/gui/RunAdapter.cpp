#include "app/gui/RunAdapter.h"

namespace edgent::gui {

using namespace edgent::core;

RunAdapter::RunAdapter(QObject* parent) : QObject(parent) {
    qRegisterMetaType<std::vector<LiveSample>>();
    flushTimer_.setInterval(33);  // about 30 refreshes a second
    connect(&flushTimer_, &QTimer::timeout, this, &RunAdapter::flush);
}

RunAdapter::~RunAdapter() {
    if (run_) run_->stop();
    run_.reset();  // waits for the run's end: its samples are flushed, its status stored
}

Status RunAdapter::start(std::shared_ptr<control::WorkerLink> link, control::LiveRunOptions options) {
    if (run_) return makeError("a run is already going");
    if (!link) return makeError("no workers are connected");
    const bool trace = options.trace.has_value();
    control::LiveRunObserver observer;
    // The I/O thread: samples wait for the next flush.
    observer.onSample = [this](const store::SampleRow& row) {
        std::lock_guard lock(pendingMutex_);
        pending_.push_back(LiveSample{row, row.sample.deviceTimeMs / 1000.0});
    };
    observer.onEvent = [this](const control::RunEvent& e) {
        QMetaObject::invokeMethod(
            this,
            [this, e] {
                if (!run_) return;
                flush();  // samples before the event are drawn before its marker
                if (e.plan) {
                    plan_ = e.plan;
                    Q_EMIT planChanged();
                }
                Q_EMIT runEvent(QString::fromStdString(e.row.kind), QString::fromStdString(e.row.message), e.row.tMs / 1000.0,
                                e.row.value);
            },
            Qt::QueuedConnection);
    };
    observer.onFinished = [this](const control::LiveRunOutcome& outcome) {
        const qint64 id = outcome.runId;
        QMetaObject::invokeMethod(
            this, [this, id] { ended(id); }, Qt::QueuedConnection);
    };
    auto run = control::LiveRun::start(*link, std::move(options), std::move(observer));
    if (!run) return makeError(run.error());
    link_ = std::move(link);
    run_ = std::move(*run);
    hasTrace_ = trace;
    plan_ = run_->currentPlan();
    {
        std::lock_guard lock(pendingMutex_);
        pending_.clear();
    }
    flushTimer_.start();
    Q_EMIT runStarted(run_->runId());
    Q_EMIT planChanged();
    return Status::success();
}

void RunAdapter::ended(qint64 runId) {
    if (!run_ || run_->runId() != runId) return;
    flush();
    flushTimer_.stop();
    const control::LiveRunOutcome outcome = run_->outcome();
    run_.reset();  // the run thread has ended: a short join
    link_.reset();
    plan_.reset();
    hasTrace_ = false;
    Q_EMIT runStopped(runId, QString::fromStdString(outcome.status), QString::fromStdString(outcome.error));
    Q_EMIT planChanged();
}

void RunAdapter::setBandwidth(double bps, const QString& why) {
    if (run_) run_->setBandwidth(bps, why.toStdString());
}

void RunAdapter::setGoal(control::RunPlanning planning, const QString& why) {
    if (run_) run_->setGoal(std::move(planning), why.toStdString());
}

void RunAdapter::pause() {
    if (run_) run_->pause();
}

void RunAdapter::resume() {
    if (run_) run_->resume();
}

void RunAdapter::stop() {
    if (run_) run_->stop();
}

void RunAdapter::finishNow() {
    if (!run_) return;
    const qint64 id = run_->runId();
    run_->stop();
    while (!run_->waitFor(100)) {
    }
    ended(id);
}

std::optional<plan::PlanResult> RunAdapter::plan() const { return plan_; }

void RunAdapter::flush() {
    std::vector<LiveSample> batch;
    {
        std::lock_guard lock(pendingMutex_);
        batch.swap(pending_);
    }
    if (!batch.empty()) Q_EMIT samplesArrived(batch);
}

}  // namespace edgent::gui
