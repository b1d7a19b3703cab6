// `edgent calibrate`: every exit's confidence scores on the held-out validation split (or,
// for reporting only, the test split), stored in the run database; the calibration table
// per rule (threshold, fraction of inputs leaving at each exit, accuracy), its knee, and
// AppealNet's comparison of rules at equal appeal rates.
#include "app/cli/CliCommon.h"

#include "core/plan/Adaptive.h"
#include "core/store/Export.h"
#include "core/store/RunStore.h"
#include "core/train/Calibration.h"

#include <QJsonArray>

#include <atomic>
#include <csignal>
#include <cstdio>

namespace edgent::app {

using namespace edgent::core;

namespace {

std::atomic<bool> gCancel{false};
extern "C" void onCalibrateInterrupt(int) {
    gCancel.store(true);
    std::signal(SIGINT, SIG_DFL);
}

}  // namespace

int runCalibrate(const QStringList& args) {
    Command cmd(QStringLiteral("calibrate"),
                QStringLiteral("Runs every exit of the model on the held-out validation split (training images the model "
                               "never trained on) and stores each exit's confidence scores in the run database: what the "
                               "per-input policies (branchynet, appealnet, cascade, adaptive) plan with. Prints each rule's "
                               "calibration table, its knee, and the rules' accuracy at equal appeal rates."),
                QStringLiteral("[--model MODEL] --db DB [--codecs] [--split validation|test] [--limit N] [--out TABLE.csv] [--json]"));
    cmd.addOptions({modelCliOption()});
    cmd.addOptions({
        {"db", "Run database to store the calibration in.", "DB"},
        {"split",
         "validation (default: the held-out training images the model records) or test (for reporting only: plans never "
         "use it).",
         "SPLIT", "validation"},
        {"limit", "Calibrate on the first N images of the split only.", "N"},
        {"dataset", "Dataset (default fashion-mnist).", "NAME", "fashion-mnist"},
        {"data-dir", "Dataset folder.", "DIR"},
        {"threads", "LibTorch threads (default: one per core).", "N"},
        {"appeal-exit", "The little network of the appeal comparison: this exit and the last (default: exit 0).", "K"},
        {"out", "Write the calibration tables as CSV.", "TABLE"},
        {"codecs",
         "Calibrate the cut tensor's codecs instead: every exit, partition and codec's accuracy with the tensor encoded and "
         "decoded, and its bytes on the wire (docs/codecs.md)."},
    });
    int code = 0;
    if (!cmd.parse(args, &code)) return code;
    auto& p = cmd.parser();
    if (!p.isSet("db")) return cmd.fail("--db DB is required");
    const auto limit = cmd.intOption("limit", 0, 1, 100'000'000, &code);
    const auto threads = cmd.intOption("threads", 0, 1, 256, &code);
    if (!limit || !threads) return code;
    auto bytes = readModelOption(cmd, &code);
    if (!bytes) return code;
    const ModelSpec& spec = bytes->file.spec;
    const auto appealExit = cmd.intOption("appeal-exit", 0, 0, spec.numExits() - 2, &code);
    if (!appealExit) return code;
    auto db = store::RunStore::open(p.value("db").toStdString());
    if (!db) return cmd.fail(QString::fromStdString(db.error()));
    auto modelId = (*db)->upsertModel(store::modelRecord(*bytes));
    if (!modelId) return cmd.fail(QString::fromStdString(modelId.error()));

    CalibrateOptions o;
    o.dataset = p.value("dataset").toStdString();
    o.dataDir = p.value("data-dir").toStdString();
    o.split = p.value("split").toStdString();
    o.limit = *limit;
    o.threads = static_cast<int>(*threads);
    std::signal(SIGINT, onCalibrateInterrupt);
    const std::string modelPath = p.isSet("model") ? p.value("model").toStdString() : defaultModelPath();
    if (p.isSet("codecs")) {
        const int result = runCodecCalibration(cmd, **db, *modelId, modelPath, spec, o, &gCancel);
        std::signal(SIGINT, SIG_DFL);
        return result;
    }
    auto set = calibrateModel(modelPath, o, &gCancel);
    std::signal(SIGINT, SIG_DFL);
    if (!set) return cmd.fail(QString::fromStdString(set.error()));
    auto id = (*db)->saveCalibration(*modelId, *set);
    if (!id) return cmd.fail(QString::fromStdString(id.error()));

    const int E = spec.numExits() - 1;
    QJsonObject out{{"calibration_id", static_cast<qint64>(*id)},
                    {"split", QString::fromStdString(set->split)},
                    {"images", static_cast<qint64>(set->samples)},
                    {"first_index", static_cast<qint64>(set->first)}};
    QJsonArray finalAcc;
    for (int e = 0; e <= E; ++e) {
        int64_t right = 0;
        for (int64_t s = 0; s < set->samples; ++s) right += set->correct(s, e);
        finalAcc.append(static_cast<double>(right) / static_cast<double>(set->samples));
    }
    out["exit_accuracy"] = finalAcc;
    std::string csv = "rule,threshold";
    for (int e = 0; e <= E; ++e) csv += ",exit" + std::to_string(e) + "_fraction";
    csv += ",early_fraction,accuracy,knee\n";
    QJsonObject tables;
    std::string text;
    for (ConfidenceRule rule : {ConfidenceRule::Entropy, ConfidenceRule::MaxSoftmax, ConfidenceRule::Appeal}) {
        const auto table = plan::calibrationTable(*set, spec, rule);
        if (table.empty()) continue;
        const size_t knee = plan::kneeOf(table);
        QJsonArray rows;
        char line[256];
        std::snprintf(line, sizeof line, "\n%s (every early exit, one threshold; the last exit answers the rest)\n%10s",
                      confidenceRuleName(rule), "threshold");
        text += line;
        for (int e = 0; e <= E; ++e) {
            std::snprintf(line, sizeof line, " %7s", ("exit" + std::to_string(e)).c_str());
            text += line;
        }
        text += "  accuracy\n";
        for (size_t i = 0; i < table.size(); ++i) {
            const auto& r = table[i];
            QJsonArray fractions;
            std::snprintf(line, sizeof line, "%s,%.6g", confidenceRuleName(rule), r.threshold);
            csv += line;
            std::snprintf(line, sizeof line, "%10.4g", r.threshold);
            text += line;
            for (double f : r.outcome.exitFractions) {
                fractions.append(f);
                std::snprintf(line, sizeof line, ",%.4f", f);
                csv += line;
                std::snprintf(line, sizeof line, " %6.1f%%", 100 * f);
                text += line;
            }
            std::snprintf(line, sizeof line, ",%.4f,%.4f,%d\n", r.earlyFraction, r.outcome.accuracy, i == knee ? 1 : 0);
            csv += line;
            std::snprintf(line, sizeof line, "  %7.2f%%%s\n", 100 * r.outcome.accuracy, i == knee ? "  <- knee" : "");
            text += line;
            rows.append(QJsonObject{{"threshold", r.threshold},
                                    {"exit_fractions", fractions},
                                    {"early_fraction", r.earlyFraction},
                                    {"accuracy", r.outcome.accuracy}});
        }
        tables[confidenceRuleName(rule)] = QJsonObject{{"rows", rows}, {"knee", static_cast<int>(knee)}};
    }
    out["tables"] = tables;
    // AppealNet's comparison at equal appeal rates: exit K and the last exit.
    QJsonArray appeal;
    const int little = static_cast<int>(*appealExit);
    text += "\nexit " + std::to_string(little) + " with the last exit, at equal appeal rates (accuracy of the pair)\n";
    for (double rate : {0.1, 0.2, 0.3}) {
        QJsonObject row{{"rate", rate}};
        char line[160];
        std::snprintf(line, sizeof line, "  %3.0f%% appealed:", 100 * rate);
        text += line;
        for (ConfidenceRule rule : {ConfidenceRule::Appeal, ConfidenceRule::Entropy, ConfidenceRule::MaxSoftmax}) {
            if (rule == ConfidenceRule::Appeal && !spec.hasAppeal(little)) continue;
            const auto pt = plan::appealAtRate(*set, little, rule, rate);
            row[confidenceRuleName(rule)] = pt.accuracy;
            std::snprintf(line, sizeof line, "  %s %.2f%%", confidenceRuleName(rule), 100 * pt.accuracy);
            text += line;
        }
        text += "\n";
        appeal.append(row);
    }
    out["appeal_comparison"] = QJsonObject{{"little_exit", little}, {"big_exit", E}, {"rates", appeal}};
    if (p.isSet("out"))
        if (auto s = writeFileAtomically(p.value("out").toStdString(), csv); !s) return cmd.fail(QString::fromStdString(s.error()));
    if (cmd.json()) {
        printJson(out);
    } else {
        std::printf("calibrated %s on %lld %s images (from index %lld); stored as calibration %lld in %s\n", spec.name.c_str(),
                    static_cast<long long>(set->samples), set->split.c_str(), static_cast<long long>(set->first),
                    static_cast<long long>(*id), p.value("db").toLocal8Bit().constData());
        std::fputs(text.c_str(), stdout);
    }
    return 0;
}

}  // namespace edgent::app
