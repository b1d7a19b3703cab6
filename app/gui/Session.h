#pragma once
// The window's one link to core, and the façade the panels talk to. It composes
//   - WorkerHost: the workers (local or remote), their job thread and the model upload;
//   - PlanState: the plan shown when no run is going;
//   - RunAdapter: the live run, on core's LiveRun engine (the one `edgent run` uses);
// and holds the model, the run store (UI thread) and profiling. Everything that can block
// runs off the UI thread; results come back as signals on it. Torch-free.

#include "app/gui/PlanState.h"
#include "app/gui/RunAdapter.h"
#include "app/gui/WorkerHost.h"

#include "core/energy/PowerModel.h"
#include "core/model/ModelFile.h"
#include "core/store/RunStore.h"

#include <QObject>
#include <QString>

#include <atomic>
#include <memory>
#include <optional>

namespace edgent::gui {

struct RunRequest {
    double rateHz = 0.0;   // 0: back-to-back
    QString tracePath;     // empty: the bandwidth slider drives the shaper
    bool dynamic = false;  // follow the estimated bandwidth (needs a stored profile)
    QString experiment = QStringLiteral("workbench");
};

class Session : public QObject {
    Q_OBJECT
public:
    explicit Session(QObject* parent = nullptr);
    ~Session() override;  // ends a run properly, cancels profiling, stops local workers

    // --- workers
    void startLocalWorkers(double deviceSlowdown = 1.0);
    void connectWorkers(const QString& deviceEndpoint, const QString& edgeEndpoint, const QString& curveKeysDir);
    void stopWorkers();
    core::control::WorkerInfo workerInfo(core::net::Role role) const { return host_->info(role); }
    bool workersReady() const { return host_->ready(); }
    bool modelInWorkers() const { return host_->modelLoaded(); }
    bool localWorkers() const { return host_->local(); }
    // The local worker's process, for tests that kill it (0 when not local).
    qint64 localPid(core::net::Role role) const { return host_->localPid(role); }

    // --- model and store
    void loadModel(const QString& path);  // native JSON or TorchScript (.pt)
    const core::ModelBytes* model() const { return model_.get(); }
    std::shared_ptr<const core::ModelBytes> modelShared() const { return model_; }
    QString modelPath() const { return modelPath_; }
    std::string modelHash() const { return modelHash_; }
    core::Status openDatabase(const QString& path);
    QString databasePath() const { return dbPath_; }
    // The newest stored profile of the loaded model on one node (for the Profile panel).
    std::optional<core::store::StoredProfile> latestProfile(core::net::Role role);

    // --- profiling and calibration (both on the job thread; either one at a time)
    void startProfile(int repeats, bool synthetic, int adaptiveRounds, int spread, double spanSeconds);
    // Every exit's confidence on the model's held-out validation images, stored for the
    // per-input policies (core/train/Calibration.h).
    void startCalibration();
    bool calibrated() const { return plans_.calibrated(); }
    void cancelProfile() { profileCancel_ = true; }
    bool profiling() const { return profiling_; }

    // --- planning: re-plans at once; a running experiment follows (core/control/LiveRun.h).
    void setPlanInputs(const PlanInputs& inputs, const QString& why = {});
    const PlanInputs& planInputs() const { return plans_.inputs(); }
    // The configuration in force during a run, else the plan for the inputs.
    std::optional<core::plan::PlanResult> plan() const;
    QString planProblem() const { return plans_.problem(); }
    const core::plan::LatencyTable* latencyTable() const { return plans_.table(); }
    // The latency model plans are made with (what "auto" resolved to); empty without a plan context.
    QString predictorInUse() const { return plans_.predictorInUse(); }
    QString codecNote() const { return plans_.codecNote(); }

    // --- live runs
    void startRun(const RunRequest& request);
    void pauseRun() { run_->pause(); }
    void resumeRun() { run_->resume(); }
    void stopRun() { run_->stop(); }
    bool running() const { return run_->running(); }
    bool paused() const { return run_->paused(); }
    qint64 runId() const { return run_->runId(); }
    int64_t samplesThisRun() const { return run_->samples(); }

Q_SIGNALS:
    void workersChanged();
    void modelChanged();
    void profileProgress(const QString& node, const QString& stage, int done, int total);
    void profileFinished(bool ok, const QString& message);
    void calibrationFinished(bool ok, const QString& message);
    void planChanged();
    void samplesArrived(const std::vector<edgent::gui::LiveSample>& samples);
    // bandwidth, plan, change-point, goal, pause, worker-down, ... (net::EventKind names);
    // tSeconds on the run's clock.
    void runEvent(const QString& kind, const QString& message, double tSeconds, double value);
    void runStarted(qint64 runId);
    void runStopped(qint64 runId, const QString& status);
    void errorOccurred(const QString& message);
    void busy(const QString& what);  // empty: idle

private:
    void rebuildPlan();

    WorkerHost* host_;
    RunAdapter* run_;
    PlanState plans_;

    std::shared_ptr<const core::ModelBytes> model_;
    QString modelPath_;
    std::string modelHash_;
    int64_t modelId_ = 0;

    QString dbPath_;
    std::unique_ptr<core::store::RunStore> store_;  // UI thread: reads, run records

    std::atomic<bool> profiling_{false};
    std::atomic<bool> profileCancel_{false};
    std::string powerProfile_ = "laptop";
    std::optional<core::energy::PowerProfile> power_;
};

}  // namespace edgent::gui
