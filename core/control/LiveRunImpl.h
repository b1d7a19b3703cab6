#pragma once
// Internal to core/control: the state of a LiveRun, shared by LiveRun.cpp (the public members
// and start), LiveRunSamples.cpp (the controller's I/O thread: samples and worker events) and
// LiveRunThread.cpp (the run's thread: configure, live changes, the end).

#include "core/control/LiveRun.h"

#include <QDateTime>
#include <QString>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <tuple>

namespace edgent::core::control {

using Clock = std::chrono::steady_clock;

inline std::string kbps(double bps) { return std::to_string(std::llround(bps / 1000.0)) + " kbps"; }
inline std::string number(double v) { return QString::number(v, 'g', 12).toStdString(); }

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
    std::optional<std::pair<plan::PlanResult, std::string>> planRequest;
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
        net::EventKind kind;
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
    // (exit, partition, codec: empty for fp32) -> the latest prediction for it (adaptive: its mean)
    std::map<std::tuple<int, int, std::string>, double> predicted;
    static std::tuple<int, int, std::string> predictionKey(int exit, int partition, const std::string& codec) {
        return {exit, partition, codec == "fp32" ? std::string() : codec};
    }
    int64_t reconfigurations = 0, changePoints = 0;
    LiveRunOutcome outcome;

    double runMsLocked() const {
        if (!clockStarted) return 0.0;
        const auto end = paused ? pausedAt : Clock::now();
        return std::chrono::duration<double, std::milli>(end - streamStart - pausedTotal).count();
    }

    RunEvent recordLocked(net::EventKind kind, std::string message, double value, std::string role = {},
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

    // The planning's plan at a bandwidth (a static fallback if the planner cannot answer,
    // which start() rules out by checking the planning first).
    plan::PlanResult planFor(double bps) const {
        if (auto r = plan::makePlan(planning->context, planning->goal, bps)) return *r;
        return plan::choosePlan(planning->context.table, planning->context.exitAccuracy, bps, planning->goal.deadlineMs,
                                plan::Policy::Edgent);
    }
    void buildDynamic(double initialBps) {
        dynamic.reset();
        map = std::make_unique<plan::ConfigurationMap>([this](double bps) { return planFor(bps); });
        dynamic = std::make_unique<plan::DynamicPlanner>(*map, initialBps, planning->messageOverheadMs, planning->cusum);
    }

    // Puts a plan in force: what the device must change goes into cfg, and a plan event says so.
    void adoptLocked(const plan::PlanResult& p, double forBps, const std::string& source, QJsonObject& cfg,
                     std::vector<RunEvent>& out);

    QJsonObject streamArgs(int64_t remaining, int64_t offset) const {
        return QJsonObject{{"count", static_cast<qint64>(remaining)},
                           {"rate_hz", o.rateHz},
                           {"phase_ms", o.phaseMs},
                           {"dataset", QString::fromStdString(o.dataset)},
                           {"data_dir", QString::fromStdString(o.dataDir)},
                           {"offset", static_cast<qint64>(offset)},
                           {"shift", QString::fromStdString(o.shift)}};
    }

    // The controller's I/O thread (LiveRunSamples.cpp).
    void onSample(const net::Sample& in);
    void onWorkerEvent(const WorkerEvent& e);

    // The run's thread (LiveRunThread.cpp).
    void main();
    Status body(std::string& status);
    void finish(std::string status, std::string error);
};

}  // namespace edgent::core::control
