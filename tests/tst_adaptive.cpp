// Per-input adaptive inference: the confidence rules, the calibration tables, the adaptive
// planner against brute force, the device's early exits on real workers, and the one-line
// errors for what cannot work.
#include "TestUtil.h"

#include "core/control/LiveRun.h"
#include "core/model/ModelImport.h"
#include "core/plan/Adaptive.h"
#include "core/train/Calibration.h"

#include <QTemporaryDir>
#include <QtTest>

#include <random>

using namespace edgent::core;
using namespace edgent::core::plan;

namespace {

// A calibration of `samples` made-up inputs: exit e is right with probability acc[e], and
// more confident (lower entropy, higher top probability, lower appeal) when right. What the
// planner is tested on is its arithmetic over such a table, not the numbers themselves.
CalibrationSet syntheticCalibration(int exits, int64_t samples, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    CalibrationSet c;
    c.split = "validation";
    c.numExits = exits;
    c.samples = samples;
    c.labels.resize(static_cast<size_t>(samples));
    const size_t cells = static_cast<size_t>(samples * exits);
    c.predictions.resize(cells);
    c.entropy.resize(cells);
    c.maxSoftmax.resize(cells);
    c.appeal.resize(cells);
    for (int64_t s = 0; s < samples; ++s) {
        const int label = static_cast<int>(s % 10);
        c.labels[static_cast<size_t>(s)] = label;
        const double difficulty = u(rng);
        for (int e = 0; e < exits; ++e) {
            const double acc = 0.80 + 0.03 * e;
            const bool right = u(rng) < acc + 0.15 * (0.5 - difficulty);
            const size_t i = c.at(s, e);
            c.predictions[i] = right ? label : (label + 1) % 10;
            const double conf = std::clamp((right ? 0.6 : 0.2) + 0.4 * u(rng) - 0.2 * difficulty, 0.0, 1.0);
            c.maxSoftmax[i] = static_cast<float>(0.1 + 0.9 * conf);
            c.entropy[i] = static_cast<float>(std::log(10.0) * (1.0 - conf));
            c.appeal[i] = e < exits - 1 ? static_cast<float>(1.0 - conf) : NAN;
        }
    }
    return c;
}

// The default model's spec with appeal heads on exits 0-2 as `edgent train --appeal` adds.
bool hasHeads(const ModelSpec& spec) { return spec.hasAppeal(0); }

}  // namespace

class TestAdaptive : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::optional<ModelBytes> model_;

    // A latency table for the default model: the device `deviceFactor` times slower per layer.
    LatencyTable table(double deviceMsPerLayer, double edgeMsPerLayer) const {
        const ModelSpec& spec = model_->file.spec;
        std::vector<std::vector<double>> d, g;
        for (int e = 0; e < spec.numExits(); ++e) {
            d.emplace_back(static_cast<size_t>(spec.pathLength(e)), deviceMsPerLayer);
            g.emplace_back(static_cast<size_t>(spec.pathLength(e)), edgeMsPerLayer);
        }
        return *LatencyTable::fromLayerTimes(spec, d, g, 0.3);
    }

    PlanContext context(const CalibrationSet& cal) const {
        PlanContext ctx;
        ctx.spec = model_->file.spec;
        ctx.table = table(1.0, 0.1);
        ctx.tail = table(1.3, 0.15);
        ctx.exitAccuracy = model_->file.spec.exitAccuracy;
        ctx.calibration = std::make_shared<const CalibrationSet>(cal);
        ctx.power = PowerCoefficients{18.0, 9.0, 6.0};
        return ctx;
    }

private Q_SLOTS:
    void initTestCase() {
        auto bytes = readAnyModel(edgent::test::defaultModel());
        QVERIFY2(bytes.ok(), bytes.ok() ? "" : bytes.error().c_str());
        model_ = std::move(*bytes);
    }

    void confidenceRulesReadTheRightValues() {
        const auto uniform = scoresFromLogits(std::vector<float>(10, 0.0f));
        QVERIFY(std::abs(uniform.entropy - std::log(10.0)) < 1e-9);
        QVERIFY(std::abs(uniform.maxSoftmax - 0.1) < 1e-9);
        QVERIFY(std::isnan(uniform.appeal));
        std::vector<float> sure(10, 0.0f);
        sure[3] = 40.0f;
        const auto certain = scoresFromLogits(sure, 0.0);
        QVERIFY(certain.entropy < 1e-12);
        QVERIFY(certain.maxSoftmax > 1.0 - 1e-12);
        QCOMPARE(certain.appeal, 0.5);
        // Stop rules: entropy below T, top probability at least T, appeal probability below T.
        QVERIFY(confident(ConfidenceRule::Entropy, certain, 0.01));
        QVERIFY(!confident(ConfidenceRule::Entropy, certain, 0.0));  // T = 0 never stops
        QVERIFY(confident(ConfidenceRule::MaxSoftmax, uniform, 0.0));  // T = 0 always stops
        QVERIFY(!confident(ConfidenceRule::MaxSoftmax, uniform, 0.5));
        QVERIFY(confident(ConfidenceRule::Appeal, certain, 0.6));
        QVERIFY(!confident(ConfidenceRule::Appeal, uniform, 1.0));  // no head: never stops
    }

    void aThresholdOutsideItsRangeGetsOneClearLine() {
        for (auto [rule, t] : std::vector<std::pair<ConfidenceRule, double>>{
                 {ConfidenceRule::Entropy, -0.1}, {ConfidenceRule::Entropy, 2.4}, {ConfidenceRule::MaxSoftmax, 1.5},
                 {ConfidenceRule::Appeal, -1.0}}) {
            const Status s = checkThreshold(rule, t, 10);
            QVERIFY(!s.ok());
            QVERIFY2(s.error().find("outside its range") != std::string::npos, s.error().c_str());
            QVERIFY(s.error().find('\n') == std::string::npos);
        }
        QVERIFY(checkThreshold(ConfidenceRule::Entropy, std::log(10.0), 10).ok());
        // And through the command line, before anything runs.
        const auto r = edgent::test::runCli({"run", "--early-exits", "0,1", "--rule", "entropy", "--threshold", "5", "--exit",
                                             "4", "--partition", "8", "--db", dir_.filePath("x.sqlite")});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("outside its range") && r.err.count('\n') == 1, r.err.constData());
    }

    void earlyExitConfigurationsAreChecked() {
        const ModelSpec& spec = model_->file.spec;
        auto expect = [&](EarlyExits e, int finalExit, const char* fragment) {
            const Status s = checkEarlyExits(spec, e, finalExit);
            QVERIFY(!s.ok());
            QVERIFY2(s.error().find(fragment) != std::string::npos, s.error().c_str());
        };
        expect(EarlyExits{ConfidenceRule::Entropy, {1, 0}, {0.1, 0.1}}, 4, "order they attach");
        expect(EarlyExits{ConfidenceRule::Entropy, {0, 4}, {0.1, 0.1}}, 4, "final exit itself");
        expect(EarlyExits{ConfidenceRule::Entropy, {0, 1}, {0.1}}, 4, "one threshold each");
        expect(EarlyExits{ConfidenceRule::Entropy, {9}, {0.1}}, 4, "out of range");
        QVERIFY(checkEarlyExits(spec, EarlyExits{ConfidenceRule::Entropy, {0, 2}, {0.1, 0.2}}, 4).ok());
    }

    // A model without an appeal head asked for appealnet: one clear line, from the planner and
    // from the command line.
    void appealnetWithoutAnAppealHeadGetsOneClearLine() {
        auto tiny = readAnyModel(edgent::test::dataFile("tiny.json"));
        QVERIFY(tiny.ok());
        PlanContext ctx;
        ctx.spec = tiny->file.spec;
        ctx.calibration = std::make_shared<const CalibrationSet>(syntheticCalibration(2, 600, 3));
        const Status s = checkPlanInputs(ctx, PlanGoal{100.0, Policy::Appealnet, NAN});
        QVERIFY(!s.ok());
        QVERIFY2(s.error().find("no appeal head") != std::string::npos, s.error().c_str());
        const auto r = edgent::test::runCli({"run", "--model", edgent::test::dataPath("tiny.json"), "--early-exits", "0",
                                             "--rule", "appeal", "--threshold", "0.5", "--db", dir_.filePath("y.sqlite")});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("has no appeal head") && r.err.count('\n') == 1, r.err.constData());
    }

    void aCalibrationSplitThatIsTooSmallGetsOneClearLine() {
        CalibrateOptions o;
        o.limit = 100;
        auto r = calibrateModel(edgent::test::defaultModel(), o);
        QVERIFY(!r.ok());
        QVERIFY2(r.error().find("needs at least 500") != std::string::npos, r.error().c_str());
        // A model that records no held-out split is never calibrated on the test split instead.
        auto tiny = calibrateModel(edgent::test::dataFile("tiny.json"), CalibrateOptions{});
        QVERIFY(!tiny.ok());
        QVERIFY2(tiny.error().find("records no held-out validation split") != std::string::npos, tiny.error().c_str());
        const auto cli = edgent::test::runCli({"calibrate", "--limit", "100", "--db", dir_.filePath("z.sqlite")});
        QCOMPARE(cli.code, 1);
        QVERIFY2(cli.err.contains("needs at least 500") && cli.err.count('\n') == 1, cli.err.constData());
    }

    // The planner's bitwise evaluation agrees with the per-input one for the plan it returns,
    // and no candidate of its space that brute force finds is better.
    void theAdaptivePlannerMatchesBruteForce() {
        const CalibrationSet cal = syntheticCalibration(model_->file.spec.numExits(), 2000, 11);
        const PlanContext ctx = context(cal);
        const int E = ctx.spec.numExits() - 1;
        const int n = ctx.spec.pathLength(E);
        for (double bps : {200e3, 2e6, 20e6})
            for (double deadline : {8.0, 15.0, 30.0, 100.0}) {
                const PlanGoal goal{deadline, Policy::Branchynet, NAN};
                auto planned = makePlan(ctx, goal, bps);
                QVERIFY2(planned.ok(), planned.ok() ? "" : planned.error().c_str());
                const PlanResult& p = *planned;
                const auto check = evaluateEarlyExits(cal, p.early, E, false);
                QVERIFY(std::abs(check.accuracy - p.accuracy) < 1e-12);
                // Brute force over the same space: every subset of exits 0-3, every threshold.
                double bestAccuracy = -1.0;
                for (uint32_t mask = 1; mask < 16; ++mask) {
                    std::vector<int> exits;
                    for (int k = 0; k < 4; ++k)
                        if (mask & (1u << k)) exits.push_back(k);
                    for (double t : thresholdGrid(ConfidenceRule::Entropy, 10)) {
                        const EarlyExits early{ConfidenceRule::Entropy, exits, std::vector<double>(exits.size(), t)};
                        const auto o = evaluateEarlyExits(cal, early, E, false);
                        const auto cost = earlyExitCost(ctx.spec, ctx.table, *ctx.tail,
                                                        early, E, n, bps, o.exitFractions, ctx.power);
                        if (cost.p95Ms <= deadline) bestAccuracy = std::max(bestAccuracy, o.accuracy);
                    }
                }
                if (bestAccuracy >= 0) {
                    QVERIFY(p.feasible);
                    QVERIFY2(std::abs(p.accuracy - bestAccuracy) < 1e-12,
                             qPrintable(QString("at %1 bps, %2 ms: planned %3, brute force %4")
                                            .arg(bps)
                                            .arg(deadline)
                                            .arg(p.accuracy)
                                            .arg(bestAccuracy)));
                } else {
                    QVERIFY(!p.feasible);
                }
            }
    }

    // With a target accuracy the planner spends the least expected energy that reaches it.
    void aTargetAccuracyIsReachedAtTheLeastEnergy() {
        const CalibrationSet cal = syntheticCalibration(model_->file.spec.numExits(), 2000, 5);
        const PlanContext ctx = context(cal);
        const double bps = 1e6, deadline = 60.0;
        const auto highest = *makePlan(ctx, PlanGoal{deadline, Policy::Adaptive, NAN}, bps);
        const double target = highest.accuracy - 0.02;
        const auto frugal = *makePlan(ctx, PlanGoal{deadline, Policy::Adaptive, target}, bps);
        QVERIFY(frugal.feasible);
        QVERIFY(frugal.meetsTarget);
        QVERIFY(frugal.accuracy >= target);
        QVERIFY(frugal.energyMj <= highest.energyMj);
        // Out of reach: the most accurate option, said so.
        const auto unreachable = *makePlan(ctx, PlanGoal{deadline, Policy::Adaptive, 0.999}, bps);
        QVERIFY(!unreachable.meetsTarget);
        QCOMPARE(unreachable.accuracy, highest.accuracy);
    }

    // On real workers: a threshold that never stops an input early gives the static run's
    // predictions exactly; one that always stops puts every input at the first early exit.
    void earlyExitsOnTheDeviceMatchTheirLimits() {
        control::WorkerLink link(control::WorkerLinkOptions{});
        QVERIFY(link.start().ok());
        QVERIFY(link.loadModel(*model_).ok());
        const std::string db = dir_.filePath("runs.sqlite").toStdString();
        auto run = [&](EarlyExits early) {
            control::LiveRunOptions o;
            o.dbPath = db;
            o.source = "test";
            o.exit = 4;
            o.partition = 8;
            o.early = std::move(early);
            o.bandwidthBps = 100e6;
            o.count = 60;
            return control::runToEnd(link, std::move(o));
        };
        const auto plain = run(EarlyExits{});
        QVERIFY(plain.ok());
        QCOMPARE(plain->status, std::string("finished"));
        const auto never = run(EarlyExits{ConfidenceRule::Entropy, {0, 1, 2}, {0.0, 0.0, 0.0}});
        QVERIFY(never.ok());
        QCOMPARE(never->status, std::string("finished"));
        QCOMPARE(never->samples.size(), plain->samples.size());
        for (size_t i = 0; i < plain->samples.size(); ++i) {
            QCOMPARE(never->samples[i].imageIndex, plain->samples[i].imageIndex);
            QCOMPARE(never->samples[i].prediction, plain->samples[i].prediction);
            QCOMPARE(never->samples[i].exitTaken, 4);
            QVERIFY(never->samples[i].sentToEdge);
            QVERIFY(!std::isnan(never->samples[i].confidence));  // the final exit's entropy, from the edge's logits
        }
        const auto always = run(EarlyExits{ConfidenceRule::MaxSoftmax, {0, 1}, {0.0, 0.0}});
        QVERIFY(always.ok());
        QCOMPARE(always->status, std::string("finished"));
        QCOMPARE(always->samples.size(), size_t(60));
        for (const auto& s : always->samples) {
            QCOMPARE(s.exitTaken, 0);
            QVERIFY(!s.sentToEdge);
            QCOMPARE(s.bytesSent, int64_t(0));
            QVERIFY(s.confidence >= 0.1 && s.confidence <= 1.0);
        }
        if (hasHeads(model_->file.spec)) {
            // The appeal rule reads the head's q; q < 1 stops every input at exit 0 as well.
            const auto appeal = run(EarlyExits{ConfidenceRule::Appeal, {0}, {1.0}});
            QVERIFY(appeal.ok());
            QCOMPARE(appeal->status, std::string("finished"));
            for (const auto& s : appeal->samples) QVERIFY(s.exitTaken == 0 && s.confidence >= 0.0 && s.confidence < 1.0);
        }
        link.shutdown();
    }
};

QTEST_GUILESS_MAIN(TestAdaptive)
#include "tst_adaptive.moc"
