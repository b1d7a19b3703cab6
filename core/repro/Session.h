#pragma once
// Internal to core/repro: the one pair of workers, the profile and the scaling that every
// figure of one `edgent reproduce` shares, and the runs they ask for (each point run once
// however many figures show it).

#include "core/control/PlannedPoint.h"
#include "core/repro/Reproduce.h"
#include "core/store/RunStore.h"

#include <algorithm>
#include <map>
#include <memory>
#include <tuple>

namespace edgent::core::repro {

// The paper's numbers the scaling reads (Li, Zhou, Chen, MECOMM 2018, Sec. 2: AlexNet on
// the Raspberry Pi takes more than 2 s; sending the input to the edge takes 0.123 s at 1 Mbps
// and 2.317 s at 50 kbps). Edge-only at 500 kbps is the a + b/B curve through those two points.
struct PaperRegime {
    static constexpr double deviceOnlyMs = 2000.0;
    static constexpr double edgeOnlyMs1Mbps = 123.0;
    static constexpr double edgeOnlyMs50kbps = 2317.0;
    static constexpr double midBps = 500e3;
    static double edgeOnlyMs(double bps);
    static double ratioAtMid() { return deviceOnlyMs / edgeOnlyMs(midBps); }
};

struct Scaling {
    bool local = true;         // both workers on this host
    bool emulated = true;      // the device emulates a slower one (--device-slowdown, edgent-worker --slowdown)
    double slowdown = 1.0;     // F
    double deviceOnlyMs = 0;   // ours, at F (the typical prediction of the final exit on the device)
    double edgeOnlyMidMs = 0;  // ours, at 500 kbps
    double edgeOnly50kMs = 0;  // ours, at 50 kbps
    double deadlineScale = 1;  // our deadline = paper's deadline x this
    std::string deviceHost, edgeHost;
    std::string describe() const;  // one paragraph for the pages
    std::string footnote() const;  // one line under the figures
    double ratioAtMid() const { return deviceOnlyMs / std::max(edgeOnlyMidMs, 1e-9); }
    Check regimeCheck() const;     // whether ours sits in the paper's regime, on every page
};

class Session {
public:
    static Result<std::unique_ptr<Session>> open(const ReproduceOptions& options);
    ~Session();

    const ReproduceOptions& options() const { return options_; }
    const Scaling& scaling() const { return scaling_; }
    const plan::PlanContext& context() const { return context_; }
    const plan::LatencyTable& typical() const { return context_.typical ? *context_.typical : context_.table; }
    const std::string& dbPath() const { return dbPath_; }
    int finalExit() const { return context_.table.numExits() - 1; }
    double paperToOurs(double paperDeadlineMs) const { return paperDeadlineMs * scaling_.deadlineScale; }
    int count() const { return options_.quick ? 8 : 30; }
    bool cancelled() const { return options_.cancel && options_.cancel->load(); }
    void say(const std::string& line) const;

    // A planned point of a figure, run once per session. A point whose plan the figure already
    // ran at this bandwidth (another deadline, or another policy that chose the same
    // configuration) is not run again: that run's samples are scored against its deadline, and
    // it keeps that run's id.
    Result<control::PlannedPoint> point(const std::string& figure, plan::Policy policy, double bps, double deadlineMs);
    // The model's validation calibration (made and stored when the run database has none),
    // and the plan context refreshed to hold it: what per-input figures plan with.
    Status ensureCalibration();
    // A manual run: this exit, partition and early exits at bandwidth B, `count` test images.
    Result<control::PlannedPoint> manualPoint(const std::string& figure, int exit, int partition, const EarlyExits& early,
                                              double bps, double deadlineMs, int64_t count);
    int adaptiveCount() const { return options_.quick ? 30 : 300; }
    // A run over a bandwidth trace (static: planned once at its first bandwidth; dynamic:
    // estimator and configuration map). Keeps the samples.
    Result<control::LiveRunOutcome> traceRun(const std::string& figure, plan::Policy policy, bool dynamic, double deadlineMs,
                                             const plan::BandwidthTrace& trace);

private:
    explicit Session(ReproduceOptions options) : options_(std::move(options)) {}
    Status setUp();
    Status profileInto(control::WorkerLink& link, int repeats);
    Result<control::LiveRunOutcome> runWatched(control::LiveRunOptions o);
    control::LiveRunOptions baseOptions(const std::string& figure) const;

    ReproduceOptions options_;
    Scaling scaling_;
    std::string dbPath_;
    std::unique_ptr<store::RunStore> db_;
    store::ModelRecord record_;
    int64_t modelId_ = 0;
    std::unique_ptr<control::WorkerLink> link_;
    plan::PlanContext context_;
    double overheadMs_ = 0.0;
    std::map<std::tuple<int, double, double>, control::PlannedPoint> points_;
    std::map<std::pair<std::string, double>, std::vector<control::PlannedPoint>> runsByFigure_;  // (figure, bps)
};

}  // namespace edgent::core::repro
