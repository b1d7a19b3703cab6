// Dynamic mode on real workers: a run whose shaper follows a step trace while the controller
// re-plans live. It runs alone, as it times the switches (the traces' parsing, the CUSUM
// detector and the CLI's checks are in tst_trace).
#include "RunTestUtil.h"
#include "TestUtil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

class TestDynamic : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

    using Run = edgent::test::CliRun;
    static Run cli(const QStringList& args, int timeoutMs = 300000) { return edgent::test::runCli(args, timeoutMs); }
    QString writeFile(const QString& name, const QByteArray& text) { return edgent::test::writeFile(dir_, name, text); }

private Q_SLOTS:
    // A real run: a device 4x slower than the edge, a step trace replayed through the
    // shaper, and the controller following it. Each step crosses a plan boundary of the
    // default model at a 20 ms deadline (see resources/traces/step.csv), and the switch
    // must come within a few samples.
    void dynamicModeFollowsAStepTrace() {
        const QString db = dir_.filePath("dynamic.sqlite");
        const Run prof = cli({"profile", "--db", db, "--no-synthetic", "--repeats", "9", "--span", "0", "--device-slowdown", "4"});
        QVERIFY2(prof.code == 0, prof.err.constData());
        const QString trace = writeFile("step.csv", "time_s,kbps\n0,10000\n3,300\n6,5000\n9,200\n12,200\n");
        const Run r = cli({"run", "--db", db, "--trace", trace, "--policy", "edgent", "--dynamic", "--deadline", "20ms",
                           "--predictor", "lookup", "--device-slowdown", "4", "--json"});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonObject o = QJsonDocument::fromJson(r.out).object();
        QVERIFY2(o["inferences"].toInt() > 100, r.out.constData());
        const QJsonArray delays = o["switch_delay_samples"].toArray();
        QCOMPARE(delays.size(), 3);
        for (const auto& d : delays) {
            QVERIFY2(d.isDouble(), r.out.constData());  // every step led to a switch
            QVERIFY2(d.toInt() >= 1 && d.toInt() <= 6, r.out.constData());
        }
        // Every step is detected. On a busy machine scheduling noise adds change points
        // within a state; they must not make the device flap between configurations.
        QVERIFY2(o["change_points"].toInt() >= 3, r.out.constData());
        QVERIFY2(o["reconfigurations"].toInt() >= 3 && o["reconfigurations"].toInt() <= 9, r.out.constData());

        // Every sample records the state and what chose its configuration; the device ran
        // on the device alone at 300 and 200 kbps and offloaded at 10 and 5 Mbps.
        sqlite3* h = nullptr;
        QCOMPARE(sqlite3_open_v2(db.toUtf8().constData(), &h, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
        auto scalar = [&](const char* sql) {
            sqlite3_stmt* s = nullptr;
            double v = -1;
            if (sqlite3_prepare_v2(h, sql, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
                v = sqlite3_column_double(s, 0);
            sqlite3_finalize(s);
            return v;
        };
        QCOMPARE(scalar("SELECT count(*) FROM samples WHERE bandwidth_state IS NULL OR config_source IS NULL"), 0.0);
        // The profile records how the device's slowdown waited (spin, the default); the edge has none.
        QCOMPARE(scalar("SELECT count(*) FROM profiles WHERE node='device' AND slowdown=4 AND slowdown_wait='spin'"), 1.0);
        QCOMPARE(scalar("SELECT count(*) FROM profiles WHERE node='edge' AND slowdown=1 AND slowdown_wait IS NULL"), 1.0);
        QVERIFY(scalar("SELECT count(*) FROM samples WHERE config_source='change-point'") > 0);
        QVERIFY(scalar("SELECT count(*) FROM events WHERE kind='plan'") >= 3);
        // A sample carries the planner's state, so a state below 1 Mbps with an offloading
        // configuration is one of the one or two inferences already under way when a switch
        // landed. Scheduling noise can add switches (see above), each with its own.
        const double lateOffloads = scalar("SELECT count(*) FROM samples WHERE bandwidth_state < 1000000 AND bytes_sent > 0");
        const double allowed = 2.0 * o["reconfigurations"].toInt();
        QVERIFY2(lateOffloads <= allowed,
                 qPrintable(QString("%1 offloaded samples at a low bandwidth, %2 allowed; %3").arg(lateOffloads).arg(allowed)
                                .arg(QString::fromUtf8(r.out))));
        QVERIFY(scalar("SELECT count(*) FROM samples WHERE bandwidth_state < 1000000 AND bytes_sent = 0") > 10);
        QVERIFY(scalar("SELECT count(*) FROM samples WHERE bandwidth_state >= 1000000 AND bytes_sent > 0") > 10);
        sqlite3_close(h);
    }

};

QTEST_GUILESS_MAIN(TestDynamic)
#include "tst_dynamic.moc"
