#pragma once
// The window's side of a live run: starts a core LiveRun (the engine `edgent run` uses too),
// forwards the window's live changes to it, and brings its samples to the UI thread in
// batches (about 30 a second) and its events and end as signals. Torch-free.

#include "core/control/LiveRun.h"

#include <QObject>
#include <QString>
#include <QTimer>

#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace edgent::gui {

// One point for the live plots, in the UI thread.
struct LiveSample {
    core::store::SampleRow row;
    double tSeconds = 0.0;  // the run's clock: since the stream started, pauses left out
};

class RunAdapter : public QObject {
    Q_OBJECT
public:
    explicit RunAdapter(QObject* parent = nullptr);
    ~RunAdapter() override;  // stops a run that is still going and waits for its end

    // Starts a run on the link; runStarted follows at once, runStopped at its end.
    core::Status start(std::shared_ptr<core::control::WorkerLink> link, core::control::LiveRunOptions options);
    void setBandwidth(double bps, const QString& why);
    void setGoal(core::control::RunPlanning planning, const QString& why);
    void pause();
    void resume();
    void stop();
    // Stops a run that is going and waits here for its end (bounded by the device's answers),
    // for what cannot share the workers with a run: other workers, a new model, profiling.
    void finishNow();

    bool running() const { return run_ != nullptr; }
    bool paused() const { return run_ && run_->paused(); }
    bool hasTrace() const { return hasTrace_; }
    qint64 runId() const { return run_ ? run_->runId() : 0; }
    int64_t samples() const { return run_ ? run_->samples() : 0; }
    // The configuration in force (planned runs).
    std::optional<core::plan::PlanResult> plan() const;

Q_SIGNALS:
    void runStarted(qint64 runId);
    void samplesArrived(const std::vector<edgent::gui::LiveSample>& samples);
    void runEvent(const QString& kind, const QString& message, double tSeconds, double value);
    void planChanged();
    // status: finished, failed or interrupted; error: one line when it failed.
    void runStopped(qint64 runId, const QString& status, const QString& error);

private:
    void flush();
    void ended(qint64 runId);

    std::shared_ptr<core::control::WorkerLink> link_;  // kept alive while the run uses it
    std::unique_ptr<core::control::LiveRun> run_;
    bool hasTrace_ = false;
    std::optional<core::plan::PlanResult> plan_;
    std::mutex pendingMutex_;  // samples from the controller's I/O thread
    std::vector<LiveSample> pending_;
    QTimer flushTimer_;
};

}  // namespace edgent::gui

Q_DECLARE_METATYPE(std::vector<edgent::gui::LiveSample>)
