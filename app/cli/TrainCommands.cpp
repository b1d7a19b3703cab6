// `edgent train` and `edgent eval`.
#include "app/cli/CliCommon.h"

#include "core/model/ModelFile.h"
#include "core/train/Training.h"

#include <QJsonArray>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <unistd.h>

namespace edgent::app {

namespace {

std::atomic<bool> gInterrupted{false};

extern "C" void onInterrupt(int) {
    gInterrupted.store(true);
    // A second Ctrl-C kills at once.
    std::signal(SIGINT, SIG_DFL);
}

// Progress on stderr: an updating line on a terminal, a line every 10% of an epoch otherwise.
class ProgressPrinter {
public:
    void operator()(const core::TrainProgress& p) {
        const bool tty = isatty(fileno(stderr));
        const auto now = std::chrono::steady_clock::now();
        const bool last = p.batch == p.batches;
        const int64_t step = std::max<int64_t>(1, p.batches / 10);
        if (tty) {
            if (!last && now - lastPrint_ < std::chrono::milliseconds(200)) return;
        } else if (!last && p.batch % step != 0) {
            return;
        }
        lastPrint_ = now;
        std::fprintf(stderr, "%s%s epoch %d/%d  batch %lld/%lld  loss %.4f  %.0f img/s  ETA %s%s", tty ? "\r" : "", p.stage.c_str(), p.epoch,
                     p.epochs, static_cast<long long>(p.batch), static_cast<long long>(p.batches), p.loss, p.imagesPerSecond,
                     formatDuration(p.etaSeconds).toLocal8Bit().constData(), tty && !last ? "   " : "\n");
        std::fflush(stderr);
    }

private:
    std::chrono::steady_clock::time_point lastPrint_{};
};

QJsonArray toArray(const std::vector<double>& v) {
    QJsonArray a;
    for (double x : v) a.append(x);
    return a;
}

}  // namespace

int runTrain(const QStringList& args) {
    Command cmd(QStringLiteral("train"),
                QStringLiteral("Trains a built-in multi-exit net (the 5-exit AlexNet by default) jointly over all exits (weighted sum of the exit "
                               "losses) and saves it in the native format. Ctrl-C saves a checkpoint."),
                QStringLiteral("--dataset fashion-mnist|cifar10 [--data-dir DIR] --out MODEL.json [options]"));
    auto& p = cmd.parser();
    cmd.addOptions({
        {"dataset", "Dataset name: fashion-mnist (default) or cifar10.", "NAME", "fashion-mnist"},
        {"data-dir", "Folder holding the dataset files (default: the dataset's standard place).", "DIR"},
        {"out", "Model JSON to write; the weights go next to it.", "MODEL"},
        {"arch", "Built-in architecture of a fresh model: alexnet5 (default; 5 exits), vgg3 (3x3 conv blocks, 3 exits) or "
                 "mobilenet3 (depthwise-separable blocks, 3 exits).", "NAME", "alexnet5"},
        {"epochs", "Passes over the training set (default 5).", "N"},
        {"train-limit", "Train on the first N training images only (default: all).", "N"},
        {"eval-limit", "Measure the stored accuracy on the first N test images (default: all).", "N"},
        {"batch-size", "Images per optimisation step (default 64).", "N"},
        {"lr", "Adam learning rate (default 0.001).", "RATE"},
        {"seed", "Seed for initialisation, shuffling and dropout (default 1).", "S"},
        {"exit-weights", "Comma-separated loss weight per exit (default: 1 for every exit).", "W,..."},
        {"threads", "LibTorch compute threads (default: one per core).", "N"},
        {"validation", "Hold out the last N training images for calibration; never trained on (default 5000).", "N"},
        {"augment", "Random horizontal flips and shifts of up to 2 pixels."},
        {"lr-steps", "Step the learning rate down to 0.3x after 60% of the epochs and 0.09x after 85%."},
        {"appeal",
         "AppealNet: give exits 0-2 an appeal head and train each with its prediction head on the frozen trunk, for the "
         "objective (1-q)*err(little) + q*err(big) + beta*q (docs/adaptive.md)."},
        {"appeal-epochs", "Epochs of the appeal stage (default 3).", "N"},
        {"appeal-beta", "The cost of appealing one input, as a fraction of one error, in [0, 1) (default 0.1).", "BETA"},
        {"init", "Start from this model instead of a fresh one (with --appeal --epochs 0: train only the heads).", "MODEL"},
    });
    int code = 0;
    if (!cmd.parse(args, &code)) return code;
    core::TrainOptions o;
    o.dataset = p.value("dataset").toStdString();
    o.dataDir = p.value("data-dir").toStdString();
    o.outPath = p.value("out").toStdString();
    o.arch = p.value("arch").toStdString();
    if (p.isSet("arch") && p.isSet("init")) return cmd.fail("--arch and --init exclude each other: --init keeps its model's architecture");
    if (o.outPath.empty()) return cmd.fail("--out MODEL.json is required");
    const auto epochs = cmd.intOption("epochs", 5, p.isSet("init") && p.isSet("appeal") ? 0 : 1, 1000, &code);
    const auto trainLimit = cmd.intOption("train-limit", 0, 1, 100'000'000, &code);
    const auto evalLimit = cmd.intOption("eval-limit", 0, 1, 100'000'000, &code);
    const auto batch = cmd.intOption("batch-size", 64, 1, 65536, &code);
    const auto seed = cmd.intOption("seed", 1, 0, std::numeric_limits<qint64>::max(), &code);
    const auto threads = cmd.intOption("threads", 0, 1, 256, &code);
    const auto validation = cmd.intOption("validation", 5000, 0, 100'000'000, &code);
    const auto appealEpochs = cmd.intOption("appeal-epochs", 3, 1, 1000, &code);
    const auto appealBeta = cmd.numberOption("appeal-beta", 0.1, 0.0, 100.0, &code);
    if (!epochs || !trainLimit || !evalLimit || !batch || !seed || !threads || !validation || !appealEpochs || !appealBeta)
        return code;
    o.validationCount = *validation;
    o.augment = p.isSet("augment");
    o.lrSteps = p.isSet("lr-steps");
    o.appeal = p.isSet("appeal");
    o.appealEpochs = static_cast<int>(*appealEpochs);
    o.appealBeta = *appealBeta;
    o.initPath = p.value("init").toStdString();
    o.epochs = static_cast<int>(*epochs);
    o.trainLimit = *trainLimit;
    o.evalLimit = *evalLimit;
    o.batchSize = static_cast<int>(*batch);
    o.seed = static_cast<uint64_t>(*seed);
    o.threads = static_cast<int>(*threads);
    if (p.isSet("lr")) {
        bool ok = false;
        o.learningRate = p.value("lr").toDouble(&ok);
        if (!ok || !(o.learningRate > 0.0)) return cmd.fail("--lr must be a positive number");
    }
    if (p.isSet("exit-weights")) {
        for (const QString& w : p.value("exit-weights").split(',')) {
            bool ok = false;
            const double v = w.toDouble(&ok);
            if (!ok || v < 0.0) return cmd.fail("--exit-weights must be non-negative numbers, got '" + w + "'");
            o.exitWeights.push_back(v);
        }
    }
    QStringList cmdline{"edgent", "train"};
    cmdline += args;
    o.commandLine = cmdline.join(' ').toStdString();

    std::signal(SIGINT, onInterrupt);
    ProgressPrinter printer;
    auto report = core::trainModel(o, std::ref(printer), &gInterrupted);
    std::signal(SIGINT, SIG_DFL);
    if (!report) return cmd.fail(QString::fromStdString(report.error()));
    if (report->interrupted)
        std::fprintf(stderr, "edgent train: interrupted; checkpoint saved to %s\n", report->savedPath.c_str());
    if (cmd.json()) {
        QJsonObject out;
        out["saved"] = QString::fromStdString(report->savedPath);
        out["interrupted"] = report->interrupted;
        out["epochs_completed"] = report->epochsCompleted;
        out["seconds"] = report->seconds;
        out["probe_loss_before"] = report->probeLossBefore;
        out["probe_loss_after"] = report->probeLossAfter;
        out["epoch_loss"] = toArray(report->epochLoss);
        out["exit_accuracy"] = toArray(report->exitAccuracy);
        out["appeal_epoch_loss"] = toArray(report->appealLoss);
        out["train_images"] = static_cast<qint64>(report->trainImages);
        out["validation"] = QJsonObject{{"first", static_cast<qint64>(report->validationFirst)},
                                        {"count", static_cast<qint64>(report->validationCount)}};
        printJson(out);
    } else {
        std::printf("saved %s after %d epoch(s) in %s\n", report->savedPath.c_str(), report->epochsCompleted,
                    formatDuration(report->seconds).toLocal8Bit().constData());
        for (size_t e = 0; e < report->exitAccuracy.size(); ++e)
            std::printf("  exit %zu: %.2f%% test accuracy\n", e, 100.0 * report->exitAccuracy[e]);
    }
    return report->interrupted ? 130 : 0;
}

int runEval(const QStringList& args) {
    Command cmd(QStringLiteral("eval"), QStringLiteral("Per-exit accuracy of a model on the test split."),
                QStringLiteral("[--model MODEL.json] [--dataset NAME] [--data-dir DIR] [--limit N] [--json]"));
    auto& p = cmd.parser();
    cmd.addOptions({
        {"model", "Model JSON (default: the shipped default model).", "MODEL"},
        {"dataset", "Dataset name: fashion-mnist (default) or cifar10.", "NAME", "fashion-mnist"},
        {"data-dir", "Folder holding the dataset files.", "DIR"},
        {"limit", "Evaluate the first N test images only (default: all).", "N"},
        {"threads", "LibTorch compute threads (default: one per core).", "N"},
    });
    int code = 0;
    if (!cmd.parse(args, &code)) return code;
    const auto limit = cmd.intOption("limit", 0, 1, 100'000'000, &code);
    const auto threads = cmd.intOption("threads", 0, 1, 256, &code);
    if (!limit || !threads) return code;
    const std::string model = p.isSet("model") ? p.value("model").toStdString() : core::defaultModelPath();
    auto report = core::evaluateModel(model, p.value("dataset").toStdString(), p.value("data-dir").toStdString(), *limit,
                                      static_cast<int>(*threads));
    if (!report) return cmd.fail(QString::fromStdString(report.error()));
    if (cmd.json()) {
        QJsonObject out;
        out["model"] = QString::fromStdString(report->modelPath);
        out["dataset"] = QString::fromStdString(report->dataset);
        out["split"] = "test";
        out["images"] = static_cast<qint64>(report->images);
        out["seconds"] = report->seconds;
        QJsonArray exits;
        for (const auto& e : report->exits) {
            QJsonObject o;
            o["exit"] = e.exit;
            o["name"] = QString::fromStdString(e.name);
            o["accuracy"] = e.accuracy;
            o["correct"] = static_cast<qint64>(e.correct);
            o["path_length"] = e.pathLength;
            o["flops"] = static_cast<qint64>(e.flops);
            o["param_bytes"] = static_cast<qint64>(e.paramBytes);
            exits.append(o);
        }
        out["exits"] = exits;
        printJson(out);
    } else {
        std::printf("%s on %s test split (%lld images, %.1f s)\n", report->modelPath.c_str(), report->dataset.c_str(),
                    static_cast<long long>(report->images), report->seconds);
        std::printf("  exit  accuracy  layers      MFLOPs  params (KiB)\n");
        for (const auto& e : report->exits)
            std::printf("  %4d  %7.2f%%  %6d  %10.2f  %12.1f\n", e.exit, 100.0 * e.accuracy, e.pathLength,
                        static_cast<double>(e.flops) / 1e6, static_cast<double>(e.paramBytes) / 1024.0);
    }
    return 0;
}

}  // namespace edgent::app
