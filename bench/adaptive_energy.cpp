// Per-input adaptive inference against the best static Edgent plan, side by side in one run
// on real local workers (the device emulated as slow as the stored profile says):
//   1. for each bandwidth, the best static Edgent plan at the deadline is run on the test
//      images; each adaptive policy is then planned for the static plan's exit accuracy less
//      0.2 points (its validation accuracy: target mode, least device energy) and run on the
//      same images. Reported: measured accuracy, mean and p95 latency, deadline hit rate,
//      mean device energy and its saving against the static plan, and the planner's expected
//      latency against the measured mean;
//   2. AppealNet's comparison at equal appeal rates (10, 20, 30%), from the test calibration.
// Needs a database with a profile of the model (edgent profile), a validation calibration and
// a test calibration (edgent calibrate, --split test).
//
// Usage: edgent-bench-adaptive DB [--count N] [--bandwidths 400e3,5e6] [--deadline MS]
//                              [--predictor lookup-p95] [--power laptop]
#include "core/control/LiveRun.h"
#include "core/control/ProfileRun.h"
#include "core/model/ModelImport.h"
#include "core/plan/Adaptive.h"
#include "core/store/Export.h"

#include <QFileInfo>
#include <QString>
#include <QStringList>

#include <cstdio>
#include <cstring>

using namespace edgent::core;
using namespace edgent::core::control;

namespace {

int die(const std::string& why) {
    std::fprintf(stderr, "edgent-bench-adaptive: %s\n", why.c_str());
    return 1;
}

struct Measured {
    double accuracy = 0, meanMs = 0, p95Ms = 0, hitRate = 0, energyMj = 0, offload = 0;
};

Measured measure(const LiveRunOutcome& o, double deadlineMs) {
    const RunSummary s = summarize(o.samples, deadlineMs);
    Measured m;
    m.accuracy = s.accuracy;
    m.meanMs = s.latencyMsMean;
    m.p95Ms = s.latencyMsP95;
    m.hitRate = s.deadlineHitRate;
    m.energyMj = o.sampleCount ? o.energyMjSum / static_cast<double>(o.sampleCount) : 0.0;
    m.offload = s.offloadRate;
    return m;
}

}  // namespace

int main(int argc, char** argv) {
    const char* usage =
        "usage: edgent-bench-adaptive DB [--count N] [--bandwidths BPS,...] [--deadline MS] [--predictor NAME] [--power NAME]";
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h"))) return std::puts(usage), 0;
        return die(usage);
    }
    int count = 2000;
    std::vector<double> bandwidths{400e3, 5e6};
    double deadlineMs = 30.0;
    std::string predictor = "lookup-p95", powerName = "laptop";
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) return die(usage);
        if (a == "--count")
            count = std::max(100, std::atoi(argv[++i]));
        else if (a == "--deadline")
            deadlineMs = std::atof(argv[++i]);
        else if (a == "--predictor")
            predictor = argv[++i];
        else if (a == "--power")
            powerName = argv[++i];
        else if (a == "--bandwidths") {
            bandwidths.clear();
            for (const QString& part : QString::fromUtf8(argv[++i]).split(',', Qt::SkipEmptyParts))
                bandwidths.push_back(part.toDouble());
        } else
            return die(usage);
    }
    auto bytes = readAnyModel(defaultModelPath());
    if (!bytes) return die(bytes.error());
    const ModelSpec& spec = bytes->file.spec;
    // The bench stores its runs beside the profile it reads, so the database must exist: a
    // wrong path is one error line, not a new empty file.
    if (!QFileInfo::exists(QString::fromLocal8Bit(argv[1])))
        return die(std::string("no database at ") + argv[1] + " (run edgent profile and edgent calibrate first)");
    auto db = store::RunStore::open(argv[1]);
    if (!db) return die(db.error());
    const store::ModelRecord record = store::modelRecord(*bytes);
    auto modelId = (*db)->upsertModel(record);
    if (!modelId) return die(modelId.error());
    auto power = energy::powerProfile(powerName);
    if (!power) return die(power.error());
    auto ctx = planContextFor(**db, bytes->file, record.hash, predictor, *power);
    if (!ctx) return die(ctx.error());
    if (!ctx->calibration) return die("the database holds no validation calibration of the model (edgent calibrate)");
    auto device = (*db)->latestProfile(record.hash, "device");
    if (!device) return die(device.error());

    WorkerLinkOptions lo;
    lo.deviceSlowdown = device->slowdown;
    WorkerLink link(lo);
    if (auto s = link.start(); !s) return die(s.error());
    if (auto s = link.loadModel(*bytes); !s) return die(s.error());
    auto runPlanned = [&](double bps, const plan::PlanGoal& goal) -> Result<LiveRunOutcome> {
        LiveRunOptions o;
        o.dbPath = argv[1];
        o.experiment = "bench-adaptive";
        o.modelId = *modelId;
        o.modelHash = record.hash;
        o.source = "edgent-bench-adaptive";
        o.count = count;
        o.bandwidthBps = bps;
        o.power = *power;
        RunPlanning planning;
        planning.context = *ctx;
        planning.goal = goal;
        planning.predictor = predictor;
        o.planning = planning;
        return runToEnd(link, std::move(o));
    };

    std::printf("device slowdown %g, deadline %.0f ms, %d test images per run, predictor %s, power profile %s\n",
                device->slowdown, deadlineMs, count, predictor.c_str(), power->name.c_str());
    for (double bps : bandwidths) {
        const plan::PlanGoal staticGoal{deadlineMs, plan::Policy::Edgent, NAN};
        auto staticPlan = plan::makePlan(*ctx, staticGoal, bps);
        if (!staticPlan) return die(staticPlan.error());
        auto staticRun = runPlanned(bps, staticGoal);
        if (!staticRun || staticRun->status != "finished") return die(staticRun ? staticRun->error : staticRun.error());
        const Measured base = measure(*staticRun, deadlineMs);
        // The static plan's exit on the validation split: the accuracy the adaptive plans must keep.
        const auto single =
            plan::evaluateEarlyExits(*ctx->calibration, EarlyExits{}, staticPlan->exit, false);
        const double target = single.accuracy - 0.002;
        std::printf("\n%.0f kbps: static edgent %s (validation accuracy %.2f%%): measured accuracy %.2f%%, mean %.2f ms, "
                    "p95 %.2f ms, hit rate %.3f, device energy %.1f mJ\n",
                    bps / 1e3, plan::describePlan(*staticPlan).c_str(), 100 * single.accuracy, 100 * base.accuracy, base.meanMs,
                    base.p95Ms, base.hitRate, base.energyMj);
        std::printf("  %-10s %-52s %8s %8s %8s %8s %6s %9s %9s %8s %9s\n", "policy", "plan", "accuracy", "d.acc", "mean ms",
                    "p95 ms", "hits", "energy mJ", "saving", "offload", "pred err");
        for (plan::Policy policy : {plan::Policy::Branchynet, plan::Policy::Appealnet, plan::Policy::Cascade,
                                    plan::Policy::Adaptive}) {
            const plan::PlanGoal goal{deadlineMs, policy, target};
            if (auto s = plan::checkPlanInputs(*ctx, goal); !s) {
                std::printf("  %-10s skipped: %s\n", plan::policyName(policy), s.error().c_str());
                continue;
            }
            auto planned = plan::makePlan(*ctx, goal, bps);
            if (!planned) return die(planned.error());
            auto run = runPlanned(bps, goal);
            if (!run || run->status != "finished") return die(run ? run->error : run.error());
            const Measured m = measure(*run, deadlineMs);
            std::printf("  %-10s %-52s %7.2f%% %+7.2f %8.2f %8.2f %6.3f %9.1f %8.1f%% %7.1f%% %+8.1f%%%s\n",
                        plan::policyName(policy), plan::describePlan(*planned).c_str(), 100 * m.accuracy,
                        100 * (m.accuracy - base.accuracy), m.meanMs, m.p95Ms, m.hitRate, m.energyMj,
                        100 * (1.0 - m.energyMj / base.energyMj), 100 * m.offload,
                        100 * (planned->predictedMs - m.meanMs) / m.meanMs,
                        !planned->feasible ? "  (infeasible)" : !planned->meetsTarget ? "  (target out of reach)" : "");
        }
    }
    // AppealNet's comparison on the test split.
    if (auto test = (*db)->latestCalibration(record.hash, "test")) {
        std::printf("\nappeal comparison on %lld test images (the little network: exit 0; the big: exit %d)\n",
                    static_cast<long long>(test->samples), spec.numExits() - 1);
        for (double rate : {0.1, 0.2, 0.3}) {
            std::printf("  %2.0f%% appealed:", 100 * rate);
            for (ConfidenceRule rule : {ConfidenceRule::Appeal, ConfidenceRule::Entropy, ConfidenceRule::MaxSoftmax}) {
                if (rule == ConfidenceRule::Appeal && !spec.hasAppeal(0)) continue;
                std::printf("  %s %.2f%%", confidenceRuleName(rule), 100 * plan::appealAtRate(*test, 0, rule, rate).accuracy);
            }
            std::printf("\n");
        }
    } else {
        std::printf("\n(no test calibration: run edgent calibrate --split test for the appeal comparison)\n");
    }
    link.shutdown();
    return 0;
}
