#pragma once
// Planning per-input early exits jointly with the partition: BranchyNet, AppealNet,
// confidence cascades and SPINN-style adaptive splits.
//
// A configuration is a final exit E (here always the model's last), a partition p of E's
// path, and early exits k1 < k2 < ... on the device, each with a threshold under one
// confidence rule. The device walks the trunk; at each early exit it runs the exit's branch
// and stops when confident; an input no early exit is sure of is cut at p and finished by the
// edge (p = n: by the device). With p below an early exit's attach point the device keeps the
// tensor at p and the edge recomputes from there (AppealNet's "send the raw input").
//
// The calibration split gives, for any configuration, the fraction of inputs answered at
// each exit and the accuracy. Each outcome's latency is predicted from the latency table;
// the expected latency and energy weight them by those fractions, and the p95 is the
// mixture's 95th percentile (each outcome at its tail latency). Torch-free.

#include "core/plan/Planner.h"

#include <vector>

namespace edgent::core::plan {

struct EarlyExitOutcome {
    std::vector<double> exitFractions;  // per model exit
    double offloadRate = 0.0;           // inputs that reached the edge (or, at p = n, the final exit on the device)
    double accuracy = 0.0;
};

// What a configuration does with the calibrated inputs. `sentAtFinal` says whether inputs
// that reach the final exit count as offloaded (p < n).
EarlyExitOutcome evaluateEarlyExits(const CalibrationSet& calibration, const EarlyExits& early, int finalExit, bool sentAtFinal);

struct EarlyExitCost {
    double meanMs = 0.0;
    double p95Ms = 0.0;
    double energyMj = 0.0;
};

// The predicted latency and energy of a configuration at bandwidth B, given its outcome's
// fractions. `typical` gives the mean and the energy, `tail` the p95.
EarlyExitCost earlyExitCost(const ModelSpec& spec, const LatencyTable& typical, const LatencyTable& tail,
                            const EarlyExits& early, int finalExit, int partition, double bandwidthBps,
                            const std::vector<double>& exitFractions, const PowerCoefficients& power,
                            net::Codec codec = {});

// The threshold grid the planner screens for a rule (a model with `classes` classes).
std::vector<double> thresholdGrid(ConfidenceRule rule, int64_t classes);

// The best adaptive plan for the goal at bandwidth B (see makePlan). The context must hold a
// calibration of the model.
Result<PlanResult> planAdaptive(const PlanContext& context, const PlanGoal& goal, double bandwidthBps);

// One row of a calibration table: early exits with one shared threshold.
struct CalibrationRow {
    double threshold = 0.0;
    EarlyExitOutcome outcome;
    double earlyFraction = 0.0;  // inputs answered before the final exit
};
// For a rule, every early exit it can use (all before the last; for appeal, those with a
// head) at every threshold of its grid, then the last exit (BranchyNet's table).
std::vector<CalibrationRow> calibrationTable(const CalibrationSet& calibration, const ModelSpec& spec, ConfidenceRule rule);
// The knee of such a table: the row furthest above the straight line from "nothing exits
// early" to "everything exits at the first early exit" on the (early fraction, accuracy)
// curve (Satopaa et al.'s Kneedle, on the screened grid).
size_t kneeOf(const std::vector<CalibrationRow>& table);

// AppealNet's comparison: exit `little` answers, the rule's least confident `rate` of the
// inputs are appealed to the final exit; the accuracy of the pair. The threshold is the
// rule's quantile at that rate on the same split.
struct AppealPoint {
    ConfidenceRule rule = ConfidenceRule::None;
    double rate = 0.0;       // inputs appealed
    double threshold = 0.0;
    double accuracy = 0.0;
};
AppealPoint appealAtRate(const CalibrationSet& calibration, int little, ConfidenceRule rule, double rate);

// The checks behind an early-exit configuration, each failing with one line: exits in range,
// before the final exit and in attach order, one threshold each, within the rule's range, and
// appeal heads where the rule needs them.
Status checkEarlyExits(const ModelSpec& spec, const EarlyExits& early, int finalExit);

}  // namespace edgent::core::plan
