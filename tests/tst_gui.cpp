// The window, offscreen, on real local workers. Every test function gets a window of its own
// (init/cleanup) on one database that the first-use profile filled once (initTestCase), so
// each can run alone:
//   every panel is built; moving the bandwidth slider re-plans and the device follows; a
//   stopped run's plots equal its rows; a killed worker is shown dead; after a trace the
//   plan is the slider's again; a window closed while its workers start closes at once; and
//   a run from the window stores the same kinds of rows and events as one from `edgent run`.
#include "RunTestUtil.h"
#include "TestUtil.h"

#include "app/gui/ExperimentPanel.h"
#include "app/gui/LivePlots.h"
#include "app/gui/MainWindow.h"
#include "app/gui/FleetDialog.h"
#include "app/gui/FleetProjectionDialog.h"
#include "app/gui/ReproduceDialog.h"
#include "app/gui/Session.h"
#include "widgets/ProfilePanel.h"
#include "core/control/LocalWorkers.h"

#include <algorithm>
#include <QAbstractItemModel>
#include <QCheckBox>
#include <QComboBox>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QHeaderView>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSlider>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QSpinBox>
#include <QtTest>

#include <csignal>
#include <zmq.hpp>

using namespace edgent::gui;
using edgent::core::net::Role;

using edgent::test::column;
using edgent::test::query;

namespace {
double scalar(const QString& db, const QString& sql) { return edgent::test::scalar(db.toStdString(), sql.toStdString()); }
}  // namespace

class TestGui : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString db_;
    std::unique_ptr<MainWindow> w_;

    std::unique_ptr<MainWindow> openWindow() {
        WindowOptions o;
        o.database = db_;
        o.deviceSlowdown = 4.0;  // a device slower than the edge, so plans depend on bandwidth
        auto w = std::make_unique<MainWindow>(o);
        w->resize(1400, 900);
        w->show();
        return w;
    }

    bool ready(MainWindow& w) { return w.session().modelInWorkers() && w.session().plan() && !w.session().profiling(); }

    QString writeTrace(const QString& name, const QByteArray& text) { return edgent::test::writeFile(dir_, name, text); }

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);  // settings and data in a test location
        QCoreApplication::setOrganizationName("edgent-workbench-test");
        QSettings().clear();
        QSettings().setValue("profile/span_s", 1.0);  // the first-use profile, quick (its pacing: tst_planner)
        db_ = dir_.filePath("gui.sqlite");
        // The first window profiles the model once (first use of this database).
        auto w = openWindow();
        QTRY_VERIFY_WITH_TIMEOUT(w->session().modelInWorkers(), 60000);
        QTRY_VERIFY_WITH_TIMEOUT(ready(*w), 240000);
    }

    void init() {
        // The closing tests make sessions of their own and need no window or workers.
        if (QByteArray(QTest::currentTestFunction()).startsWith("closingWhile")) return;
        w_ = openWindow();
        QTRY_VERIFY_WITH_TIMEOUT(ready(*w_), 60000);
        auto* exp = w_->experiment();
        exp->setTracePath({});
        exp->setDynamicMode(false);
        exp->setPolicy("edgent");
        exp->setPredictor("lookup");
        exp->setCodec("auto");
        exp->setDeadlineMs(20.0);
        exp->setBandwidthBps(10e6);
    }

    void cleanup() { w_.reset(); }

    void everyPanelIsBuilt() {
        QCOMPARE(w_->tabs()->count(), 5);
        for (const char* name :
             {"bandwidthSlider", "deadlineSlider", "policyCombo", "predictorCombo", "codecCombo", "startButton", "pauseButton", "stopButton",
              "planLabel", "livePlot", "workersTable", "exitsTable", "layersTable", "pathView", "profileStartButton", "fitsTable",
              "fitPlot", "runsTable", "exportRunButton", "log", "targetAccuracy", "calibrateButton"})
            QVERIFY2(w_->findChild<QWidget*>(name), name);
        // The model panel lists the default model's five exits, the profile panel its fits.
        QCOMPARE(w_->findChild<QTableWidget*>("exitsTable")->rowCount(), 5);
        QVERIFY(w_->findChild<QAbstractItemView*>("fitsTable")->model()->rowCount() > 0);
        // The forest's held-out predictions can be drawn beside the Table-1 fits.
        w_->profilePanel()->showForest("device", edgent::core::LayerKind::Conv);
        QVERIFY2(w_->profilePanel()->plotTitle().contains("held-out rows") &&
                     w_->profilePanel()->plotTitle().contains("within ±10"),
                 qPrintable(w_->profilePanel()->plotTitle()));
        // Numbers sit beside their labels: no table stretches a number column to the far edge.
        auto* runs = w_->findChild<QTableView*>("runsTable");
        QVERIFY(!runs->horizontalHeader()->stretchLastSection());
        auto* exits = w_->findChild<QTableView*>("exitsTable");
        QVERIFY(!exits->horizontalHeader()->stretchLastSection());
        QCOMPARE(exits->horizontalHeader()->sectionResizeMode(0), QHeaderView::Stretch);
        // On a first start the log dock is a few lines high, not a quarter of the window.
        QTRY_VERIFY(w_->findChild<QDockWidget*>("logDock")->height() > 0);
        QVERIFY2(w_->findChild<QDockWidget*>("logDock")->height() < w_->height() / 6,
                 qPrintable(QString("%1 of %2").arg(w_->findChild<QDockWidget*>("logDock")->height()).arg(w_->height())));
        // Both workers are shown up.
        auto* workers = w_->findChild<QTableWidget*>("workersTable");
        QTRY_COMPARE(workers->item(0, 1)->text(), QStringLiteral("up"));
        QTRY_COMPARE(workers->item(1, 1)->text(), QStringLiteral("up"));
    }

    void movingTheBandwidthSliderReplansAndReconfiguresTheDevice() {
        const auto fast = *w_->session().plan();
        auto* label = w_->findChild<QLabel*>("planLabel");
        const QString fastText = label->text();
        // Start a run at 10 Mbps, then drag the slider down to 150 kbps.
        w_->experiment()->start();
        QTRY_VERIFY_WITH_TIMEOUT(w_->livePlots()->points() > 20, 30000);
        auto* slider = w_->findChild<QSlider*>("bandwidthSlider");
        slider->setValue(ExperimentPanel::bpsToSlider(150e3));
        QVERIFY(std::abs(w_->experiment()->bandwidthBps() - 150e3) < 150e3 * 0.01);
        // The run re-plans on its own thread; the plan shown follows within moments.
        QTRY_VERIFY_WITH_TIMEOUT(w_->session().plan()->exit != fast.exit || w_->session().plan()->partition != fast.partition,
                                 5000);
        const auto slow = *w_->session().plan();
        QTRY_VERIFY(label->text() != fastText);
        // The device runs the new configuration: samples with it reach the database.
        const qint64 run = w_->session().runId();
        QTRY_VERIFY_WITH_TIMEOUT(scalar(db_, QString("SELECT count(*) FROM samples WHERE run_id=%1 AND exit=%2 AND partition=%3")
                                                 .arg(run)
                                                 .arg(slow.exit)
                                                 .arg(slow.partition)) > 5,
                                 30000);
        // ...and the slider move and the new plan are events of the run.
        QTRY_VERIFY_WITH_TIMEOUT(
            scalar(db_, QString("SELECT count(*) FROM events WHERE run_id=%1 AND kind='bandwidth' AND message LIKE '%slider%'")
                            .arg(run)) >= 1,
            10000);
        QTRY_VERIFY_WITH_TIMEOUT(
            scalar(db_, QString("SELECT count(*) FROM events WHERE run_id=%1 AND kind='plan' AND value BETWEEN 148000 AND 152000")
                            .arg(run)) >= 1,
            10000);
    }

    // The codec selector: auto says why it stays at fp32 on a database without a codec
    // calibration; a codec pinned without costs is refused with the command that gives them;
    // the choice is kept for the next window.
    void theCodecSelectorExplainsAndPersists() {
        auto* label = w_->findChild<QLabel*>("planLabel");
        QTRY_VERIFY(label->text().contains("codec: fp32 only") && label->text().contains("edgent calibrate --codecs"));
        w_->experiment()->setCodec("int8+zstd");
        QTRY_VERIFY(!w_->session().plan());
        QVERIFY2(w_->session().planProblem().contains("codec int8+zstd has no costs") &&
                     w_->session().planProblem().contains("edgent calibrate --codecs"),
                 qPrintable(w_->session().planProblem()));
        w_->experiment()->setCodec("fp32");
        QTRY_VERIFY(w_->session().plan().has_value());
        QVERIFY(w_->session().plan()->codec.identity());
        // So are the profiling controls (spread: the passes each layer's repeats are spread over).
        w_->profilePanel()->setSettings({9, true, 2, 7, 4.0});
        w_->close();  // closing keeps the settings
        w_.reset();
        w_ = openWindow();
        QCOMPARE(w_->experiment()->codec(), QStringLiteral("fp32"));
        const auto profiling = w_->profilePanel()->settings();
        QVERIFY(profiling.repeats == 9 && profiling.synthetic && profiling.adaptiveRounds == 2 && profiling.spread == 7 &&
                profiling.spanSeconds == 4.0);
        QCOMPARE(w_->findChild<QSpinBox*>("profileSpread")->value(), 7);
    }

    void aStoppedRunsPlotsEqualItsRows() {
        w_->experiment()->start();
        QTRY_VERIFY_WITH_TIMEOUT(w_->livePlots()->points() > 20, 30000);
        const qint64 run = w_->session().runId();
        QSignalSpy stopped(&w_->session(), &Session::runStopped);
        w_->experiment()->stop();
        QVERIFY(stopped.wait(20000));
        const int64_t plotted = w_->livePlots()->points();
        QVERIFY(plotted > 20);
        // Every plotted inference is a row of the run; the run ended properly.
        QCOMPARE(scalar(db_, QString("SELECT count(*) FROM samples WHERE run_id=%1").arg(run)), static_cast<double>(plotted));
        QCOMPARE(query(db_, QString("SELECT status FROM runs WHERE id=%1").arg(run))[0][0], QStringLiteral("finished"));
        // The run browser lists it.
        auto* runs = w_->findChild<QAbstractItemView*>("runsTable");
        QTRY_VERIFY_WITH_TIMEOUT(runs->model()->rowCount() >= 1, 10000);
        // The live plots export for papers.
        QVERIFY(w_->livePlots()->exportTo(dir_.filePath("live.png")));
        QVERIFY(w_->livePlots()->exportTo(dir_.filePath("live.pdf")));
        QVERIFY(QFileInfo(dir_.filePath("live.png")).size() > 10000);
        QVERIFY(QFileInfo(dir_.filePath("live.pdf")).size() > 1000);
    }

    void aKilledWorkerIsShownDead() {
        const qint64 pid = w_->session().localPid(Role::Edge);
        QVERIFY(pid > 0);
        QCOMPARE(::kill(static_cast<pid_t>(pid), SIGKILL), 0);
        auto* workers = w_->findChild<QTableWidget*>("workersTable");
        QTRY_COMPARE_WITH_TIMEOUT(workers->item(1, 1)->text(), QStringLiteral("dead"), 8000);
        QVERIFY(!workers->item(1, 6)->text().isEmpty());  // the reason
        QTRY_VERIFY_WITH_TIMEOUT(w_->findChild<QLabel*>("errorBanner")->isVisible(), 5000);
        bool named = false;
        for (const QString& m : w_->messages()) named |= m.contains("edge");
        QVERIFY(named);
    }

    // A trace plays through the shaper, but it never becomes the slider's setting: after the
    // run the plan shown is for the slider's bandwidth again, and the slider drives it.
    void afterATraceRunThePlanIsTheSlidersAgain() {
        const auto atSlider = *w_->session().plan();  // 10 Mbps
        const QString trace = writeTrace("short.csv", "time_s,kbps\n0,150\n1.5,120\n3,120\n");
        w_->experiment()->setTracePath(trace);
        QSignalSpy stopped(&w_->session(), &Session::runStopped);
        w_->experiment()->start();
        QVERIFY(w_->session().running());
        QVERIFY(stopped.wait(30000));  // the trace's last time stamp ends the run
        QCOMPARE(stopped.at(0).at(1).toString(), QStringLiteral("finished"));
        QVERIFY(std::abs(w_->experiment()->bandwidthBps() - 10e6) < 1e5);
        const auto after = *w_->session().plan();
        QCOMPARE(after.exit, atSlider.exit);
        QCOMPARE(after.partition, atSlider.partition);
        QCOMPARE(w_->session().planInputs().bandwidthBps, 10e6);
        w_->experiment()->setBandwidthBps(150e3);
        QCOMPARE(w_->session().planInputs().bandwidthBps, 150e3);
    }

    // A run that fails to begin (the device refuses the trace's first rate) leaves no trace
    // behind in the plan's inputs: the slider still drives the plan.
    void aRunThatFailsToBeginLeavesTheSliderInCharge() {
        const QString trace = writeTrace("refused.csv", "time_s,kbps\n0,0.5\n2,0.5\n");
        w_->experiment()->setTracePath(trace);
        QSignalSpy stopped(&w_->session(), &Session::runStopped);
        w_->experiment()->start();
        QVERIFY(stopped.wait(20000));
        QCOMPARE(stopped.at(0).at(1).toString(), QStringLiteral("failed"));
        bool explained = false;
        for (const QString& m : w_->messages()) explained |= m.contains("at least 1 kbps");
        QVERIFY(explained);
        w_->experiment()->setBandwidthBps(150e3);
        QCOMPARE(w_->session().planInputs().bandwidthBps, 150e3);
        QVERIFY(!w_->session().running());
    }

    // The same settings from the window and from `edgent run`: the same run parameters, the
    // same kinds of events, the same sample columns filled.
    void theWindowAndTheCliStoreTheSameKindsOfRowsAndEvents() {
        const QString trace = writeTrace("compare.csv", "time_s,kbps\n0,5000\n1.5,300\n3,5000\n4.5,5000\n");
        w_->experiment()->setTracePath(trace);
        w_->experiment()->setDynamicMode(true);
        QSignalSpy stopped(&w_->session(), &Session::runStopped);
        w_->experiment()->start();
        QVERIFY(stopped.wait(30000));
        QCOMPARE(stopped.at(0).at(1).toString(), QStringLiteral("finished"));
        const qint64 windowRun = stopped.at(0).at(0).toLongLong();
        w_.reset();  // the CLI's workers get the machine to themselves

        const auto cli = edgent::test::runCli({"run", "--db", db_, "--policy", "edgent", "--predictor", "lookup", "--deadline",
                                               "20ms", "--trace", trace, "--dynamic", "--json"},
                                              60000);
        QVERIFY2(cli.code == 0, cli.err.constData());
        const qint64 cliRun = QJsonDocument::fromJson(cli.out).object().value("run_id").toInteger();
        QVERIFY(cliRun > windowRun);

        auto params = [&](qint64 run) { return column(db_, QString("SELECT key FROM run_params WHERE run_id=%1").arg(run)); };
        QCOMPARE(params(cliRun), params(windowRun));
        auto value = [&](qint64 run, const char* key) {
            return query(db_, QString("SELECT value FROM run_params WHERE run_id=%1 AND key='%2'").arg(run).arg(key))[0][0];
        };
        for (const char* key :
             {"predictor", "deadline_ms", "dynamic", "trace", "device_slowdown", "shaping", "exit", "partition"})
            QCOMPARE(value(cliRun, key), value(windowRun, key));
        QCOMPARE(value(windowRun, "source"), QStringLiteral("workbench window"));
        QCOMPARE(value(cliRun, "source"), QStringLiteral("cli"));

        auto kinds = [&](qint64 run) {
            return column(db_, QString("SELECT DISTINCT kind FROM events WHERE run_id=%1").arg(run));
        };
        for (qint64 run : {windowRun, cliRun})
            for (const char* kind : {"plan", "bandwidth", "stream-finished"})
                QVERIFY2(kinds(run).count(kind), qPrintable(QString("run %1 lacks %2 events").arg(run).arg(kind)));
        // Change points depend on timing; anything else must match.
        auto deterministic = [&](qint64 run) {
            auto k = kinds(run);
            k.erase(QStringLiteral("change-point"));
            return k;
        };
        QCOMPARE(deterministic(cliRun), deterministic(windowRun));
        // The trace steps are the same events, at the same bandwidths.
        auto steps = [&](qint64 run) {
            return query(db_, QString("SELECT value FROM events WHERE run_id=%1 AND kind='bandwidth' ORDER BY t_ms").arg(run));
        };
        QCOMPARE(steps(cliRun), steps(windowRun));
        // Which sample columns are filled.
        auto filled = [&](qint64 run) {
            return query(db_, QString("SELECT count(predicted_ms), count(energy_mj), count(energy_source), "
                                      "count(bandwidth_state), count(config_source), count(*) FROM samples WHERE run_id=%1")
                                  .arg(run))[0];
        };
        for (qint64 run : {windowRun, cliRun}) {
            const auto f = filled(run);
            QVERIFY(f[5].toInt() > 10);
            for (int c = 0; c < 5; ++c) QCOMPARE(f[c], f[5]);
        }
    }

    // Per-input early exits from the window: calibrate, choose a per-input policy, run; the
    // samples record the exit each input took and its confidence.
    void anAdaptivePolicyRunsFromTheWindow() {
        QSignalSpy calibrated(&w_->session(), &Session::calibrationFinished);
        w_->findChild<QPushButton*>("calibrateButton")->click();
        QVERIFY(calibrated.wait(120000));
        QVERIFY2(calibrated.at(0).at(0).toBool(), qPrintable(calibrated.at(0).at(1).toString()));
        QVERIFY(w_->session().calibrated());
        w_->experiment()->setDeadlineMs(40.0);
        w_->experiment()->setPolicy("branchynet");
        QTRY_VERIFY(w_->session().plan() && w_->session().plan()->early.active());
        QVERIFY(w_->findChild<QLabel*>("planLabel")->text().contains("early exits"));
        w_->experiment()->start();
        QTRY_VERIFY_WITH_TIMEOUT(w_->livePlots()->points() > 60, 30000);
        const qint64 run = w_->session().runId();
        QSignalSpy stopped(&w_->session(), &Session::runStopped);
        w_->experiment()->stop();
        QVERIFY(stopped.wait(20000));
        // Every input left at one of the plan's exits, and an early one only when it was confident there
        // (which exits the inputs take depends on the images; a loose threshold may stop them all early).
        const auto early = w_->session().plan()->early;
        const int finalExit = w_->session().plan()->exit;
        const auto taken = query(db_, QString("SELECT exit_taken, confidence FROM samples WHERE run_id=%1").arg(run));
        QVERIFY(taken.size() > 60);
        for (const auto& row : taken) {
            const int exit = row[0].toInt();
            const auto at = std::find(early.exits.begin(), early.exits.end(), exit);
            if (at == early.exits.end()) {
                QCOMPARE(exit, finalExit);
                continue;
            }
            const double threshold = early.thresholds[static_cast<size_t>(at - early.exits.begin())];
            QVERIFY2(row[1].toDouble() < threshold, qPrintable(row[1] + " at exit " + row[0]));
        }
        QCOMPARE(scalar(db_, QString("SELECT count(*) FROM samples WHERE confidence IS NULL AND run_id=%1").arg(run)), 0.0);
        QVERIFY(query(db_, QString("SELECT value FROM run_params WHERE key='early_exits' AND run_id=%1").arg(run))[0][0].contains(
            "entropy"));
    }

    // Closing the window while its local workers start: the close does not wait for them.
    void closingWhileWorkersStartReturnsAtOnce() {
        w_.reset();
        for (int delayMs : {0, 150, 400, 800, 1200}) {
            auto s = std::make_unique<Session>();
            s->startLocalWorkers(1.0);
            QTest::qWait(delayMs);
            QElapsedTimer t;
            t.start();
            s.reset();
            QVERIFY2(t.elapsed() < 5000, qPrintable(QString("closing after %1 ms took %2 ms").arg(delayMs).arg(t.elapsed())));
        }
    }

    // Closing the window while it connects to workers that never answer (a host that
    // accepts the connection and stays silent): the close does not wait for the connection's
    // timeouts (before, it waited 15 s per worker).
    void closingWhileConnectingToSilentWorkersReturnsAtOnce() {
        w_.reset();
        zmq::context_t ctx;
        zmq::socket_t silent(ctx, zmq::socket_type::router);
        silent.set(zmq::sockopt::linger, 0);
        silent.bind("tcp://127.0.0.1:*");
        const QString ep = QString::fromStdString(silent.get(zmq::sockopt::last_endpoint));
        auto s = std::make_unique<Session>();
        s->connectWorkers(ep, ep, {});
        QTest::qWait(300);  // the job thread is now waiting for the edge's hello
        QElapsedTimer t;
        t.start();
        s.reset();
        QVERIFY2(t.elapsed() < 3000, qPrintable(QString("closing took %1 ms").arg(t.elapsed())));
    }

    // Run > Reproduce paper figures runs the same engine as `edgent reproduce`: one figure,
    // quick, with a fixed slowdown (the scaling probe is the CLI test's business), writes its
    // files and tells the window; a second start cancelled at once ends as cancelled, bounded.
    void reproducingAFigureFromTheWindow() {
        QAction* action = nullptr;
        for (QAction* a : w_->findChildren<QAction*>())
            if (a->text().contains(QStringLiteral("Reproduce paper figures"))) action = a;
        QVERIFY(action);
        action->trigger();
        auto* dialog = w_->findChild<ReproduceDialog*>();
        QVERIFY(dialog);
        const QString out = dir_.filePath(QStringLiteral("figures"));
        dialog->setOutputFolder(out);
        dialog->setQuick(true);
        dialog->selectFigure(QStringLiteral("edgent-fig8"));
        dialog->findChild<QDoubleSpinBox*>(QStringLiteral("reproduceSlowdown"))->setValue(4.0);
        QSignalSpy finished(dialog, &ReproduceDialog::finished);
        dialog->start();
        QVERIFY(dialog->busy());
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() == 1, 180000);
        QVERIFY2(finished.first().at(0).toBool(), qPrintable(finished.first().at(1).toString()));
        for (const char* suffix : {".csv", ".md", ".pdf", ".png"})
            QVERIFY(QFileInfo(out + QStringLiteral("/edgent-fig8") + QLatin1String(suffix)).size() > 100);
        QCOMPARE(dialog->lastPage(), out + QStringLiteral("/edgent-fig8.md"));
        QVERIFY(w_->messages().join('\n').contains(QStringLiteral("written to")));

        dialog->start();
        QTest::qWait(500);
        QElapsedTimer t;
        t.start();
        dialog->cancel();
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() == 2, 30000);
        QVERIFY(!finished.last().at(0).toBool());
        QVERIFY2(t.elapsed() < 20000, qPrintable(QStringLiteral("cancelling took %1 ms").arg(t.elapsed())));
        // The choices persist.
        QCOMPARE(QSettings().value(QStringLiteral("reproduce/figure")).toString(), QStringLiteral("edgent-fig8"));
        QCOMPARE(QSettings().value(QStringLiteral("reproduce/out")).toString(), out);
    }

    // Run > Fleet of devices runs the same engine as `edgent run --devices`: two local devices
    // on two edges, the table shows both, the plot exports, and the choices persist.
    void aFleetRunsFromTheWindow() {
        QAction* action = nullptr;
        for (QAction* a : w_->findChildren<QAction*>())
            if (a->text().contains(QStringLiteral("Fleet of devices"))) action = a;
        QVERIFY(action);
        action->trigger();
        auto* dialog = w_->findChild<FleetDialog*>();
        QVERIFY(dialog);
        dialog->findChild<QSpinBox*>(QStringLiteral("fleetDevices"))->setValue(2);
        dialog->findChild<QSpinBox*>(QStringLiteral("fleetEdges"))->setValue(2);
        dialog->findChild<QSpinBox*>(QStringLiteral("fleetCount"))->setValue(15);
        dialog->findChild<QDoubleSpinBox*>(QStringLiteral("fleetRate"))->setValue(20.0);
        dialog->findChild<QDoubleSpinBox*>(QStringLiteral("fleetSlowdown"))->setValue(1.0);
        dialog->findChild<QDoubleSpinBox*>(QStringLiteral("fleetDeadline"))->setValue(200.0);
        QSignalSpy finished(dialog, &FleetDialog::finished);
        dialog->start();
        QVERIFY(dialog->running());
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() == 1, 90000);
        QVERIFY2(finished.first().at(0).toBool(), qPrintable(finished.first().at(1).toString()));
        QVERIFY2(finished.first().at(1).toString().contains(QStringLiteral("30 inputs")),
                 qPrintable(finished.first().at(1).toString()));
        auto* table = dialog->findChild<QTableWidget*>(QStringLiteral("fleetTable"));
        QCOMPARE(table->rowCount(), 2);
        for (int r = 0; r < 2; ++r) {
            // State, inputs and edge: device r on edge r, whose queue is drawn.
            QCOMPARE(table->item(r, 2)->text() + "/" + table->item(r, 5)->text() + "/" + table->item(r, 6)->text(),
                     QStringLiteral("ended/15/%1").arg(r));
            QVERIFY(dialog->edgeQueuePoints(r) >= 1);
        }
        // Every device's lane holds its inputs' latencies; the list shows one device at a time.
        auto* lane = dialog->findChild<QComboBox*>(QStringLiteral("fleetLane"));
        QCOMPARE(lane->count(), 3);
        for (int d = 0; d < 2; ++d) {
            QCOMPARE(dialog->laneInputs(d), 15);
            QVERIFY(dialog->laneVisible(d));
        }
        QCOMPARE(dialog->laneInputs(2), -1);
        lane->setCurrentIndex(lane->findData(1));
        QVERIFY(!dialog->laneVisible(0));
        QVERIFY(dialog->laneVisible(1));
        const QString png = dir_.filePath(QStringLiteral("fleet.png"));
        QVERIFY(dialog->savePlot(png));
        QVERIFY(QFileInfo(png).size() > 1000);
        QCOMPARE(QSettings().value(QStringLiteral("fleet/devices")).toInt() * 10 + QSettings().value("fleet/edges").toInt(), 22);
        QVERIFY(!dialog->running());
        // Export samples…: the selected device's samples, then every device's.
        table->clearSelection();
        table->selectRow(1);
        const QString one = dir_.filePath(QStringLiteral("fleet-device1.csv"));
        QVERIFY(dialog->exportSamples(one));
        const QList<QByteArray> oneLines = edgent::test::readLines(one);
        QCOMPARE(oneLines.size(), 16);  // the header and device 1's 15 inputs
        for (int i = 1; i < oneLines.size(); ++i) QCOMPARE(oneLines[i].split(',').last(), QByteArray("1"));
        table->clearSelection();
        const QString all = dir_.filePath(QStringLiteral("fleet-all.csv"));
        QVERIFY(dialog->exportSamples(all));
        QCOMPARE(edgent::test::readLines(all).size(), 31);
        // Project…: the fleet that ended, planned anew at its own size and two more, per planning.
        auto* projection = dialog->openProjection();
        QVERIFY(projection);
        projection->findChild<QLineEdit*>(QStringLiteral("projectionSizes"))->setText(QStringLiteral("2,16,300"));
        for (const char* box : {"projectionJoint", "projectionIndependent", "projectionPaced"})
            projection->findChild<QCheckBox*>(QString::fromLatin1(box))->setChecked(QByteArray(box) != "projectionPaced");
        QVERIFY2(projection->project(),
                 qPrintable(projection->findChild<QLabel*>(QStringLiteral("projectionStatus"))->text()));
        auto* rows = projection->findChild<QTableWidget*>(QStringLiteral("projectionTable"));
        QCOMPARE(rows->rowCount(), 6);  // joint and independent at 2 (its own), 16 and 300 devices
        QStringList sizes;
        for (int r = 0; r < rows->rowCount(); ++r) {
            sizes << rows->item(r, 1)->text();
            const double hit = rows->item(r, 5)->text().toDouble();
            QVERIFY2(hit >= 0.0 && hit <= 1.0, qPrintable(rows->item(r, 5)->text()));
            QVERIFY(rows->item(r, 7)->text().toDouble() > 0.0);
        }
        QCOMPARE(sizes, QStringList({"2", "16", "300", "2", "16", "300"}));
        QCOMPARE(rows->item(0, 0)->text() + "/" + rows->item(3, 0)->text(), QStringLiteral("joint/independent"));
        const QString projected = dir_.filePath(QStringLiteral("projection.pdf"));
        QVERIFY(projection->savePlot(projected));
        QVERIFY(QFileInfo(projected).size() > 1000);
        QCOMPARE(QSettings().value(QStringLiteral("fleetProjection/sizes")).toString(), QStringLiteral("2,16,300"));
        projection->findChild<QLineEdit*>(QStringLiteral("projectionSizes"))->setText(QStringLiteral("2,zero"));
        QVERIFY(!projection->project());
        QVERIFY(projection->findChild<QLabel*>(QStringLiteral("projectionStatus"))->text().startsWith(QStringLiteral("Error:")));
        projection->close();
    }

    // The same dialog driving workers that already run: a device list and an edge, their links
    // shaped outside (nothing shaped in software), and one line when the edge is missing.
    void aFleetOfRunningWorkersFromTheWindow() {
        for (QAction* a : w_->findChildren<QAction*>())
            if (a->text().contains(QStringLiteral("Fleet of devices"))) a->trigger();
        const auto dialogs = w_->findChildren<FleetDialog*>();
        QVERIFY(!dialogs.isEmpty());
        FleetDialog* dialog = dialogs.last();  // the newest
        edgent::core::control::SpawnedWorker edge, a, b;
        QVERIFY(edgent::core::control::spawnWorker(edge, edgent::core::net::Role::Edge, 1, {}).ok());
        QVERIFY(edgent::core::control::spawnWorker(a, edgent::core::net::Role::Device, 1, {}).ok());
        QVERIFY(edgent::core::control::spawnWorker(b, edgent::core::net::Role::Device, 1, {}).ok());
        auto* list = dialog->findChild<QLineEdit*>(QStringLiteral("fleetDeviceList"));
        auto* edgeAt = dialog->findChild<QLineEdit*>(QStringLiteral("fleetEdge"));
        list->setText(QString::fromStdString(a.controlEndpoint + "," + b.controlEndpoint));
        edgeAt->setText(QString());
        dialog->findChild<QCheckBox*>(QStringLiteral("fleetShapedOutside"))->setChecked(true);
        dialog->findChild<QSpinBox*>(QStringLiteral("fleetCount"))->setValue(10);
        QSignalSpy finished(dialog, &FleetDialog::finished);
        dialog->start();
        QCOMPARE(finished.size(), 1);
        QVERIFY(!finished.first().at(0).toBool() && finished.first().at(1).toString().contains("needs the edge's endpoint"));
        QVERIFY(!dialog->running());
        edgeAt->setText(QString::fromStdString(edge.controlEndpoint));
        dialog->start();
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() == 2, 90000);
        QVERIFY2(finished.at(1).at(0).toBool(), qPrintable(finished.at(1).at(1).toString()));
        QVERIFY2(finished.at(1).at(1).toString().contains(QStringLiteral("20 inputs")), qPrintable(finished.at(1).at(1).toString()));
        const QString fleet = finished.at(1).at(1).toString().section(' ', 1, 1);
        QCOMPARE(edgent::test::scalar(db_.toStdString(), "SELECT count(*) FROM samples WHERE bandwidth_bps <> 0 AND run_id IN "
                                                         "(SELECT run_id FROM fleet_devices WHERE fleet_id=" + fleet.toStdString() + ")"),
                 0.0);
        QCOMPARE(edgent::test::scalar(db_.toStdString(), "SELECT count(*) FROM fleet_devices WHERE endpoint='" + a.controlEndpoint +
                                                         "' AND fleet_id=" + fleet.toStdString()),
                 1.0);
        QVERIFY(a.process.running() && b.process.running() && edge.process.running());  // not the dialog's to stop
        QCOMPARE(QSettings().value(QStringLiteral("fleet/edge")).toString(), QString::fromStdString(edge.controlEndpoint));
        dialog->close();
    }

    void cleanupTestCase() { w_.reset(); }
};

QTEST_MAIN(TestGui)
#include "tst_gui.moc"
