// edgent: the command-line face of Edgent Workbench. Each subcommand lives in its own file.
#include "app/cli/CliCommon.h"

#include <QCoreApplication>
#include <QDir>
#ifdef EDGENT_HAVE_WIDGETS
#include <QApplication>
#endif

#include <memory>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace {

struct Subcommand {
    const char* name;
    int (*run)(const QStringList&);
    const char* summary;
};

const Subcommand kCommands[] = {
    {"train", edgent::app::runTrain, "train the 5-exit AlexNet jointly over all exits"},
    {"eval", edgent::app::runEval, "per-exit accuracy of a model on a test split"},
    {"profile", edgent::app::runProfile, "time every layer on both workers and fit the latency regressions"},
    {"calibrate", edgent::app::runCalibrate, "every exit's confidence on the validation split, for per-input policies"},
    {"adapt", edgent::app::runAdapt, "fine-tune the device's slice on a shifted stream: fp32, QAT or RCT"},
    {"plan", edgent::app::runPlan, "choose exit and partition for a bandwidth and a deadline"},
    {"run", edgent::app::runRun, "co-inference on a device worker and an edge worker"},
    {"sweep", edgent::app::runSweep, "a bandwidth x deadline grid of planned runs, as a CSV table"},
    {"fleet-sim", edgent::app::runFleetSim, "simulate a stored fleet beside its measurement, and at larger sizes"},
    {"keys", edgent::app::runKeys, "create CURVE keys for workers on a real network"},
    {"runs", edgent::app::runRuns, "list, show or compare stored runs"},
    {"export", edgent::app::runExport, "export a run as CSV, SQLite, JSON, PDF or PNG"},
    {"reproduce", edgent::app::runReproduce, "one paper figure (or all): runs, CSV, PDF/PNG and a page beside the paper"},
};

void printUsage(FILE* out) {
    std::fprintf(out, "Usage: edgent <command> [options]   (edgent <command> --help for details)\n\nCommands:\n");
    for (const auto& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
}

}  // namespace

int main(int argc, char** argv) {
    // Plots are drawn with Qt Widgets, which needs a QApplication; without a display it
    // renders offscreen. Every other command needs only Qt Core.
    std::unique_ptr<QCoreApplication> app;
    std::string runtimeDir;  // removed again before exit
#ifdef EDGENT_HAVE_WIDGETS
    if (argc > 1 && (std::strcmp(argv[1], "export") == 0 || std::strcmp(argv[1], "reproduce") == 0)) {
        if (qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY"))
            qputenv("QT_QPA_PLATFORM", "offscreen");
        if (qEnvironmentVariableIsEmpty("XDG_RUNTIME_DIR")) {
            // Qt wants a private runtime folder and warns on stderr without one; use a fresh
            // one that only this process created.
            char dir[] = "/tmp/edgent-runtime-XXXXXX";
            if (::mkdtemp(dir)) {
                runtimeDir = dir;
                qputenv("XDG_RUNTIME_DIR", dir);
            }
        }
        app = std::make_unique<QApplication>(argc, argv);
    }
#endif
    if (!app) app = std::make_unique<QCoreApplication>(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("edgent"));
    QCoreApplication::setApplicationVersion(QStringLiteral(EDGENT_VERSION));
    QStringList args = QCoreApplication::arguments();
    args.removeFirst();
    if (args.isEmpty() || args.first() == "--help" || args.first() == "-h") {
        printUsage(args.isEmpty() ? stderr : stdout);
        return args.isEmpty() ? 2 : 0;
    }
    if (args.first() == "--version") {
        std::printf("edgent %s\n", EDGENT_VERSION);
        return 0;
    }
    const QString name = args.takeFirst();
    for (const auto& c : kCommands)
        if (name == c.name) {
            const int code = c.run(args);
            app.reset();
            if (!runtimeDir.empty()) QDir(QString::fromStdString(runtimeDir)).removeRecursively();
            return code;
        }
    std::fprintf(stderr, "edgent: unknown command '%s' (see edgent --help)\n", name.toLocal8Bit().constData());
    return 2;
}
