#pragma once
// The window's one link to core: workers (local or remote) through the Controller, the model,
// the run store, profiling, planning and live runs. Everything that can block (connecting,
// loading a model into the workers, profiling, reconfiguring) runs on the session's job
// thread, and results come back as signals on the UI thread, so the UI never waits.
// Samples arrive on the controller's I/O thread; they are written to the store there (the
// SampleWriter has its own thread) and handed to the UI thread in batches.
//
// Torch-free (the window includes it).

#include "core/control/Controller.h"
#include "core/control/LocalWorkers.h"
#include "core/energy/PowerModel.h"
#include "core/model/ModelFile.h"
#include "core/plan/Dynamic.h"
#include "core/plan/Planner.h"
#include "core/store/RunStore.h"

#include <QObject>
#include <QString>
#include <QTimer>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace edgent::gui {

struct PlanInputs {
    double bandwidthBps = 1e6;
    double deadlineMs = 100.0;
    core::plan::Policy policy = core::plan::Policy::Edgent;
    QString predictor = QStringLiteral("lookup");
};

struct RunRequest {
    double rateHz = 0.0;   // 0: back-to-back
    QString tracePath;     // empty: the bandwidth slider drives the shaper
    bool dynamic = false;  // follow the estimated bandwidth (needs a stored profile)
    QString experiment = QStringLiteral("workbench");
};

// One point for the live plots, in the UI thread.
struct LiveSample {
    core::store::SampleRow row;
    double tSeconds = 0.0;  // since the run started
};

class Session : public QObject {
    Q_OBJECT
public:
    explicit Session(QObject* parent = nullptr);
    ~Session() override;

    // --- workers
    void startLocalWorkers(double deviceSlowdown = 1.0);
    void connectWorkers(const QString& deviceEndpoint, const QString& edgeEndpoint, const QString& curveKeysDir);
    void stopWorkers();
    core::control::WorkerInfo workerInfo(core::net::Role role) const;
    bool workersReady() const { return workersReady_; }
    bool modelInWorkers() const { return modelInWorkers_; }
    bool localWorkers() const;
    // The local worker's process, for tests that kill it (0 when not local).
    qint64 localPid(core::net::Role role) const;

    // --- model and store
    void loadModel(const QString& path);  // native JSON or TorchScript (.pt)
    const core::ModelBytes* model() const { return model_.get(); }
    QString modelPath() const { return modelPath_; }
    std::string modelHash() const { return modelHash_; }
    core::Status openDatabase(const QString& path);
    QString databasePath() const { return dbPath_; }
    // The newest stored profile of the loaded model on one node (for the Profile panel).
    std::optional<core::store::StoredProfile> latestProfile(core::net::Role role);

    // --- profiling
    void startProfile(int repeats, bool synthetic);
    void cancelProfile() { profileCancel_ = true; }
    bool profiling() const { return profiling_; }

    // --- planning: re-plans at once; a running experiment is reconfigured live.
    void setPlanInputs(const PlanInputs& inputs, const QString& why = {});
    const PlanInputs& planInputs() const { return inputs_; }
    const std::optional<core::plan::PlanResult>& plan() const { return plan_; }
    QString planProblem() const { return planProblem_; }
    const core::plan::LatencyTable* latencyTable() const { return table_ ? &*table_ : nullptr; }

    // --- live runs
    void startRun(const RunRequest& request);
    void pauseRun();
    void resumeRun();
    void stopRun();
    bool running() const { return runId_ > 0; }
    bool paused() const { return paused_; }
    qint64 runId() const { return runId_; }
    int64_t samplesThisRun() const { return samplesThisRun_; }

Q_SIGNALS:
    void workersChanged();
    void modelChanged();
    void profileProgress(const QString& node, const QString& stage, int done, int total);
    void profileFinished(bool ok, const QString& message);
    void planChanged();
    void samplesArrived(const std::vector<edgent::gui::LiveSample>& samples);
    // slider, plan, bandwidth, change-point, worker-down, ...; tSeconds since the run started.
    void runEvent(const QString& kind, const QString& message, double tSeconds, double value);
    void runStarted(qint64 runId);
    void runStopped(qint64 runId, const QString& status);
    void errorOccurred(const QString& message);
    void busy(const QString& what);  // empty: idle

private:
    static constexpr int kCallTimeoutMs = 15000;  // any one request to a worker
    static QString qs(const std::string& s) { return QString::fromStdString(s); }
    void post(std::function<void()> job);  // runs on the job thread, in order
    template <typename F>
    void onUi(F&& f) {
        QMetaObject::invokeMethod(this, std::forward<F>(f), Qt::QueuedConnection);
    }
    void installHandlers();
    void afterWorkersUp();
    void sendModelToWorkers();
    bool rebuildTable();  // as replan()
    void rebuildDynamic();
    bool replan();  // true when the exit or the partition changed
    // Sends the device what changed (live) and records it as an event of the run.
    void reconfigureLive(const std::optional<core::plan::PlanResult>& plan, std::optional<double> bandwidthBps,
                         const QString& kind, const QString& why);
    void onSampleIo(const core::net::Sample& s);  // controller I/O thread
    void flushSamples();                          // UI thread
    void recordEvent(const QString& kind, const QString& message, double value, const std::string& role = {});
    void applyTraceStep();
    void finishRun(const QString& status, const QString& error);
    double runSeconds() const;

    // Job thread.
    std::thread jobThread_;
    std::mutex jobMutex_;
    std::condition_variable jobWake_;
    std::deque<std::function<void()>> jobs_;
    bool jobStop_ = false;

    // Replaced on the job thread when workers (re)connect; read anywhere through ctrl().
    std::shared_ptr<core::control::Controller> ctrl() const;
    mutable std::mutex ctrlMutex_;
    std::shared_ptr<core::control::Controller> controller_;
    std::shared_ptr<core::control::SpawnedWorker> localDevice_, localEdge_;
    std::atomic<bool> workersReady_{false};
    std::atomic<bool> modelInWorkers_{false};

    std::shared_ptr<const core::ModelBytes> model_;
    QString modelPath_;
    std::string modelHash_;
    int64_t modelId_ = 0;

    QString dbPath_;
    std::unique_ptr<core::store::RunStore> store_;  // UI thread: reads, run records

    std::atomic<bool> profiling_{false};
    std::atomic<bool> profileCancel_{false};

    PlanInputs inputs_;
    std::optional<core::plan::LatencyTable> table_;
    double messageOverheadMs_ = 0.0;  // the device profile's median per-message cost
    std::optional<core::plan::PlanResult> plan_;
    QString planProblem_;

    // The live run. runId_, paused_ and the trace are UI-thread state; the writer and the
    // dynamic planner are shared with the I/O thread under ioMutex_.
    qint64 runId_ = 0;
    bool paused_ = false;
    RunRequest request_;
    std::optional<core::plan::BandwidthTrace> trace_;
    size_t traceNext_ = 0;
    QTimer traceTimer_;
    QTimer workerTimer_;
    QTimer flushTimer_;
    std::chrono::steady_clock::time_point runStart_, pausedAt_;
    std::chrono::steady_clock::duration pausedTotal_{};
    std::atomic<int64_t> samplesThisRun_{0};

    std::mutex configMutex_;  // reconfigureLive's merged, not yet sent configuration
    QJsonObject pendingConfig_;
    bool configQueued_ = false;

    std::mutex ioMutex_;
    std::unique_ptr<core::store::SampleWriter> writer_;
    std::optional<core::plan::ConfigurationMap> map_;
    std::optional<core::plan::DynamicPlanner> dynamic_;
    double predictedMs_ = 0.0;
    uint64_t seqOffset_ = 0;     // samples of earlier segments (a pause restarts the device's count)
    double timeOffsetMs_ = 0.0;  // and its clock
    double lastDeviceTimeMs_ = 0.0;
    std::vector<LiveSample> pending_;  // for the UI thread
    std::string powerProfile_ = "laptop";
    std::optional<core::energy::PowerProfile> power_;  // loaded once; read on the I/O thread
};

}  // namespace edgent::gui

Q_DECLARE_METATYPE(std::vector<edgent::gui::LiveSample>)
