#pragma once
// One live co-inference run, from configuring the device to the run's final status: the one
// engine behind `edgent run`, `edgent sweep` and the window's Start button. It owns
//   - the run's record in the store and its sample writer (samples and events);
//   - the configuration: a manual (exit, partition), or a plan that follows the bandwidth the
//     user sets, or dynamic mode's estimator and configuration map;
//   - live changes (bandwidth, goal), merged into one `configure` while one is in flight;
//   - trace steps, replayed through the device's shaper on the run's clock;
//   - pause and resume, with the device's sequence numbers and clock continued across them;
//   - the run's events, in one vocabulary (net::EventKind), stored and handed to observers.
//
// Time: a run's clock starts when the device's stream starts and stops while paused; samples
// (device clock plus the offsets of earlier segments) and events share it.
//
// Planned runs: a static plan is made once for the initial bandwidth (the trace's first value,
// or the shaper's rate) and again whenever setBandwidth() states a new one; trace steps alone
// do not re-plan it (Edgent's static mode: planned once). Dynamic mode re-plans from the
// estimated bandwidth only; setBandwidth() then just sets the shaper and the estimator has to
// notice.
//
// Threads: start() returns at once; a run thread talks to the device and ends the run. The
// public members may be called from any thread but the controller's I/O thread. Observers
// run on the I/O thread (samples, worker events, change points) or the run thread (the rest);
// they must be quick and must not call back into the LiveRun. Torch-free.

#include "core/control/RunSummary.h"
#include "core/control/WorkerLink.h"
#include "core/energy/PowerModel.h"
#include "core/plan/Dynamic.h"
#include "core/plan/Planner.h"
#include "core/store/RunStore.h"

#include <QJsonObject>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace edgent::core::control {

// What chooses a planned run's configurations.
struct RunPlanning {
    plan::PlanContext context;       // tables, accuracies, calibration (core/control/ProfileRun.h: planContextFor)
    plan::PlanGoal goal;             // deadline, policy, target accuracy
    std::string predictor;           // recorded with the run
    bool dynamic = false;            // follow the estimated bandwidth
    double messageOverheadMs = 0.0;  // the device profile's median per-message cost (the estimator subtracts it)
    plan::CusumOptions cusum;
    // A fleet's member (core/control/FleetRun.h): the fleet chooses every plan, the first one
    // here and later ones through adoptPlan(); the run never re-plans by itself. Static only.
    std::optional<plan::PlanResult> external;
};

struct LiveRunOptions {
    // The record.
    std::string dbPath;
    std::string experiment = "default";
    int64_t modelId = 0;
    std::string modelHash;
    std::string source;                              // who started it: "cli", "sweep", "workbench window", ...
    std::map<std::string, std::string> extraParams;  // recorded beside the standard ones
    int device = -1;                                 // a fleet's device number, kept with every sample

    // The stream.
    int64_t count = 0;       // inferences; 0: until stopped, or until the trace's last time stamp
    double durationS = 0.0;  // > 0: end after this long on the run's clock
    double rateHz = 0.0;     // 0: back-to-back
    double phaseMs = 0.0;    // with a rate: the first input this much after the stream starts
    std::string dataset = "fashion-mnist";
    std::string dataDir;  // on the device's host
    int64_t offset = 0;   // first test image
    std::string shift;    // the device streams its images shifted (core/data/Shift.h: "default", key=value pairs); empty: as they are

    // The configuration.
    int exit = 0;  // a manual run's configuration (ignored when planning)
    int partition = 0;
    EarlyExits early;  // and its per-input early exits (none: every input takes `exit`)
    net::Codec codec;  // and how its cut tensor travels (core/net/Codec.h)
    double bandwidthBps = 0.0;                  // the shaper's rate; 0: measure only (the link is really shaped)
    double assumedBandwidthBps = 0.0;           // what a plan assumes in measure-only mode
    std::optional<plan::BandwidthTrace> trace;  // the shaper follows it from the stream's start
    std::optional<RunPlanning> planning;
    double deadlineMs = 0.0;  // manual runs: the deadline of the hit rate (planned runs use the plan's)
    energy::PowerProfile power;

    bool keepSamples = true;  // keep every sample in the outcome (the CLI's summary)
    int requestTimeoutMs = 15000;
    int sampleSilenceLimitMs = 30000;  // the run fails when the device goes quiet this long
};

// An event of the run, as stored, and the configuration now in force for Plan events.
struct RunEvent {
    net::EventKind kind = net::EventKind::Unknown;
    store::EventRow row;
    std::optional<plan::PlanResult> plan;
};

struct LiveRunOutcome {
    int64_t runId = 0;
    std::string status;  // finished, failed or interrupted
    std::string error;   // one line, naming the worker when one died
    int64_t sampleCount = 0;
    std::vector<net::Sample> samples;  // when keepSamples
    std::vector<store::EventRow> events;
    std::optional<plan::PlanResult> firstPlan;  // planned runs
    QJsonObject deviceHello, edgeHello, deviceStats, edgeStats;
    int64_t changePoints = 0;      // dynamic mode
    int64_t reconfigurations = 0;  // plans sent after the first
    // Dynamic mode, for every trace step: samples between the step and the next plan switch,
    // or empty when none followed before the next step.
    std::vector<std::optional<int64_t>> switchDelaySamples;
    double energyMjSum = 0.0;
    std::string energySource;
    double wallSeconds = 0.0;
};

struct LiveRunObserver {
    std::function<void(const store::SampleRow&)> onSample;  // the controller's I/O thread
    std::function<void(const RunEvent&)> onEvent;           // the I/O thread or the run thread
    std::function<void(const LiveRunOutcome&)> onFinished;  // the run thread, last of all
};

class LiveRun {
public:
    // Records the run (status "running") and starts its writer, then configures the device
    // and starts its stream on the run thread. The link must be connected with the model
    // loaded, and must outlive the LiveRun. Fails at once on bad options or an unwritable
    // store; a device that refuses later ends the run as failed.
    static Result<std::unique_ptr<LiveRun>> start(WorkerLink& link, LiveRunOptions options, LiveRunObserver observer = {});
    ~LiveRun();  // stop() and wait for the end
    LiveRun(const LiveRun&) = delete;
    LiveRun& operator=(const LiveRun&) = delete;

    int64_t runId() const;
    // The planned configuration in force (planned runs), or the manual one.
    plan::PlanResult currentPlan() const;

    // The shaper's new rate, as a slider sets it; a static plan is re-planned for it.
    void setBandwidth(double bps, const std::string& why);
    // A new deadline, policy or latency table: a static plan is re-planned, dynamic mode's
    // map is rebuilt and its estimator goes on from its current estimate. Ignored by manual runs.
    void setGoal(RunPlanning planning, const std::string& why);
    // A fleet's member: put this plan in force (a plan event says why).
    void adoptPlan(const plan::PlanResult& plan, const std::string& why);
    void pause();
    void resume();
    bool paused() const;
    // Ends the run with this status (finished, or interrupted for Ctrl-C).
    void stop(const std::string& status = "finished");

    // True once the run has ended; waits at most timeoutMs. A run always ends: its device
    // goes quiet for at most sampleSilenceLimitMs before it fails.
    bool waitFor(int timeoutMs);
    bool ended() const;
    // Once ended(): how the run went.
    const LiveRunOutcome& outcome() const;
    int64_t samples() const;
    // The run's clock: ms since the stream started, pauses left out.
    double elapsedMs() const;

private:
    struct Impl;
    explicit LiveRun(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Starts a run and waits for its end (for tools with nothing else to do meanwhile: a sweep,
// a bench). An error when it could not start; else its outcome, whatever its status. When
// *cancel turns true the run is stopped as interrupted.
Result<LiveRunOutcome> runToEnd(WorkerLink& link, LiveRunOptions options, const std::atomic<bool>* cancel = nullptr);

}  // namespace edgent::core::control
