#include "core/plan/Adaptive.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace edgent::core::plan {

namespace {

// One bit per calibration sample.
using Bits = std::vector<uint64_t>;

int popcount(uint64_t w) { return __builtin_popcountll(w); }

size_t words(int64_t samples) { return static_cast<size_t>((samples + 63) / 64); }

// Which samples a rule lets stop at an exit for each threshold of a grid, and which samples
// each exit gets right: the outcome of any configuration is then a few bitwise operations.
struct CalibrationBits {
    int64_t samples = 0;
    std::vector<Bits> correct;                  // [exit]
    std::vector<std::vector<Bits>> confidentAt; // [exit][threshold index]
};

CalibrationBits bitsOf(const CalibrationSet& c, ConfidenceRule rule, const std::vector<double>& grid) {
    CalibrationBits b;
    b.samples = c.samples;
    const size_t w = words(c.samples);
    b.correct.assign(static_cast<size_t>(c.numExits), Bits(w, 0));
    b.confidentAt.assign(static_cast<size_t>(c.numExits), std::vector<Bits>(grid.size(), Bits(w, 0)));
    for (int64_t s = 0; s < c.samples; ++s) {
        const size_t word = static_cast<size_t>(s / 64);
        const uint64_t bit = uint64_t{1} << (s % 64);
        for (int e = 0; e < c.numExits; ++e) {
            if (c.correct(s, e)) b.correct[static_cast<size_t>(e)][word] |= bit;
            const ExitScores scores = c.scores(s, e);
            for (size_t t = 0; t < grid.size(); ++t)
                if (confident(rule, scores, grid[t])) b.confidentAt[static_cast<size_t>(e)][t][word] |= bit;
        }
    }
    return b;
}

// The outcome of early exits `exits` at threshold index t, then the final exit.
EarlyExitOutcome outcomeOf(const CalibrationBits& b, int numExits, const std::vector<int>& exits, size_t t, int finalExit,
                           bool sentAtFinal) {
    EarlyExitOutcome o;
    o.exitFractions.assign(static_cast<size_t>(numExits), 0.0);
    const size_t w = words(b.samples);
    Bits remaining(w, ~uint64_t{0});
    if (b.samples % 64) remaining.back() = (uint64_t{1} << (b.samples % 64)) - 1;
    int64_t correct = 0;
    const double n = static_cast<double>(b.samples);
    for (int k : exits) {
        int64_t hit = 0, right = 0;
        const Bits& conf = b.confidentAt[static_cast<size_t>(k)][t];
        const Bits& ok = b.correct[static_cast<size_t>(k)];
        for (size_t i = 0; i < w; ++i) {
            const uint64_t h = remaining[i] & conf[i];
            hit += popcount(h);
            right += popcount(h & ok[i]);
            remaining[i] &= ~h;
        }
        o.exitFractions[static_cast<size_t>(k)] += static_cast<double>(hit) / n;
        correct += right;
    }
    int64_t left = 0, right = 0;
    const Bits& ok = b.correct[static_cast<size_t>(finalExit)];
    for (size_t i = 0; i < w; ++i) {
        left += popcount(remaining[i]);
        right += popcount(remaining[i] & ok[i]);
    }
    o.exitFractions[static_cast<size_t>(finalExit)] += static_cast<double>(left) / n;
    correct += right;
    o.offloadRate = sentAtFinal ? static_cast<double>(left) / n : 0.0;
    o.accuracy = static_cast<double>(correct) / n;
    return o;
}

double branchDeviceMs(const ModelSpec& spec, const LatencyTable& t, int exit) {
    return t.deviceMs(exit, spec.pathLength(exit)) - t.deviceMs(exit, spec.exits[static_cast<size_t>(exit)].attach);
}

struct Candidate {
    EarlyExits early;
    EarlyExitOutcome outcome;
    int partition = 0;
};

// Every subset (in attach order) of the exits before the final one, filtered by size.
std::vector<std::vector<int>> subsetsOf(const std::vector<int>& exits, size_t minSize, size_t maxSize) {
    std::vector<std::vector<int>> out;
    const size_t n = exits.size();
    for (uint32_t mask = 1; mask < (1u << n); ++mask) {
        std::vector<int> s;
        for (size_t i = 0; i < n; ++i)
            if (mask & (1u << i)) s.push_back(exits[i]);
        if (s.size() >= minSize && s.size() <= maxSize) out.push_back(s);
    }
    return out;
}

}  // namespace

EarlyExitOutcome evaluateEarlyExits(const CalibrationSet& c, const EarlyExits& early, int finalExit, bool sentAtFinal) {
    EarlyExitOutcome o;
    o.exitFractions.assign(static_cast<size_t>(c.numExits), 0.0);
    int64_t correct = 0, left = 0;
    for (int64_t s = 0; s < c.samples; ++s) {
        int taken = finalExit;
        for (size_t i = 0; i < early.exits.size(); ++i)
            if (confident(early.rule, c.scores(s, early.exits[i]), early.thresholds[i])) {
                taken = early.exits[i];
                break;
            }
        o.exitFractions[static_cast<size_t>(taken)] += 1.0;
        correct += c.correct(s, taken);
        left += taken == finalExit;
    }
    const double n = std::max<double>(1.0, static_cast<double>(c.samples));
    for (double& f : o.exitFractions) f /= n;
    o.accuracy = static_cast<double>(correct) / n;
    o.offloadRate = sentAtFinal ? static_cast<double>(left) / n : 0.0;
    return o;
}

EarlyExitCost earlyExitCost(const ModelSpec& spec, const LatencyTable& typical, const LatencyTable& tail,
                            const EarlyExits& early, int finalExit, int partition, double bandwidthBps,
                            const std::vector<double>& fractions, const PowerCoefficients& power, net::Codec codec) {
    const int n = spec.pathLength(finalExit);
    const int attachE = spec.exits[static_cast<size_t>(finalExit)].attach;
    const int pTrunk = std::min(partition, attachE);
    struct Outcome {
        double fraction, typicalMs, tailMs, energyMj;
    };
    std::vector<Outcome> outcomes;
    auto parts = [&](const LatencyTable& t, int upToEarly, double& device, double& transfer, double& edge) {
        // upToEarly: index of the early exit the input stops at, or -1 for the final exit.
        int reach = 0;
        device = 0.0;
        const size_t last = upToEarly >= 0 ? static_cast<size_t>(upToEarly) + 1 : early.exits.size();
        for (size_t i = 0; i < last; ++i) {
            const int k = early.exits[i];
            reach = std::max(reach, spec.exits[static_cast<size_t>(k)].attach);
            device += branchDeviceMs(spec, t, k);
        }
        transfer = edge = 0.0;
        if (upToEarly >= 0) {
            device += t.deviceMs(finalExit, reach);
            return;
        }
        reach = std::max(reach, pTrunk);
        device += t.deviceMs(finalExit, reach);
        if (partition > attachE) device += t.deviceMs(finalExit, partition) - t.deviceMs(finalExit, attachE);
        if (partition < n) {
            edge = t.edgeMs(finalExit, partition);
            // The codec's encode and decode ride with the transfer (charged at the radio's power).
            const int option = std::max(0, t.codecOption(codec));
            transfer = t.predictMs(finalExit, partition, bandwidthBps, t.codecApplies(option, finalExit, partition) ? option : 0) -
                       t.deviceMs(finalExit, partition) - edge;
        }
    };
    for (int j = -1; j < static_cast<int>(early.exits.size()); ++j) {
        const int exit = j >= 0 ? early.exits[static_cast<size_t>(j)] : finalExit;
        const double f = fractions[static_cast<size_t>(exit)];
        if (f <= 0.0) continue;
        double d, x, g, dt, xt, gt;
        parts(typical, j, d, x, g);
        parts(tail, j, dt, xt, gt);
        outcomes.push_back(Outcome{f, d + x + g, dt + xt + gt, power.activeW * d + power.transmitW * x + power.idleW * g});
    }
    EarlyExitCost c;
    for (const auto& o : outcomes) {
        c.meanMs += o.fraction * o.typicalMs;
        c.energyMj += o.fraction * o.energyMj;
    }
    std::sort(outcomes.begin(), outcomes.end(), [](const Outcome& a, const Outcome& b) { return a.tailMs < b.tailMs; });
    double cumulative = 0.0;
    for (const auto& o : outcomes) {
        cumulative += o.fraction;
        c.p95Ms = o.tailMs;
        if (cumulative >= 0.95 - 1e-12) break;
    }
    return c;
}

std::vector<double> thresholdGrid(ConfidenceRule rule, int64_t classes) {
    switch (rule) {
    case ConfidenceRule::Entropy: {
        std::vector<double> g{0.0,  0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2,
                              0.25, 0.3,   0.4,  0.5,  0.65, 0.8,  1.0,   1.25, 1.5};
        g.push_back(thresholdMax(rule, classes));
        return g;
    }
    case ConfidenceRule::MaxSoftmax:
        return {1.0, 0.9999, 0.999, 0.998, 0.995, 0.99, 0.98, 0.97, 0.95, 0.93, 0.9, 0.85, 0.8, 0.75, 0.7, 0.6, 0.5, 0.0};
    case ConfidenceRule::Appeal:
        // Dense at small q: a head trained to appeal only the inputs the little network gets
        // wrong gives most inputs a q of a few percent.
        return {0.0,  0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.065,
                0.08, 0.1,   0.15,  0.2,  0.3,   0.4,  0.5,  0.7,  1.0};
    case ConfidenceRule::None: break;
    }
    return {};
}

Status checkEarlyExits(const ModelSpec& spec, const EarlyExits& early, int finalExit) {
    if (!early.active()) return Status::success();
    if (finalExit < 0 || finalExit >= spec.numExits()) return makeError("the final exit is out of range");
    if (early.thresholds.size() != early.exits.size())
        return makeError("the early exits need one threshold each (" + std::to_string(early.exits.size()) + " exits, " +
                         std::to_string(early.thresholds.size()) + " thresholds)");
    const int attachE = spec.exits[static_cast<size_t>(finalExit)].attach;
    int lastAttach = -1;
    for (size_t i = 0; i < early.exits.size(); ++i) {
        const int k = early.exits[i];
        if (k < 0 || k >= spec.numExits()) return makeError("early exit " + std::to_string(k) + " is out of range");
        if (k == finalExit) return makeError("early exit " + std::to_string(k) + " is the final exit itself");
        const int attach = spec.exits[static_cast<size_t>(k)].attach;
        if (attach > attachE)
            return makeError("early exit " + std::to_string(k) + " attaches past the final exit's trunk");
        if (attach < lastAttach) return makeError("early exits must be listed in the order they attach to the trunk");
        lastAttach = attach;
        if (early.rule == ConfidenceRule::Appeal && !spec.hasAppeal(k))
            return makeError("exit " + std::to_string(k) + " has no appeal head (train one with edgent train --appeal)");
        if (auto s = checkThreshold(early.rule, early.thresholds[i], spec.numClasses); !s) return s;
    }
    return Status::success();
}

Result<PlanResult> planAdaptive(const PlanContext& ctx, const PlanGoal& goal, double bandwidthBps) {
    if (auto s = checkPlanInputs(ctx, goal); !s) return makeError(s.error());
    const ModelSpec& spec = ctx.spec;
    const CalibrationSet& cal = *ctx.calibration;
    const LatencyTable& typical = ctx.typical ? *ctx.typical : ctx.table;
    const LatencyTable& tail = ctx.tail ? *ctx.tail : ctx.table;
    const int E = spec.numExits() - 1;
    const int n = spec.pathLength(E);
    std::vector<int> before;
    for (int k = 0; k < E; ++k) before.push_back(k);
    std::sort(before.begin(), before.end(),
              [&](int a, int b) { return spec.exits[static_cast<size_t>(a)].attach < spec.exits[static_cast<size_t>(b)].attach; });

    std::vector<ConfidenceRule> rules;
    switch (goal.policy) {
    case Policy::Branchynet: rules = {ConfidenceRule::Entropy}; break;
    case Policy::Appealnet: rules = {ConfidenceRule::Appeal}; break;
    case Policy::Cascade: rules = {ConfidenceRule::MaxSoftmax}; break;
    default: rules = {ConfidenceRule::Entropy, ConfidenceRule::MaxSoftmax}; break;
    }
    PlanResult best, fastest;
    bool found = false, any = false;
    auto consider = [&](const EarlyExits& early, const EarlyExitOutcome& outcome, int partition) {
        const EarlyExitCost cost =
            earlyExitCost(spec, typical, tail, early, E, partition, bandwidthBps, outcome.exitFractions, ctx.power);
        PlanResult r;
        r.policy = goal.policy;
        r.exit = E;
        r.partition = partition;
        r.early = early;
        r.predictedMs = cost.meanMs;
        r.predictedP95Ms = cost.p95Ms;
        r.energyMj = cost.energyMj;
        r.accuracy = outcome.accuracy;
        r.exitFractions = outcome.exitFractions;
        r.offloadRate = partition < n ? outcome.offloadRate : 0.0;
        r.feasible = cost.p95Ms <= goal.deadlineMs;
        r.meetsTarget = std::isnan(goal.targetAccuracy) || r.accuracy >= goal.targetAccuracy;
        if (!any || r.predictedP95Ms < fastest.predictedP95Ms) fastest = r, any = true;
        if (!r.feasible) return;
        auto better = [&](const PlanResult& a, const PlanResult& b) {  // is a better than b
            if (!std::isnan(goal.targetAccuracy) && a.meetsTarget != b.meetsTarget) return a.meetsTarget;
            if (!std::isnan(goal.targetAccuracy) && a.meetsTarget) {
                if (a.energyMj != b.energyMj) return a.energyMj < b.energyMj;
                return a.predictedMs < b.predictedMs;
            }
            if (std::abs(a.accuracy - b.accuracy) > 1e-12) return a.accuracy > b.accuracy;
            if (a.energyMj != b.energyMj) return a.energyMj < b.energyMj;
            return a.predictedMs < b.predictedMs;
        };
        if (!found || better(r, best)) best = r, found = true;
    };
    for (ConfidenceRule rule : rules) {
        const std::vector<double> grid = thresholdGrid(rule, spec.numClasses);
        const CalibrationBits bits = bitsOf(cal, rule, grid);
        std::vector<std::vector<int>> sets;
        switch (goal.policy) {
        case Policy::Branchynet: sets = subsetsOf(before, 1, before.size()); break;
        case Policy::Cascade: sets = subsetsOf(before, 1, 2); break;
        case Policy::Appealnet:
            for (int k : before)
                if (spec.hasAppeal(k)) sets.push_back({k});
            break;
        default: sets = subsetsOf(before, 1, before.size()); break;
        }
        for (const auto& exits : sets) {
            const int lastAttach = spec.exits[static_cast<size_t>(exits.back())].attach;
            std::vector<int> partitions;
            switch (goal.policy) {
            case Policy::Branchynet: partitions = {n}; break;
            case Policy::Appealnet:
            case Policy::Cascade: partitions = {0, lastAttach}; break;
            default:
                // SPINN and more: any split, with any early exits. A split below an early exit
                // keeps the tensor at the split, and the edge recomputes from there (the
                // cascades' "send the raw input" is p = 0): on a slow device that can beat
                // sending the bigger tensor at the exit.
                for (int p = 0; p <= n; ++p) partitions.push_back(p);
                break;
            }
            for (size_t t = 0; t < grid.size(); ++t) {
                EarlyExits early{rule, exits, std::vector<double>(exits.size(), grid[t])};
                for (int p : partitions) {
                    const EarlyExitOutcome outcome = outcomeOf(bits, cal.numExits, exits, t, E, p < n);
                    consider(early, outcome, p);
                }
            }
        }
    }
    if (goal.policy == Policy::Adaptive) {
        // A split with no early exit before it is the static plan of the final exit.
        const CalibrationBits bits = bitsOf(cal, ConfidenceRule::Entropy, {0.0});
        for (int p = 0; p <= n; ++p) {
            bool none = true;
            for (int k : before) none &= spec.exits[static_cast<size_t>(k)].attach > std::min(p, spec.exits[static_cast<size_t>(E)].attach);
            if (none) consider(EarlyExits{}, outcomeOf(bits, cal.numExits, {}, 0, E, p < n), p);
        }
    }
    if (!any) return makeError("no configuration to plan: the model has no exit before its final one");
    return found ? best : fastest;
}

std::vector<CalibrationRow> calibrationTable(const CalibrationSet& c, const ModelSpec& spec, ConfidenceRule rule) {
    const int E = spec.numExits() - 1;
    std::vector<int> exits;
    for (int k = 0; k < E; ++k)
        if (rule != ConfidenceRule::Appeal || spec.hasAppeal(k)) exits.push_back(k);
    std::sort(exits.begin(), exits.end(),
              [&](int a, int b) { return spec.exits[static_cast<size_t>(a)].attach < spec.exits[static_cast<size_t>(b)].attach; });
    std::vector<CalibrationRow> rows;
    if (exits.empty()) return rows;
    for (double t : thresholdGrid(rule, spec.numClasses)) {
        CalibrationRow r;
        r.threshold = t;
        r.outcome = evaluateEarlyExits(c, EarlyExits{rule, exits, std::vector<double>(exits.size(), t)}, E, false);
        r.earlyFraction = 1.0 - r.outcome.exitFractions[static_cast<size_t>(E)];
        rows.push_back(r);
    }
    return rows;
}

size_t kneeOf(const std::vector<CalibrationRow>& t) {
    if (t.size() < 3) return 0;
    // The chord from the row with the fewest early exits to the one with the most.
    size_t lo = 0, hi = 0;
    for (size_t i = 0; i < t.size(); ++i) {
        if (t[i].earlyFraction < t[lo].earlyFraction) lo = i;
        if (t[i].earlyFraction > t[hi].earlyFraction) hi = i;
    }
    const double dx = t[hi].earlyFraction - t[lo].earlyFraction;
    if (dx <= 0) return lo;
    size_t best = lo;
    double bestGap = 0.0;
    for (size_t i = 0; i < t.size(); ++i) {
        const double line = t[lo].outcome.accuracy +
                            (t[hi].outcome.accuracy - t[lo].outcome.accuracy) * (t[i].earlyFraction - t[lo].earlyFraction) / dx;
        const double gap = t[i].outcome.accuracy - line;
        if (gap > bestGap) bestGap = gap, best = i;
    }
    return best;
}

AppealPoint appealAtRate(const CalibrationSet& c, int little, ConfidenceRule rule, double rate) {
    AppealPoint pt;
    pt.rule = rule;
    pt.rate = rate;
    const int E = c.numExits - 1;
    // Order the inputs from the least confident to the most (ties by index, for determinism).
    std::vector<int64_t> order(static_cast<size_t>(c.samples));
    std::iota(order.begin(), order.end(), 0);
    auto doubt = [&](int64_t s) {
        const ExitScores sc = c.scores(s, little);
        switch (rule) {
        case ConfidenceRule::Entropy: return sc.entropy;
        case ConfidenceRule::MaxSoftmax: return -sc.maxSoftmax;
        case ConfidenceRule::Appeal: return std::isnan(sc.appeal) ? 0.0 : sc.appeal;
        case ConfidenceRule::None: break;
        }
        return 0.0;
    };
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return doubt(a) > doubt(b); });
    const int64_t appealed = std::llround(rate * static_cast<double>(c.samples));
    int64_t correct = 0;
    for (int64_t i = 0; i < c.samples; ++i) {
        const int64_t s = order[static_cast<size_t>(i)];
        correct += c.correct(s, i < appealed ? E : little);
    }
    pt.accuracy = c.samples ? static_cast<double>(correct) / static_cast<double>(c.samples) : 0.0;
    if (appealed > 0 && appealed <= c.samples) {
        const double d = doubt(order[static_cast<size_t>(appealed - 1)]);
        pt.threshold = rule == ConfidenceRule::MaxSoftmax ? -d : d;
    }
    return pt;
}

Status checkPlanInputs(const PlanContext& ctx, const PlanGoal& goal) {
    if (!(goal.deadlineMs > 0.0)) return makeError("a plan needs a positive deadline");
    if (goal.codec != "auto") {
        auto codec = net::codecFromName(goal.codec);
        if (!codec) return makeError(codec.error());
        if (ctx.table.codecOption(*codec) < 0)
            return makeError("codec " + goal.codec + " has no costs to plan with: " +
                             (ctx.codecNote.empty() ? std::string("the plan context has none") : ctx.codecNote));
    }
    if (!isAdaptive(goal.policy)) return Status::success();
    const char* name = policyName(goal.policy);
    if (!ctx.calibration)
        return makeError(std::string("policy ") + name +
                         " decides per input and needs a calibration of the model (run edgent calibrate --db DB first)");
    if (ctx.calibration->numExits != ctx.spec.numExits())
        return makeError("the calibration has " + std::to_string(ctx.calibration->numExits) + " exits, the model " +
                         std::to_string(ctx.spec.numExits()));
    if (ctx.calibration->split == "test")
        return makeError("the calibration was made on the test split; plans are calibrated on the validation split only");
    if (ctx.spec.numExits() < 2) return makeError(std::string("policy ") + name + " needs a model with more than one exit");
    if (goal.policy == Policy::Appealnet) {
        bool any = false;
        for (int e = 0; e + 1 < ctx.spec.numExits(); ++e) any |= ctx.spec.hasAppeal(e);
        if (!any)
            return makeError("the model has no appeal head; policy appealnet needs one (train it with edgent train --appeal)");
    }
    if (!std::isnan(goal.targetAccuracy) && !(goal.targetAccuracy > 0.0 && goal.targetAccuracy <= 1.0))
        return makeError("the target accuracy must lie in (0, 1]");
    return Status::success();
}

Result<PlanResult> makePlan(const PlanContext& ctx, const PlanGoal& goal, double bandwidthBps) {
    if (auto s = checkPlanInputs(ctx, goal); !s) return makeError(s.error());
    if (!(bandwidthBps > 0.0)) return makeError("a plan needs a positive bandwidth");
    if (isAdaptive(goal.policy)) return planAdaptive(ctx, goal, bandwidthBps);
    const int codecOption = goal.codec == "auto" ? -1 : ctx.table.codecOption(net::codecFromName(goal.codec).value());
    PlanResult r = choosePlan(ctx.table, ctx.exitAccuracy, bandwidthBps, goal.deadlineMs, goal.policy, codecOption);
    // The same figures as adaptive plans report, for comparisons: p95 on the predictor's table,
    // energy from the typical one.
    const LatencyTable& typical = ctx.typical ? *ctx.typical : ctx.table;
    std::vector<double> fractions(static_cast<size_t>(ctx.spec.numExits()), 0.0);
    fractions[static_cast<size_t>(r.exit)] = 1.0;
    const EarlyExitCost cost =
        earlyExitCost(ctx.spec, typical, ctx.table, EarlyExits{}, r.exit, r.partition, bandwidthBps, fractions, ctx.power, r.codec);
    r.predictedP95Ms = cost.p95Ms;
    r.energyMj = cost.energyMj;
    r.exitFractions = fractions;
    r.offloadRate = r.partition < ctx.spec.pathLength(r.exit) ? 1.0 : 0.0;
    return r;
}

}  // namespace edgent::core::plan
