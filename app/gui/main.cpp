// edgent-workbench: the window. With --run-for and --screenshot it runs a scripted demo
// (local workers, the default experiment, a few bandwidth settings) and saves a screenshot,
// for the docs and the tests.
#include "app/gui/ExperimentPanel.h"
#include "app/gui/LivePlots.h"
#include "app/gui/MainWindow.h"
#include "app/gui/Session.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QPixmap>
#include <QScreen>
#include <QTabWidget>
#include <QTimer>

#include <cstdio>

using edgent::gui::MainWindow;

namespace {

int fail(const QString& message) {
    std::fprintf(stderr, "edgent-workbench: %s\n", message.toLocal8Bit().constData());
    return 1;
}

// The scripted demo: wait until the workers are up, the model is loaded and a plan exists
// (profiling first if needed), run for `seconds` while moving the bandwidth slider through
// a few settings, stop, and save a screenshot of the window.
void scriptDemo(MainWindow& w, double seconds, const QString& screenshot, int* exitCode) {
    auto& session = w.session();
    auto* waitTimer = new QTimer(&w);
    auto waited = std::make_shared<int>(0);
    QObject::connect(&session, &edgent::gui::Session::errorOccurred, &w, [exitCode](const QString& m) {
        std::fprintf(stderr, "edgent-workbench: %s\n", m.toLocal8Bit().constData());
        *exitCode = 1;
        QApplication::exit(1);
    });
    QObject::connect(&session, &edgent::gui::Session::profileFinished, &w, [exitCode](bool ok, const QString& m) {
        if (ok) return;
        std::fprintf(stderr, "edgent-workbench: profiling failed: %s\n", m.toLocal8Bit().constData());
        *exitCode = 1;
        QApplication::exit(1);
    });
    QObject::connect(waitTimer, &QTimer::timeout, &w, [&w, &session, waitTimer, waited, seconds, screenshot, exitCode] {
        if (++*waited > 1200) {  // 240 s
            waitTimer->stop();
            *exitCode = fail(QStringLiteral("the workers, the model or the profile were not ready within 240 s"));
            QApplication::exit(1);
            return;
        }
        if (!session.modelInWorkers() || !session.plan() || session.profiling()) return;
        waitTimer->stop();
        w.tabs()->setCurrentIndex(0);
        session.startRun(edgent::gui::RunRequest{});
        const double settings[] = {5e6, 400e3, 2e6, 150e3, 10e6};
        const int n = sizeof(settings) / sizeof(settings[0]);
        for (int i = 0; i < n; ++i)
            QTimer::singleShot(static_cast<int>(seconds * 1000.0 * (i + 1) / (n + 1)), &w,
                               [&w, bps = settings[i]] { w.experiment()->setBandwidthBps(bps); });
        QTimer::singleShot(static_cast<int>(seconds * 1000.0), &w, [&w, &session] { session.stopRun(); });
        QObject::connect(
            &session, &edgent::gui::Session::runStopped, &w, [&w, screenshot, exitCode](qint64 id, const QString& status) {
                w.livePlots()->replotNow();
                QPixmap shot = w.grab();
                if (!shot.save(screenshot, "PNG")) {
                    *exitCode = fail(QStringLiteral("cannot write the screenshot %1").arg(screenshot));
                } else {
                    std::printf("run %lld %s: %lld inferences; screenshot %s (%dx%d); database %s\n", static_cast<long long>(id),
                                status.toLocal8Bit().constData(), static_cast<long long>(w.livePlots()->points()),
                                QFileInfo(screenshot).absoluteFilePath().toLocal8Bit().constData(), shot.width(), shot.height(),
                                w.session().databasePath().toLocal8Bit().constData());
                    if (*exitCode == 0) *exitCode = status == QLatin1String("finished") ? 0 : 1;
                }
                QApplication::exit(*exitCode);
            });
    });
    waitTimer->start(200);
}

}  // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("edgent-workbench"));
    QApplication::setApplicationName(QStringLiteral("edgent-workbench"));
    QApplication::setApplicationVersion(QStringLiteral(EDGENT_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("edgent-workbench"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Edgent Workbench: watch Edgent choose an exit and a partition, and run them live on a device worker and an "
        "edge worker."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOptions({
        {"db", "Run database (default: the last one, or runs.sqlite in the user's data folder).", "DB"},
        {"model", "Model to load (default: the last one, or the shipped default model).", "MODEL"},
        {"no-workers", "Do not start local workers at once."},
        {"device-slowdown", "Emulate a device F times slower than this machine for local workers.", "F"},
        {"run-for", "Scripted demo: run the default experiment for S seconds, moving the bandwidth, then quit.", "S"},
        {"screenshot", "With --run-for: save a PNG of the window at the end.", "FILE"},
        {"deadline", "With --run-for: the deadline in ms (default 20).", "MS"},
    });
    parser.process(app);

    edgent::gui::WindowOptions options;
    options.database = parser.value("db");
    options.model = parser.value("model");
    options.startWorkers = !parser.isSet("no-workers");
    bool ok = true;
    if (parser.isSet("device-slowdown")) {
        options.deviceSlowdown = parser.value("device-slowdown").toDouble(&ok);
        if (!ok || options.deviceSlowdown < 1.0) return fail(QStringLiteral("--device-slowdown must be a number of at least 1"));
    }
    double runFor = 0.0;
    if (parser.isSet("run-for")) {
        runFor = parser.value("run-for").toDouble(&ok);
        if (!ok || runFor <= 0) return fail(QStringLiteral("--run-for must be a positive number of seconds"));
        if (!parser.isSet("screenshot")) return fail(QStringLiteral("--run-for needs --screenshot FILE.png"));
        // The demo's setting: a device 4x slower than this machine, so the plan visibly
        // changes with the bandwidth (on one machine, offloading never pays otherwise).
        if (options.deviceSlowdown <= 0) options.deviceSlowdown = 4.0;
    }
    MainWindow window(options);
    window.resize(1500, 950);
    window.show();
    int exitCode = 0;
    if (runFor > 0) {
        double deadline = 20.0;
        if (parser.isSet("deadline")) {
            deadline = parser.value("deadline").toDouble(&ok);
            if (!ok || deadline <= 0) return fail(QStringLiteral("--deadline must be a positive number of milliseconds"));
        }
        window.experiment()->setPolicy(QStringLiteral("edgent"));
        window.experiment()->setPredictor(QStringLiteral("auto"));
        window.experiment()->setDeadlineMs(deadline);
        window.experiment()->setTracePath({});
        window.experiment()->setDynamicMode(false);
        scriptDemo(window, runFor, parser.value("screenshot"), &exitCode);
    }
    const int code = app.exec();
    return runFor > 0 ? exitCode : code;
}
