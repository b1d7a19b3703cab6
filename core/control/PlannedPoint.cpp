#include "core/control/PlannedPoint.h"

#include <algorithm>
#include <cstdio>

namespace edgent::core::control {

Result<PlannedPoint> runPlannedPoint(WorkerLink& link, const LiveRunOptions& base, const plan::PlanContext& context,
                                     const plan::PlanGoal& goal, double bandwidthBps, const std::atomic<bool>* cancel) {
    LiveRunOptions o = base;
    o.bandwidthBps = bandwidthBps;
    o.planning = RunPlanning{};
    o.planning->context = context;
    o.planning->goal = goal;
    o.planning->predictor = context.predictor;
    auto run = runToEnd(link, std::move(o), cancel);
    if (!run) return makeError(run.error());
    if (run->status != "finished") return makeError(run->error.empty() ? "the run ended " + run->status : run->error);
    if (!run->firstPlan) return makeError("the run finished without a plan");
    PlannedPoint point;
    point.bandwidthBps = bandwidthBps;
    point.deadlineMs = goal.deadlineMs;
    point.policy = goal.policy;
    point.codecGoal = goal.codec;
    point.plan = *run->firstPlan;
    point.runId = run->runId;
    point.summary = summarize(run->samples, goal.deadlineMs);
    point.energyMjMean = run->energyMjSum / static_cast<double>(std::max<int64_t>(1, run->sampleCount));
    point.wallSeconds = run->wallSeconds;
    point.samples = std::move(run->samples);
    return point;
}

std::string plannedPointCsvHeader() {
    return "bandwidth_bps,deadline_ms,policy,exit,partition,feasible,predicted_ms,exit_accuracy,run_id,inferences,"
           "measured_accuracy,latency_ms_p50,latency_ms_p95,deadline_hit_rate,energy_mj_mean,timely_accuracy,"
           "predicted_p95_ms,expected_energy_mj,offload_rate,latency_ms_mean,early_exits,codec_goal,codec,bytes_sent_mean,"
           "encode_ms_mean,decode_ms_mean\n";
}

std::string plannedPointCsvRow(const PlannedPoint& point) {
    const plan::PlanResult& chosen = point.plan;
    const RunSummary& s = point.summary;
    char line[640];
    std::snprintf(line, sizeof line,
                  "%.12g,%.12g,%s,%d,%d,%d,%.6f,%.4f,%lld,%lld,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.6f,%.4f,%.4f,%.4f,\"%s\",%s,%s,%.1f,"
                  "%.4f,%.4f\n",
                  point.bandwidthBps, point.deadlineMs, plan::policyName(point.policy), chosen.exit, chosen.partition,
                  chosen.feasible ? 1 : 0, chosen.predictedMs, chosen.accuracy, static_cast<long long>(point.runId),
                  static_cast<long long>(s.inferences), s.accuracy, s.latencyMsP50, s.latencyMsP95, s.deadlineHitRate,
                  point.energyMjMean, s.timelyAccuracy, chosen.predictedP95Ms, chosen.energyMj, s.offloadRate,
                  s.latencyMsMean, chosen.early.active() ? plan::describePlan(chosen).c_str() : "", point.codecGoal.c_str(),
                  net::codecName(chosen.codec).c_str(), s.bytesSentMean, s.encodeMsMean, s.decodeMsMean);
    return line;
}

}  // namespace edgent::core::control
