// `edgent adapt`: on-device adaptation of the device's slice on a shifted stream, in fp32,
// QAT or RCT (core/train/Adapt.h), on a device worker (core/control/AdaptRun.h).
#include "app/cli/CliCommon.h"

#include "core/control/AdaptRun.h"
#include "core/control/WorkerLink.h"
#include "core/store/Export.h"
#include "core/store/RunStore.h"

#include <QJsonArray>

#include <atomic>
#include <csignal>
#include <cstdio>

namespace edgent::app {

using namespace edgent::core;

namespace {

std::atomic<bool> gAdaptCancel{false};

extern "C" void onAdaptInterrupt(int) {
    gAdaptCancel.store(true);
    std::signal(SIGINT, SIG_DFL);
}

}  // namespace

int runAdapt(const QStringList& args) {
    Command cmd(QStringLiteral("adapt"),
                QStringLiteral("Fine-tunes the device's slice of the model (its trunk layers and the exits it answers at) on a "
                               "labelled stream of shifted images, on the device worker: fp32, qat (a float master with fake "
                               "quantisation) or rct (quantised weights only, per-layer widths that move while training). Each "
                               "mode starts from the model as loaded. Reports accuracy before and after on held-out shifted and "
                               "clean images, the parameter bytes held (measured) and a GEMM energy estimate, and stores every "
                               "step in the run database."),
                QStringLiteral("[--model MODEL] (--local | --device EP --edge EP) --db DB [--modes fp32,qat,rct] [--steps N] "
                               "[--shift SPEC] [--partition P] [--layers A:B] [--save ADAPTED.json] [--json]"));
    cmd.addOptions({modelCliOption()});
    cmd.addOptions(workerCliOptions());
    cmd.addOptions({
        {"db", "Run database.", "DB"},
        {"modes", "Any of fp32, qat and rct, each run in turn from the model as loaded (default rct).", "LIST", "rct"},
        {"steps", "SGD steps (default 300).", "N", "300"},
        {"batch", "Images per step (default 32).", "N", "32"},
        {"lr", "Learning rate (default 0.05).", "RATE", "0.05"},
        {"bits", "qat's width and rct's starting width, 2-16 (default 8).", "B", "8"},
        {"min-bits", "rct's narrowest width, 2-16 (default 2).", "B", "2"},
        {"max-bits", "rct's widest width, 2-16 (default 16).", "B", "16"},
        {"shift",
         "The shift: default, none, or key=value pairs over the default (rotation, contrast, brightness, noise, occlusion, seed; "
         "docs/adaptation.md).",
         "SPEC", "default"},
        {"exit", "The plan's exit (default: the final one).", "E"},
        {"partition", "The device runs this many layers of the exit's path (default: up to its deepest early exit in the first half).",
         "P"},
        {"layers", "Trunk layers A:B (from A up to B) to train; the device's exits always train (default: the device's whole slice).",
         "A:B"},
        {"train-images", "Shifted images to train on, from the model's held-out validation split (default 4000).", "N", "4000"},
        {"eval-images", "Held-out images to measure on, the last of the validation split (default 1000).", "N", "1000"},
        {"save", "Save the adapted model (one mode only) in the native format: ADAPTED.json and ADAPTED.weights.", "PATH"},
        {"seed", "Seed of the batches and the stochastic rounding (default 1).", "S", "1"},
    });
    int code = 0;
    if (!cmd.parse(args, &code)) return code;
    auto& p = cmd.parser();
    if (!p.isSet("db")) return cmd.fail("--db DB is required");
    QStringList modes = p.value("modes").split(',', Qt::SkipEmptyParts);
    for (QString& m : modes) m = m.trimmed();
    if (modes.isEmpty()) return cmd.fail("--modes must list fp32, qat or rct");
    if (p.isSet("save") && modes.size() != 1) return cmd.fail("--save keeps one adapted model: give one mode");
    AdaptOptions o;
    const auto steps = cmd.intOption("steps", 300, 1, 1'000'000, &code);
    const auto batch = cmd.intOption("batch", 32, 1, 4096, &code);
    const auto bits = cmd.intOption("bits", 8, 0, 64, &code);
    const auto minBits = cmd.intOption("min-bits", 2, 0, 64, &code);
    const auto maxBits = cmd.intOption("max-bits", 16, 0, 64, &code);
    const auto trainImages = cmd.intOption("train-images", 4000, 1, 1'000'000, &code);
    const auto evalImages = cmd.intOption("eval-images", 1000, 1, 1'000'000, &code);
    const auto seed = cmd.intOption("seed", 1, 0, 1'000'000'000, &code);
    const auto lr = cmd.numberOption("lr", 0.05, 1e-9, 100.0, &code);
    if (!steps || !batch || !bits || !minBits || !maxBits || !trainImages || !evalImages || !seed || !lr) return code;
    o.steps = static_cast<int>(*steps);
    o.batch = static_cast<int>(*batch);
    o.bits = static_cast<int>(*bits);
    o.minBits = static_cast<int>(*minBits);
    o.maxBits = static_cast<int>(*maxBits);
    o.trainCount = *trainImages;
    o.evalCount = *evalImages;
    o.seed = static_cast<uint64_t>(*seed);
    o.learningRate = *lr;
    o.evalEvery = std::max(1, o.steps / 20);
    auto shift = parseShift(p.value("shift").toStdString());
    if (!shift) return cmd.fail(QString::fromStdString(shift.error()));
    o.shift = *shift;
    if (p.isSet("exit")) {
        const auto e = cmd.intOption("exit", 0, 0, 1000, &code);
        if (!e) return code;
        o.exit = static_cast<int>(*e);
    }
    if (p.isSet("partition")) {
        const auto q = cmd.intOption("partition", 0, 0, 100000, &code);
        if (!q) return code;
        o.partition = static_cast<int>(*q);
    }
    if (p.isSet("layers")) {
        const QStringList ab = p.value("layers").split(':');
        bool okA = false, okB = false;
        if (ab.size() == 2) {
            o.firstLayer = ab[0].toInt(&okA);
            o.lastLayer = ab[1].toInt(&okB);
        }
        if (!okA || !okB) return cmd.fail("--layers must be A:B, e.g. 0:4");
    }
    auto linkOptions = workerLinkOptions(cmd, 1.0, &code);
    if (!linkOptions) return code;
    auto bytes = readModelOption(cmd, &code);
    if (!bytes) return code;
    // Checked here, before any worker starts (the device checks them again).
    for (const QString& mode : modes) {
        AdaptOptions x = o;
        x.mode = mode.toStdString();
        if (auto s = checkAdaptOptions(bytes->file.spec, x); !s) return cmd.fail(QString::fromStdString(s.error()));
    }
    if (auto s = control::useValidationRange(o, *bytes); !s) return cmd.fail(QString::fromStdString(s.error()));
    const std::string dbPath = p.value("db").toStdString();
    int64_t modelId = 0;
    {
        auto db = store::RunStore::open(dbPath);
        if (!db) return cmd.fail(QString::fromStdString(db.error()));
        auto id = (*db)->upsertModel(store::modelRecord(*bytes));
        if (!id) return cmd.fail(QString::fromStdString(id.error()));
        modelId = *id;
    }
    control::WorkerLink link(*linkOptions);
    auto failWith = [&](const std::string& why) {
        link.shutdown();
        return cmd.fail(QString::fromStdString(why));
    };
    if (auto s = link.start(); !s) return failWith(s.error());
    std::signal(SIGINT, onAdaptInterrupt);
    control::AdaptRunOptions r;
    r.adapt = o;
    r.dbPath = dbPath;
    r.modelId = modelId;
    r.savePath = p.value("save").toStdString();
    std::vector<std::string> modeList;
    for (const QString& m : modes) modeList.push_back(m.toStdString());
    auto outcomes = control::runAdaptations(
        link, *bytes, modeList, r,
        [&](const std::string& mode, const control::AdaptRunProgress& pr) {
            if (!cmd.json()) std::fprintf(stderr, "%s: step %d/%d\n", mode.c_str(), pr.step, pr.steps);
        },
        &gAdaptCancel);
    std::signal(SIGINT, SIG_DFL);
    if (!outcomes) return failWith(outcomes.error());
    QJsonArray results;
    for (const control::AdaptRunOutcome& out : *outcomes) {
        const AdaptReport& a = out.report;
        QJsonArray finalBits;
        for (const AdaptLayer& l : a.layers)
            if (l.quantised) finalBits.append(QJsonObject{{"layer", QString::fromStdString(l.name)}, {"bits", l.bits}});
        results.append(QJsonObject{{"adaptation_id", static_cast<qint64>(out.adaptationId)},
                                   {"mode", QString::fromStdString(a.mode)},
                                   {"status", QString::fromStdString(out.status)},
                                   {"exit", a.exit},
                                   {"partition", a.partition},
                                   {"shifted_before", a.shiftedBefore},
                                   {"shifted_after", a.shiftedAfter},
                                   {"clean_before", a.cleanBefore},
                                   {"clean_after", a.cleanAfter},
                                   {"param_bytes_held", static_cast<qint64>(a.paramBytesHeld)},
                                   {"param_bytes_peak", static_cast<qint64>(a.paramBytesPeak)},
                                   {"gemm_energy_mj", a.gemmEnergyMj},
                                   {"final_bits", finalBits},
                                   {"seconds", a.seconds},
                                   {"saved", QString::fromStdString(out.savedPath)}});
        if (!cmd.json())
            std::printf("adaptation %lld (%s, %s): exit %d on the device up to layer %d; shifted %.2f%% -> %.2f%%, clean %.2f%% -> "
                        "%.2f%%; %lld parameter bytes held (%lld at the peak); GEMM energy %.2f mJ (estimate); %.1f s%s%s\n",
                        static_cast<long long>(out.adaptationId), a.mode.c_str(), out.status.c_str(), a.deviceExits.back(),
                        a.partition, 100 * a.shiftedBefore, 100 * a.shiftedAfter, 100 * a.cleanBefore, 100 * a.cleanAfter,
                        static_cast<long long>(a.paramBytesHeld), static_cast<long long>(a.paramBytesPeak), a.gemmEnergyMj,
                        a.seconds, out.savedPath.empty() ? "" : "; saved to ", out.savedPath.c_str());
    }
    link.shutdown();
    if (cmd.json()) printJson(QJsonObject{{"db", QString::fromStdString(dbPath)}, {"adaptations", results}});
    return gAdaptCancel.load() ? 130 : 0;
}

}  // namespace edgent::app
