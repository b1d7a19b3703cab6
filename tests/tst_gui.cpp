// The window, offscreen, on real local workers: every panel is built; moving the bandwidth
// slider changes the plan shown and the device receives the new configuration; a short run
// adds samples to the plots and rows to the database; a killed worker is shown as dead.
#include "app/gui/ExperimentPanel.h"
#include "app/gui/LivePlots.h"
#include "app/gui/MainWindow.h"
#include "app/gui/Session.h"

#include <QAbstractItemModel>
#include <QComboBox>
#include <QLabel>
#include <QSignalSpy>
#include <QSlider>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <sqlite3.h>

using namespace edgent::gui;
using edgent::core::net::Role;

class TestGui : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::unique_ptr<MainWindow> w_;

    double scalar(const char* sql) {
        sqlite3* h = nullptr;
        double v = -1;
        if (sqlite3_open_v2(w_->session().databasePath().toUtf8().constData(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
            sqlite3_stmt* s = nullptr;
            if (sqlite3_prepare_v2(h, sql, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
                v = sqlite3_column_double(s, 0);
            sqlite3_finalize(s);
        }
        sqlite3_close(h);
        return v;
    }

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);  // settings and data in a test location
        QCoreApplication::setOrganizationName("edgent-workbench-test");
        WindowOptions o;
        o.database = dir_.filePath("gui.sqlite");
        o.deviceSlowdown = 4.0;  // a device slower than the edge, so plans depend on bandwidth
        w_ = std::make_unique<MainWindow>(o);
        w_->resize(1400, 900);
        w_->show();
        // Workers up, model in both, the first-use profile done and a plan made.
        QTRY_VERIFY_WITH_TIMEOUT(w_->session().modelInWorkers(), 60000);
        QTRY_VERIFY_WITH_TIMEOUT(w_->session().plan().has_value() && !w_->session().profiling(), 240000);
    }

    void everyPanelIsBuilt() {
        QCOMPARE(w_->tabs()->count(), 5);
        for (const char* name :
             {"bandwidthSlider", "deadlineSlider", "policyCombo", "predictorCombo", "startButton", "pauseButton", "stopButton",
              "planLabel", "livePlot", "workersTable", "exitsTable", "layersTable", "pathView", "profileStartButton", "fitsTable",
              "fitPlot", "runsTable", "exportRunButton", "log"})
            QVERIFY2(w_->findChild<QWidget*>(name), name);
        // The model panel lists the default model's five exits, the profile panel its fits.
        QCOMPARE(w_->findChild<QTableWidget*>("exitsTable")->rowCount(), 5);
        QVERIFY(w_->findChild<QAbstractItemView*>("fitsTable")->model()->rowCount() > 0);
        // Both workers are shown up.
        auto* workers = w_->findChild<QTableWidget*>("workersTable");
        QCOMPARE(workers->item(0, 1)->text(), QStringLiteral("up"));
        QCOMPARE(workers->item(1, 1)->text(), QStringLiteral("up"));
    }

    void movingTheBandwidthSliderReplansAndReconfiguresTheDevice() {
        auto* exp = w_->experiment();
        exp->setPolicy("edgent");
        exp->setPredictor("lookup");
        exp->setDeadlineMs(20.0);
        exp->setBandwidthBps(10e6);
        const auto fast = *w_->session().plan();
        auto* label = w_->findChild<QLabel*>("planLabel");
        const QString fastText = label->text();
        // Start a run at 10 Mbps, then drag the slider down to 150 kbps.
        exp->start();
        QTRY_VERIFY_WITH_TIMEOUT(w_->livePlots()->points() > 20, 30000);
        auto* slider = w_->findChild<QSlider*>("bandwidthSlider");
        slider->setValue(ExperimentPanel::bpsToSlider(150e3));
        const auto slow = *w_->session().plan();
        QVERIFY2(slow.exit != fast.exit || slow.partition != fast.partition,
                 qPrintable(QString("plan stayed exit %1 partition %2").arg(slow.exit).arg(slow.partition)));
        QVERIFY(label->text() != fastText);
        QVERIFY(std::abs(exp->bandwidthBps() - 150e3) < 150e3 * 0.01);
        // The device runs the new configuration: samples with it reach the database.
        const QString sql = QString("SELECT count(*) FROM samples WHERE run_id=%1 AND exit=%2 AND partition=%3")
                                .arg(w_->session().runId())
                                .arg(slow.exit)
                                .arg(slow.partition);
        QTRY_VERIFY_WITH_TIMEOUT(scalar(sql.toUtf8().constData()) > 5, 30000);
        // ...and the slider move is recorded as an event of the run.
        QTRY_VERIFY_WITH_TIMEOUT(scalar("SELECT count(*) FROM events WHERE kind='plan'") >= 1, 10000);
    }

    void aShortRunAddsSamplesToThePlotsAndTheDatabase() {
        QVERIFY(w_->session().running());
        const qint64 run = w_->session().runId();
        QSignalSpy stopped(&w_->session(), &Session::runStopped);
        w_->experiment()->stop();
        QVERIFY(stopped.wait(20000));
        const int64_t plotted = w_->livePlots()->points();
        QVERIFY(plotted > 20);
        // Every plotted inference is a row of the run; the run ended properly.
        QCOMPARE(scalar(QString("SELECT count(*) FROM samples WHERE run_id=%1").arg(run).toUtf8().constData()),
                 static_cast<double>(plotted));
        QCOMPARE(scalar(QString("SELECT status='finished' FROM runs WHERE id=%1").arg(run).toUtf8().constData()), 1.0);
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

    void cleanupTestCase() { w_.reset(); }
};

QTEST_MAIN(TestGui)
#include "tst_gui.moc"
