#include "app/gui/MainWindow.h"

#include "app/gui/ExperimentPanel.h"
#include "app/gui/AdaptDialog.h"
#include "app/gui/FleetDialog.h"
#include "app/gui/ReproduceDialog.h"
#include "app/gui/LivePlots.h"
#include "app/gui/Session.h"
#include "app/gui/WorkersPanel.h"
#include "widgets/ModelPanel.h"
#include "widgets/ProfilePanel.h"
#include "widgets/RunsPanel.h"

#include "core/control/ProfileRun.h"
#include "core/model/ModelFile.h"

#include <type_traits>

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDateTime>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QSettings>
#include <QSplitter>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>

#include <cmath>

namespace edgent::gui {

using core::net::Role;

namespace {

// A path as people read it: relative to the working folder when it lies inside it.
QString shown(const QString& path) {
    const QString relative = QDir::current().relativeFilePath(path);
    return relative.startsWith(QLatin1String("..")) ? path : relative;
}

}  // namespace

QString MainWindow::defaultDatabasePath() {
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) + "/edgent-workbench";
    QDir().mkpath(dir);
    return dir + "/runs.sqlite";
}

MainWindow::MainWindow(const WindowOptions& options, QWidget* parent)
    : QMainWindow(parent),
      session_(new Session(this)),
      autoProfile_(options.autoProfile) {
    setWindowTitle(tr("Edgent Workbench"));
    setWindowIcon(QIcon(QStringLiteral(":/edgent-workbench.svg")));

    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);
    layout->setContentsMargins(4, 4, 4, 4);
    banner_ = new QLabel(central);
    banner_->setObjectName("errorBanner");
    banner_->setWordWrap(true);
    banner_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    banner_->setStyleSheet(QStringLiteral("QLabel { background: #cf222e; color: white; padding: 6px; border-radius: 4px; }"));
    banner_->hide();
    layout->addWidget(banner_);
    tabs_ = new QTabWidget(central);
    tabs_->setObjectName("panels");
    layout->addWidget(tabs_, 1);
    setCentralWidget(central);

    experiment_ = new ExperimentPanel(*session_);
    plots_ = new LivePlots;
    experimentSplit_ = new QSplitter(Qt::Horizontal);
    experimentSplit_->addWidget(experiment_);
    experimentSplit_->addWidget(plots_);
    experimentSplit_->setStretchFactor(1, 3);
    tabs_->addTab(experimentSplit_, tr("Experiment"));
    modelPanel_ = new widgets::ModelPanel;
    tabs_->addTab(modelPanel_, tr("Model"));
    profilePanel_ = new widgets::ProfilePanel;
    tabs_->addTab(profilePanel_, tr("Profile"));
    workersPanel_ = new WorkersPanel(*session_);
    tabs_->addTab(workersPanel_, tr("Workers"));
    runsPanel_ = new widgets::RunsPanel;
    tabs_->addTab(runsPanel_, tr("Runs"));

    auto* logDock = new QDockWidget(tr("Log"), this);
    logDock->setObjectName("logDock");
    log_ = new QPlainTextEdit(logDock);
    log_->setObjectName("log");
    log_->setReadOnly(true);
    log_->setMaximumBlockCount(5000);
    logDock->setWidget(log_);
    addDockWidget(Qt::BottomDockWidgetArea, logDock);

    buildMenus();

    // Session -> panels.
    connect(session_, &Session::errorOccurred, this, &MainWindow::showError);
    connect(session_, &Session::busy, this, [this](const QString& what) {
        if (what.isEmpty())
            statusBar()->clearMessage();
        else
            statusBar()->showMessage(what);
    });
    connect(session_, &Session::modelChanged, this, [this] {
        modelPanel_->setModel(session_->model() ? &session_->model()->file : nullptr, session_->modelPath());
        note(tr("Model %1 loaded from %2")
                 .arg(QString::fromStdString(session_->model()->file.spec.name), shown(session_->modelPath())));
        refreshProfiles();
    });
    connect(session_, &Session::planChanged, this, [this] {
        if (const auto& p = session_->plan()) modelPanel_->setCut(p->exit, p->partition);
        plots_->setDeadlineMs(session_->planInputs().deadlineMs);
    });
    connect(session_, &Session::workersChanged, this, &MainWindow::maybeAutoProfile);
    connect(session_, &Session::profileProgress, profilePanel_, &widgets::ProfilePanel::setProgress);
    connect(session_, &Session::profileFinished, this, [this](bool ok, const QString& message) {
        profilePanel_->setRunning(false);
        profilePanel_->setMessage(message);
        if (ok)
            note(message);
        else
            showError(tr("Profiling failed: %1").arg(message));
        refreshProfiles();
    });
    connect(session_, &Session::samplesArrived, plots_, &LivePlots::addSamples);
    connect(session_, &Session::runEvent, this, [this](const QString& kind, const QString& message, double t, double) {
        const auto k = core::net::eventKindFromName(kind.toStdString());
        // Short labels: "exit 0, partition 9", "400 kbps"; the log has the whole message.
        const QString label = k == core::net::EventKind::Plan        ? message.section(' ', 0, 3)
                              : k == core::net::EventKind::Bandwidth ? message.section(' ', 0, 1)
                                                                     : message;
        plots_->addMarker(t, k, label);
        note(tr("%1 at %2 s: %3").arg(kind).arg(t, 0, 'f', 2).arg(message));
    });
    connect(session_, &Session::runStarted, this, [this](qint64 id) {
        plots_->clear();
        plots_->setDeadlineMs(session_->planInputs().deadlineMs);
        banner_->hide();
        note(tr("Run %1 started; recorded in %2").arg(id).arg(shown(session_->databasePath())));
    });
    connect(session_, &Session::runStopped, this, [this](qint64 id, const QString& status) {
        note(tr("Run %1 %2: %3 inferences").arg(id).arg(status).arg(plots_->points()));
        runsPanel_->refresh();
    });

    // Panels -> session.
    connect(modelPanel_, &widgets::ModelPanel::loadRequested, session_, &Session::loadModel);
    connect(modelPanel_, &widgets::ModelPanel::loadDefaultRequested, this,
            [this] { session_->loadModel(QString::fromStdString(core::defaultModelPath())); });
    connect(profilePanel_, &widgets::ProfilePanel::startRequested, this, [this](int repeats, bool synthetic, int adaptiveRounds,
                                                                                       int spread, double span) {
        profilePanel_->setRunning(true);
        profilePanel_->setMessage(tr("Profiling the edge, then the device…"));
        session_->startProfile(repeats, synthetic, adaptiveRounds, spread, span);
        if (!session_->profiling()) profilePanel_->setRunning(false);
    });
    connect(profilePanel_, &widgets::ProfilePanel::cancelRequested, session_, &Session::cancelProfile);
    connect(profilePanel_, &widgets::ProfilePanel::calibrateRequested, session_, &Session::startCalibration);
    connect(session_, &Session::calibrationFinished, this, [this](bool ok, const QString& message) {
        profilePanel_->setMessage(message);
        if (ok)
            note(message);
        else
            showError(tr("Calibration failed: %1").arg(message));
    });
    connect(runsPanel_, &widgets::RunsPanel::errorOccurred, this, &MainWindow::showError);
    connect(plots_, &LivePlots::exported, this, [this](const QString& path, bool ok) {
        if (ok)
            note(tr("Plots exported to %1").arg(path));
        else
            showError(tr("Could not write %1").arg(path));
    });

    restoreSettings(options);
}

MainWindow::~MainWindow() {
    // The session finishes a running experiment and stops the workers while the window is
    // still whole; its last signals no longer reach the panels.
    session_->disconnect(this);
    delete session_;
}

void MainWindow::buildMenus() {
    auto* file = menuBar()->addMenu(tr("&File"));
    auto* openModel = file->addAction(tr("Open &model…"), this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Open model"), session_->modelPath(), tr("Models (*.json *.pt)"));
        if (!f.isEmpty()) session_->loadModel(f);
    });
    openModel->setShortcut(QKeySequence::Open);
    file->addAction(tr("Open run &database…"), this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Run database"), session_->databasePath(),
                                                       tr("SQLite (*.sqlite)"), nullptr, QFileDialog::DontConfirmOverwrite);
        if (f.isEmpty()) return;
        if (auto s = session_->openDatabase(f); !s)
            showError(QString::fromStdString(s.error()));
        else
            runsPanel_->setDatabase(f);
        refreshProfiles();
    });
    auto* exportPlots = file->addAction(tr("&Export live plots…"), this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Export plots"), QString(), tr("PDF (*.pdf);;PNG (*.png)"));
        if (f.isEmpty()) return;
        if (plots_->exportTo(f))
            note(tr("Plots exported to %1").arg(f));
        else
            showError(tr("Could not write %1").arg(f));
    });
    exportPlots->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    file->addSeparator();
    auto* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    auto* run = menuBar()->addMenu(tr("&Run"));
    auto* start = run->addAction(tr("&Start"), experiment_, &ExperimentPanel::start);
    start->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_R), QKeySequence(Qt::Key_F5)});
    auto* pause = run->addAction(tr("&Pause / resume"), experiment_, &ExperimentPanel::togglePause);
    pause->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_P));
    auto* stop = run->addAction(tr("S&top"), experiment_, &ExperimentPanel::stop);
    stop->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_Period), QKeySequence(Qt::SHIFT | Qt::Key_F5)});
    run->addSeparator();
    run->addAction(tr("Start &local workers"), this, [this] { session_->startLocalWorkers(workersPanel_->deviceSlowdown()); });
    run->addAction(tr("&Profile both workers"), this, [this] { profilePanel_->requestStart(); });

    run->addSeparator();
    // Each dialog deletes itself on close; its one-line outcome goes to the status bar or an error box.
    const auto showDialog = [this](auto* dialog) {
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        connect(dialog, &std::remove_pointer_t<decltype(dialog)>::finished, this, [this](bool ok, const QString& message) {
            if (ok)
                note(message);
            else
                showError(message);
        });
        dialog->show();
    };
    run->addAction(tr("&Reproduce paper figures…"), this, [this, showDialog] {
        showDialog(new ReproduceDialog(session_->modelShared(), session_->modelPath(), this));
    });
    run->addAction(tr("&Fleet of devices…"), this, [this, showDialog] {
        showDialog(new FleetDialog(session_->modelShared(), session_->databasePath(), this));
    });
    run->addAction(tr("&Adapt on the device…"), this, [this, showDialog] {
        showDialog(new AdaptDialog(session_->modelShared(), session_->databasePath(), this));
    });

    auto* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About"), this, [this] {
        QMessageBox::about(this, tr("About Edgent Workbench"),
                           tr("<b>Edgent Workbench</b><br>Device–edge co-inference with multi-exit networks: profiling, "
                              "Edgent's latency regressions and planner, live runs on real workers, and a run store "
                              "for papers."));
    });
}

void MainWindow::restoreSettings(const WindowOptions& options) {
    QSettings s;
    restoreGeometry(s.value("window/geometry").toByteArray());
    // On a first start the log is a few lines high; afterwards it keeps the size it was given.
    if (!restoreState(s.value("window/state").toByteArray()))
        resizeDocks({findChild<QDockWidget*>("logDock")}, {110}, Qt::Vertical);
    if (!experimentSplit_->restoreState(s.value("window/split").toByteArray())) experimentSplit_->setSizes({380, 900});
    tabs_->setCurrentIndex(s.value("window/tab", 0).toInt());
    workersPanel_->setEndpoints(s.value("workers/device").toString(), s.value("workers/edge").toString(),
                                s.value("workers/keys").toString());
    workersPanel_->setDeviceSlowdown(options.deviceSlowdown > 0 ? options.deviceSlowdown
                                                                : s.value("workers/slowdown", 1.0).toDouble());
    experiment_->setPolicy(s.value("experiment/policy", "edgent").toString());
    experiment_->setPredictor(s.value("experiment/predictor", "auto").toString());
    experiment_->setCodec(s.value("experiment/codec", "auto").toString());
    experiment_->setBandwidthBps(s.value("experiment/bandwidth_bps", 1e6).toDouble());
    experiment_->setDeadlineMs(s.value("experiment/deadline_ms", 100.0).toDouble());
    experiment_->setTargetAccuracy(s.value("experiment/target_accuracy", 0.0).toDouble() > 0
                                       ? s.value("experiment/target_accuracy").toDouble()
                                       : NAN);
    experiment_->setRateHz(s.value("experiment/rate_hz", 0.0).toDouble());
    experiment_->setTracePath(s.value("experiment/trace").toString());
    experiment_->setDynamicMode(s.value("experiment/dynamic", false).toBool());
    const widgets::ProfilePanel::Settings profiling;
    profilePanel_->setSettings({s.value("profile/repeats", profiling.repeats).toInt(),
                                s.value("profile/synthetic", profiling.synthetic).toBool(),
                                s.value("profile/adaptive_rounds", profiling.adaptiveRounds).toInt(),
                                s.value("profile/spread", profiling.spread).toInt(),
                                s.value("profile/span_s", profiling.spanSeconds).toDouble()});

    const QString db =
        !options.database.isEmpty() ? options.database : s.value("store/database", defaultDatabasePath()).toString();
    if (auto st = session_->openDatabase(db); !st) {
        showError(QString::fromStdString(st.error()));
        const QString fallback = defaultDatabasePath();
        if (db != fallback && session_->openDatabase(fallback)) note(tr("Using %1 instead").arg(fallback));
    }
    runsPanel_->setDatabase(session_->databasePath());
    QString model = options.model;
    if (model.isEmpty()) model = s.value("model/path").toString();
    if (model.isEmpty() || !QFileInfo::exists(model)) model = QString::fromStdString(core::defaultModelPath());
    session_->loadModel(model);
    if (options.startWorkers) session_->startLocalWorkers(workersPanel_->deviceSlowdown());
}

void MainWindow::saveSettings() {
    QSettings s;
    s.setValue("window/geometry", saveGeometry());
    s.setValue("window/state", saveState());
    s.setValue("window/split", experimentSplit_->saveState());
    s.setValue("window/tab", tabs_->currentIndex());
    s.setValue("workers/device", workersPanel_->deviceEndpoint());
    s.setValue("workers/edge", workersPanel_->edgeEndpoint());
    s.setValue("workers/keys", workersPanel_->curveKeys());
    s.setValue("workers/slowdown", workersPanel_->deviceSlowdown());
    s.setValue("experiment/policy", experiment_->policy());
    s.setValue("experiment/predictor", experiment_->predictor());
    s.setValue("experiment/codec", experiment_->codec());
    s.setValue("experiment/bandwidth_bps", experiment_->bandwidthBps());
    s.setValue("experiment/deadline_ms", experiment_->deadlineMs());
    s.setValue("experiment/target_accuracy", std::isnan(experiment_->targetAccuracy()) ? 0.0 : experiment_->targetAccuracy());
    s.setValue("experiment/rate_hz", experiment_->rateHz());
    s.setValue("experiment/trace", experiment_->tracePath());
    s.setValue("experiment/dynamic", experiment_->dynamicMode());
    const auto profiling = profilePanel_->settings();
    s.setValue("profile/repeats", profiling.repeats);
    s.setValue("profile/synthetic", profiling.synthetic);
    s.setValue("profile/adaptive_rounds", profiling.adaptiveRounds);
    s.setValue("profile/spread", profiling.spread);
    s.setValue("profile/span_s", profiling.spanSeconds);
    s.setValue("store/database", session_->databasePath());
    if (!session_->modelPath().isEmpty()) s.setValue("model/path", session_->modelPath());
}

void MainWindow::closeEvent(QCloseEvent* event) {
    // A running experiment is finished properly: its samples are flushed and its status set.
    if (session_->running()) session_->stopRun();
    saveSettings();
    event->accept();
}

void MainWindow::showError(const QString& message) {
    banner_->setText(message);
    banner_->show();
    statusBar()->showMessage(message, 10000);
    messages_ << message;
    log_->appendPlainText(QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss")) + "  " + tr("error: ") + message);
}

void MainWindow::note(const QString& message) {
    messages_ << message;
    log_->appendPlainText(QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss")) + "  " + message);
}

void MainWindow::refreshProfiles() {
    const auto device = session_->latestProfile(Role::Device);
    const auto edge = session_->latestProfile(Role::Edge);
    profilePanel_->setProfiles(device ? &*device : nullptr, edge ? &*edge : nullptr);
}

void MainWindow::maybeAutoProfile() {
    // First use of a model with this database: profile it once, so the planner has numbers.
    if (!autoProfile_ || autoProfiled_ || session_->profiling() || !session_->modelInWorkers() || !session_->model()) return;
    if (session_->latencyTable()) return;
    if (!session_->workerInfo(Role::Device).alive || !session_->workerInfo(Role::Edge).alive) return;
    autoProfiled_ = true;
    note(tr("No profile of this model in the database yet: profiling both workers first."));
    // A quick profile (15 repeats, the default adaptive rounds), spread as the panel says.
    const auto settings = profilePanel_->settings();
    Q_EMIT profilePanel_->startRequested(15, true, core::control::ProfileRunOptions{}.adaptiveRounds, settings.spread,
                                         settings.spanSeconds);
}

}  // namespace edgent::gui
