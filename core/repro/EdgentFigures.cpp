// Edgent's figures (Li, Zhou, Chen, MECOMM 2018, Figs. 6-9) and its TWC 2019 dynamic mode.
#include "core/repro/EdgentFigures.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace edgent::core::repro {

namespace {

using control::PlannedPoint;

const std::vector<double> kBandwidthsKbps = {50, 100, 200, 300, 400, 500, 600, 800, 1000, 1200, 1500};
const std::vector<double> kBandwidthsKbpsQuick = {50, 150, 500, 1000, 1500};
const std::vector<double> kPaperDeadlinesMs = {100, 200, 300, 400, 500, 600, 700, 800, 900, 1000};
const std::vector<double> kPaperDeadlinesMsQuick = {100, 300, 500, 700, 1000};
// What Session::point does with a plan the figure already ran at the same bandwidth.
const char* const kOneRunPerPlan =
    "a plan is run once per bandwidth: a later point that plans the same configuration scores that run's samples "
    "against its own deadline, and the CSV repeats its run_id";

std::string pointsCsvHeader() { return "paper_deadline_ms,predicted_typical_ms," + control::plannedPointCsvHeader(); }

std::string pointCsv(const Session& s, const PlannedPoint& p, double paperDeadlineMs) {
    const double typical = s.typical().predictMs(p.plan.exit, p.plan.partition, p.bandwidthBps);
    return num(paperDeadlineMs, 6) + "," + num(typical, 6) + "," + control::plannedPointCsvRow(p);
}

// The exits and partitions of Figs. 6 and 8 as the paper draws them: exit points numbered
// from 1, and the partition as the layers run on the device.
void addChoicePanels(Figure& f, const std::vector<PlannedPoint>& points, const std::vector<double>& x) {
    Panel exits = makePanel("exit point (1 = first)", {}, 0.5, 0.0, true);
    Panel parts = makePanel("layers on the device", {}, NAN, NAN, true);
    Series e = makeSeries("chosen exit", x, {}, SeriesStyle::Line);
    Series p = makeSeries("chosen partition", x, {}, SeriesStyle::Line);
    int maxExit = 1;
    for (const PlannedPoint& pt : points) {
        e.y.push_back(pt.plan.exit + 1);
        p.y.push_back(pt.plan.partition);
        maxExit = std::max(maxExit, pt.plan.exit + 1);
        if (!pt.plan.feasible) {
            e.markX.push_back(x[e.y.size() - 1]);
            e.markY.push_back(pt.plan.exit + 1);
        }
    }
    e.markName = "(nothing meets the deadline)";
    exits.yMax = maxExit + 0.5;
    exits.series.push_back(std::move(e));
    parts.series.push_back(std::move(p));
    f.panels.push_back(std::move(exits));
    f.panels.push_back(std::move(parts));
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
    const size_t n = std::min(a.size(), b.size());
    if (n < 2) return NAN;
    double ma = 0, mb = 0;
    for (size_t i = 0; i < n; ++i) ma += a[i] / n, mb += b[i] / n;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / std::sqrt(std::max(saa * sbb, 1e-300));
}

bool nonDecreasing(const std::vector<double>& v, double slack = 1e-9) {
    for (size_t i = 1; i < v.size(); ++i)
        if (v[i] + slack < v[i - 1]) return false;
    return true;
}

Result<std::vector<PlannedPoint>> bandwidthPoints(Session& s, const std::string& figure, const std::vector<double>& kbps,
                                                  double deadlineMs) {
    std::vector<PlannedPoint> out;
    for (size_t i = 0; i < kbps.size(); ++i) {
        auto p = s.point(figure, plan::Policy::Edgent, kbps[i] * 1e3, deadlineMs);
        if (!p) return makeError(p.error());
        s.say(figure + ": " + num(kbps[i]) + " kbps (" + std::to_string(i + 1) + "/" + std::to_string(kbps.size()) +
              "): exit " + std::to_string(p->plan.exit + 1) + ", partition " + std::to_string(p->plan.partition));
        out.push_back(*p);
    }
    return out;
}

// Figs. 6 and 7 share their runs: Edgent at the paper's 1000 ms deadline (scaled) over the
// bandwidths.
struct BandwidthFigure {
    std::vector<double> kbps;
    double deadlineMs = 0.0;
    std::vector<PlannedPoint> points;
    FigureOutput out;
};

Result<BandwidthFigure> bandwidthFigure(Session& s, const std::string& name, const std::string& title,
                                        const std::string& paperRef) {
    BandwidthFigure f;
    f.kbps = s.options().quick ? kBandwidthsKbpsQuick : kBandwidthsKbps;
    f.deadlineMs = s.paperToOurs(1000);
    auto points = bandwidthPoints(s, name, f.kbps, f.deadlineMs);
    if (!points) return makeError(points.error());
    f.points = std::move(*points);
    f.out.name = name;
    f.out.title = title;
    f.out.paperRef = paperRef;
    f.out.csv = pointsCsvHeader();
    return f;
}

}  // namespace

Result<FigureOutput> edgentFig6(Session& s) {
    auto f = bandwidthFigure(s, "edgent-fig6", "exit and partition against bandwidth",
                             "Fig. 6 of Li, Zhou, Chen, *Edge Intelligence: On-Demand Deep Learning Model Co-Inference "
                             "with Device-Edge Synergy* (MECOMM 2018, arXiv 1806.07840)");
    if (!f) return makeError(f.error());
    const auto& kbps = f->kbps;
    const double deadlineMs = f->deadlineMs;
    const auto* points = &f->points;
    FigureOutput& out = f->out;
    std::vector<double> exits;
    for (const PlannedPoint& p : *points) {
        out.csv += pointCsv(s, p, 1000);
        exits.push_back(p.plan.exit);
    }
    out.figure.title = "Edgent Fig. 6: selection under bandwidth (deadline 1000 ms paper = " + num(deadlineMs, 3) + " ms ours)";
    out.figure.xLabel = "bandwidth (kbps)";
    out.figure.logX = true;
    addChoicePanels(out.figure, *points, kbps);
    out.setup = {"Edgent's policy planned and run at " + std::to_string(kbps.size()) + " bandwidths from " + num(kbps.front()) +
                     " to " + num(kbps.back()) + " kbps, each with " + std::to_string(s.count()) + " test images",
                 "deadline: the paper's 1000 ms, scaled to " + num(deadlineMs, 4) + " ms",
                 "latency model: `" + s.context().predictor + "` on this model's own profile (the paper: Table 1 regressions)"};
    Check rise;
    rise.statement = "The chosen exit rises with bandwidth (a deeper, more accurate exit once the link is faster).";
    rise.ours = "exits (from 1) " + [&] {
        std::string v;
        for (double e : exits) v += (v.empty() ? "" : ", ") + num(e + 1);
        return v;
    }();
    rise.holds = nonDecreasing(exits) && exits.back() > exits.front();
    if (!rise.holds)
        rise.why = exits.back() <= exits.front()
                       ? "the exit does not change over this range: the scaled deadline leaves every bandwidth the same choice"
                       : "the exit falls somewhere as bandwidth grows";
    Check offload;
    offload.statement = "More layers go to the edge as bandwidth grows.";
    std::vector<double> deviceShare;
    for (const PlannedPoint& p : *points)
        deviceShare.push_back(static_cast<double>(p.plan.partition) /
                              std::max(1, s.context().table.pathLength(p.plan.exit)));
    offload.ours = "share of the path on the device: " + num(deviceShare.front(), 2) + " at " + num(kbps.front()) +
                   " kbps, " + num(deviceShare.back(), 2) + " at " + num(kbps.back()) + " kbps";
    offload.holds = deviceShare.back() <= deviceShare.front();
    if (!offload.holds) offload.why = "the deeper exit chosen at high bandwidth keeps its cheap first layers on the device";
    out.checks = {rise, offload};
    return out;
}

Result<FigureOutput> edgentFig7(Session& s) {
    auto f = bandwidthFigure(s, "edgent-fig7", "predicted against measured latency over bandwidth",
                             "Fig. 7 of Li, Zhou, Chen (MECOMM 2018, arXiv 1806.07840)");
    if (!f) return makeError(f.error());
    const auto& kbps = f->kbps;
    const double deadlineMs = f->deadlineMs;
    const auto* points = &f->points;
    FigureOutput& out = f->out;
    Series typical = makeSeries("predicted (median)", kbps, {}, SeriesStyle::Line, true);
    Series tail = makeSeries("predicted (95th percentile)", kbps, {}, SeriesStyle::Line, true);
    Series p50 = makeSeries("measured median", kbps, {}, SeriesStyle::Line);
    Series p95 = makeSeries("measured 95th percentile", kbps, {}, SeriesStyle::Line);
    Series dl = makeSeries("deadline", kbps, std::vector<double>(kbps.size(), deadlineMs), SeriesStyle::Line, true);
    double apeSum = 0.0, worst = 0.0;
    int tailCovers = 0;
    for (const PlannedPoint& p : *points) {
        out.csv += pointCsv(s, p, 1000);
        const double pred = s.typical().predictMs(p.plan.exit, p.plan.partition, p.bandwidthBps);
        typical.y.push_back(pred);
        tail.y.push_back(p.plan.predictedMs);
        p50.y.push_back(p.summary.latencyMsP50);
        p95.y.push_back(p.summary.latencyMsP95);
        const double ape = std::abs(pred - p.summary.latencyMsP50) / std::max(p.summary.latencyMsP50, 1e-9);
        apeSum += ape;
        worst = std::max(worst, ape);
        tailCovers += p.plan.predictedMs >= p.summary.latencyMsP95;
    }
    const double mape = apeSum / static_cast<double>(points->size());
    const double r = pearson(typical.y, p50.y);
    out.figure.title = "Edgent Fig. 7: predicted and measured latency (deadline " + num(deadlineMs, 3) + " ms)";
    out.figure.xLabel = "bandwidth (kbps)";
    out.figure.logX = true;
    out.figure.panels.push_back(makePanel("latency (ms)", {p50, p95, typical, tail, dl}));
    out.setup = {"the same planned runs as edgent-fig6 (run once when both are reproduced together)",
                 "predicted (median): the sum of the profiled per-layer medians and the transfer at the shaped rate; "
                 "predicted (95th percentile): what the planner planned with (`" + s.context().predictor + "`)",
                 std::to_string(s.count()) + " test images per bandwidth"};
    out.notes = {"The paper predicts with its Table-1 regressions; the workbench's default is a lookup of this model's "
                 "measured layers, which docs/latency-models.md compares with the regressions."};
    Check track;
    track.statement = "The predicted latency tracks the measured latency across bandwidths.";
    track.ours = "correlation of the median prediction with the measured median over bandwidths: r = " + num(r, 3);
    track.holds = r >= 0.9;
    if (!track.holds) track.why = "the measured latencies do not follow the predicted ones; see the CSV";
    Check close;
    close.statement = "(ours only) The median prediction is within 20% of the measured median on average.";
    close.ours = "mean absolute error " + num(100 * mape, 3) + "%, worst " + num(100 * worst, 3) +
                 "%; the planner's 95th-percentile prediction covers the measured 95th percentile at " +
                 std::to_string(tailCovers) + " of " + std::to_string(points->size()) + " bandwidths";
    close.holds = mape <= 0.20;
    close.why = "a run or the profile met a stretch in which the host's core ran at about half speed (edgent-bench-drift, "
                "docs/latency-models.md); the tail predictor the planner uses covers part of it, the median does not";
    out.checks = {track, close};
    return out;
}

Result<FigureOutput> edgentFig8(Session& s) {
    const auto& paper = s.options().quick ? kPaperDeadlinesMsQuick : kPaperDeadlinesMs;
    std::vector<PlannedPoint> points;
    for (double d : paper) {
        auto p = s.point("edgent-fig8", plan::Policy::Edgent, 500e3, s.paperToOurs(d));
        if (!p) return makeError(p.error());
        s.say("edgent-fig8: paper deadline " + num(d) + " ms");
        points.push_back(*p);
    }
    FigureOutput out;
    out.name = "edgent-fig8";
    out.title = "exit and partition against deadline at 500 kbps";
    out.paperRef = "Fig. 8 of Li, Zhou, Chen (MECOMM 2018, arXiv 1806.07840)";
    out.csv = pointsCsvHeader();
    Series planned = makeSeries("exit's accuracy (planned)", paper, {}, SeriesStyle::Line);
    Series measured = makeSeries("measured accuracy", paper, {}, SeriesStyle::Points);
    std::vector<double> acc;
    for (const PlannedPoint& p : points) {
        out.csv += pointCsv(s, p, p.deadlineMs / s.scaling().deadlineScale);
        planned.y.push_back(p.plan.accuracy);
        measured.y.push_back(p.summary.accuracy);
        acc.push_back(p.plan.feasible ? p.plan.accuracy : 0.0);
    }
    out.figure.title = "Edgent Fig. 8: selection under deadlines at 500 kbps";
    out.figure.xLabel = "deadline, paper's ms (ours = x " + num(s.scaling().deadlineScale, 4) + ")";
    addChoicePanels(out.figure, points, paper);
    out.figure.panels.push_back(makePanel("accuracy", {planned, measured}, 0.0, 1.0));
    out.setup = {"Edgent's policy at 500 kbps for the paper's deadlines " + num(paper.front()) + "-" + num(paper.back()) +
                     " ms, scaled by " + num(s.scaling().deadlineScale, 4),
                 std::to_string(s.count()) + " test images per deadline (the same images at every point)",
                 kOneRunPerPlan};
    out.notes = {"The planned accuracy is the exit's test accuracy stored with the model (as the paper plots the exit's "
                 "accuracy); the measured accuracy is over this run's few images and is noisy."};
    Check grow;
    grow.statement = "Accuracy does not fall as the deadline grows (a looser deadline allows a deeper exit).";
    grow.ours = "planned accuracy " + num(acc.front(), 4) + " at the tightest deadline, " + num(acc.back(), 4) + " at the loosest";
    grow.holds = nonDecreasing(acc);
    if (!grow.holds) grow.why = "a looser deadline chose a less accurate exit somewhere";
    out.checks = {grow};
    return out;
}

Result<FigureOutput> edgentFig9(Session& s) {
    const auto& paper = s.options().quick ? kPaperDeadlinesMsQuick : kPaperDeadlinesMs;
    const std::vector<std::pair<plan::Policy, std::string>> policies = {
        {plan::Policy::DeviceOnly, "device-only"},
        {plan::Policy::EdgeOnly, "edge-only"},
        {plan::Policy::PartitionOnly, "partition-only (Neurosurgeon)"},
        {plan::Policy::ExitOnly, "exit-only (BranchyNet right-sizing)"},
        {plan::Policy::Edgent, "Edgent"}};
    FigureOutput out;
    out.name = "edgent-fig9";
    out.title = "accuracy against deadline at 400 kbps, Edgent and its baselines";
    out.paperRef = "Fig. 9 of Li, Zhou, Chen (MECOMM 2018, arXiv 1806.07840)";
    out.csv = pointsCsvHeader();
    Panel panel = makePanel("accuracy", {}, -0.02, 1.0);
    std::map<plan::Policy, std::vector<PlannedPoint>> byPolicy;
    for (const auto& [policy, label] : policies) {
        Series series = makeSeries(label, {}, {}, SeriesStyle::Bars);
        series.markName = "infeasible";
        for (double d : paper) {
            auto p = s.point("edgent-fig9", policy, 400e3, s.paperToOurs(d));
            if (!p) return makeError(p.error());
            s.say("edgent-fig9: " + std::string(plan::policyName(policy)) + " at paper deadline " + num(d) + " ms");
            out.csv += pointCsv(s, *p, d);
            byPolicy[policy].push_back(*p);
            series.x.push_back(d);
            series.y.push_back(p->plan.feasible ? p->plan.accuracy : 0.0);
            if (!p->plan.feasible) {
                series.markX.push_back(d);
                series.markY.push_back(0.0);
            }
        }
        panel.series.push_back(std::move(series));
    }
    out.figure.title = "Edgent Fig. 9: accuracy under deadlines at 400 kbps (x: infeasible)";
    out.figure.xLabel = "deadline, paper's ms (ours = x " + num(s.scaling().deadlineScale, 4) + ")";
    out.figure.panels.push_back(std::move(panel));
    out.setup = {"five policies at 400 kbps for the paper's deadlines " + num(paper.front()) + "-" + num(paper.back()) +
                     " ms, scaled by " + num(s.scaling().deadlineScale, 4),
                 "a policy is infeasible at a deadline when its plan's predicted latency exceeds it; it still runs its "
                 "fastest option, and the CSV keeps the measured hit rate",
                 std::to_string(s.count()) + " test images per point", kOneRunPerPlan};
    Check best;
    best.statement = "Edgent's accuracy is at least every feasible baseline's at every deadline.";
    int violations = 0, edgentInfeasibleWhileOther = 0;
    const auto& edgent = byPolicy[plan::Policy::Edgent];
    for (size_t i = 0; i < paper.size(); ++i)
        for (const auto& [policy, label] : policies) {
            if (policy == plan::Policy::Edgent) continue;
            const PlannedPoint& b = byPolicy[policy][i];
            if (!b.plan.feasible) continue;
            if (!edgent[i].plan.feasible)
                ++edgentInfeasibleWhileOther;
            else if (edgent[i].plan.accuracy + 1e-9 < b.plan.accuracy)
                ++violations;
        }
    best.ours = std::to_string(violations + edgentInfeasibleWhileOther) + " (deadline, baseline) pairs where a feasible "
                "baseline beats Edgent";
    best.holds = violations == 0 && edgentInfeasibleWhileOther == 0;
    if (!best.holds) best.why = "see the CSV's rows for the pairs";
    Check device;
    device.statement = "Device-only (more than 2 s on the Pi) meets none of the 100-1000 ms deadlines.";
    int deviceFeasible = 0;
    for (const PlannedPoint& p : byPolicy[plan::Policy::DeviceOnly]) deviceFeasible += p.plan.feasible;
    device.ours = "device-only feasible at " + std::to_string(deviceFeasible) + " of " + std::to_string(paper.size()) +
                  " deadlines";
    device.holds = deviceFeasible == 0;
    device.why = "by construction: deadlines are scaled by our device-only latency over the paper's 2 s";
    Check measuredHits;
    measuredHits.statement = "(ours only) Edgent's feasible plans meet the deadline when run.";
    double minHit = 1.0;
    for (const PlannedPoint& p : edgent)
        if (p.plan.feasible) minHit = std::min(minHit, p.summary.deadlineHitRate);
    measuredHits.ours = "lowest measured deadline hit rate over Edgent's feasible points: " + num(minHit, 3);
    measuredHits.holds = minHit >= 0.8;
    if (!measuredHits.holds) measuredHits.why = "the host's drift between profile and run; see edgent-fig7";
    out.checks = {best, device, measuredHits};
    return out;
}

}  // namespace edgent::core::repro
