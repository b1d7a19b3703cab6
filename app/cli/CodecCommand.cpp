// `edgent calibrate --codecs`: every exit, partition and codec's accuracy on a split with the
// cut tensor encoded and decoded, and its frames' bytes on the wire, stored in the run
// database for the planner (validation split) or for reporting (test split).
#include "app/cli/CliCommon.h"

#include "core/store/Export.h"
#include "core/store/RunStore.h"
#include "core/train/CodecCalibration.h"

#include <QJsonArray>

#include <cstdio>
#include <map>

namespace edgent::app {

using namespace edgent::core;

int runCodecCalibration(Command& cmd, store::RunStore& db, int64_t modelId, const std::string& modelPath, const ModelSpec& spec,
                        const CalibrateOptions& options, const std::atomic<bool>* cancel) {
    auto& p = cmd.parser();
    const bool quiet = cmd.json();
    auto cal = calibrateCodecs(
        modelPath, options,
        [&](int done, int total) {
            if (!quiet) std::fprintf(stderr, "\rcalibrating codecs: %d/%d", done, total);
        },
        cancel);
    if (!quiet) std::fputc('\n', stderr);
    if (!cal) return cmd.fail(QString::fromStdString(cal.error()));
    auto id = db.saveCodecCalibration(modelId, *cal);
    if (!id) return cmd.fail(QString::fromStdString(id.error()));

    // One table row per (exit, partition, codec), beside fp32 at the same place.
    std::string csv = "exit,partition,codec,accuracy,accuracy_drop_pt,bytes_mean,bytes_p95,bytes_ratio_vs_fp32\n";
    std::string text;
    QJsonArray rows;
    char line[256];
    int lastExit = -1;
    for (const auto& r : cal->rows) {
        const CodecCalibrationRow* plain = cal->find(r.exit, r.partition, {});
        const double drop = plain ? 100.0 * (plain->accuracy - r.accuracy) : NAN;
        const double ratio = plain ? plain->bytesMean / r.bytesMean : NAN;
        if (r.exit != lastExit) {
            std::snprintf(line, sizeof line, "\nexit %d\n%9s %-10s %9s %8s %10s %10s %8s\n", r.exit, "partition", "codec",
                          "accuracy", "drop pt", "bytes mean", "bytes p95", "x fewer");
            text += line;
            lastExit = r.exit;
        }
        const std::string codec = net::codecName(r.codec);
        std::snprintf(line, sizeof line, "%9d %-10s %8.2f%% %8.2f %10.0f %10.0f %8.2f\n", r.partition, codec.c_str(),
                      100 * r.accuracy, drop, r.bytesMean, r.bytesP95, ratio);
        text += line;
        std::snprintf(line, sizeof line, "%d,%d,%s,%.6f,%.4f,%.1f,%.1f,%.4f\n", r.exit, r.partition, codec.c_str(), r.accuracy,
                      drop, r.bytesMean, r.bytesP95, ratio);
        csv += line;
        rows.append(QJsonObject{{"exit", r.exit},
                                {"partition", r.partition},
                                {"codec", QString::fromStdString(codec)},
                                {"accuracy", r.accuracy},
                                {"accuracy_drop_pt", drop},
                                {"bytes_mean", r.bytesMean},
                                {"bytes_p95", r.bytesP95},
                                {"bytes_ratio_vs_fp32", ratio}});
    }
    if (p.isSet("out"))
        if (auto s = writeFileAtomically(p.value("out").toStdString(), csv); !s) return cmd.fail(QString::fromStdString(s.error()));
    if (cmd.json()) {
        printJson(QJsonObject{{"codec_calibration_id", static_cast<qint64>(*id)},
                              {"split", QString::fromStdString(cal->split)},
                              {"images", static_cast<qint64>(cal->samples)},
                              {"first_index", static_cast<qint64>(cal->first)},
                              {"rows", rows}});
    } else {
        std::printf("calibrated the codecs of %s on %lld %s images (from index %lld); stored as codec calibration %lld in %s\n",
                    spec.name.c_str(), static_cast<long long>(cal->samples), cal->split.c_str(),
                    static_cast<long long>(cal->first), static_cast<long long>(*id), p.value("db").toLocal8Bit().constData());
        std::fputs(text.c_str(), stdout);
    }
    return 0;
}

}  // namespace edgent::app
