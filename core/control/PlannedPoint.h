#pragma once
// One planned point of a grid (a bandwidth, a deadline, a policy): planned from the store's
// profile, run on real workers, stored as a run, and summarised. The one engine behind
// `edgent sweep`'s rows and `edgent reproduce`'s figures. Torch-free.

#include "core/control/LiveRun.h"

#include <string>

namespace edgent::core::control {

struct PlannedPoint {
    double bandwidthBps = 0.0;
    double deadlineMs = 0.0;
    plan::Policy policy = plan::Policy::Edgent;
    std::string codecGoal = "auto";  // the goal's codec: auto or a codec pinned
    plan::PlanResult plan;  // the plan the run started with
    int64_t runId = 0;
    RunSummary summary;
    double energyMjMean = 0.0;
    double wallSeconds = 0.0;
    std::vector<net::Sample> samples;  // the run's, to score them against another deadline
};

// `base` carries the record and stream options (dbPath, modelId, count, power, ...); the
// point sets the shaper's rate and the planning. An error when the run could not start or
// did not finish (interrupted through *cancel included), in one line.
Result<PlannedPoint> runPlannedPoint(WorkerLink& link, const LiveRunOptions& base, const plan::PlanContext& context,
                                     const plan::PlanGoal& goal, double bandwidthBps, const std::atomic<bool>* cancel = nullptr);

// The sweep table's header line and one row (both end in a newline).
std::string plannedPointCsvHeader();
std::string plannedPointCsvRow(const PlannedPoint& point);

}  // namespace edgent::core::control
