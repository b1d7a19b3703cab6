// Dynamic mode: bandwidth traces, the CUSUM change-point detector, and a real run whose
// shaper follows a step trace while the controller re-plans live.
#include "RunTestUtil.h"
#include "TestUtil.h"

#include "core/plan/Dynamic.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

using namespace edgent::core::plan;

class TestDynamic : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

    using Run = edgent::test::CliRun;
    static Run cli(const QStringList& args, int timeoutMs = 300000) { return edgent::test::runCli(args, timeoutMs); }
    QString writeFile(const QString& name, const QByteArray& text) {
        QFile f(dir_.filePath(name));
        if (!f.open(QIODevice::WriteOnly)) return {};
        f.write(text);
        return f.fileName();
    }

private Q_SLOTS:
    void traceParsesWithHeaderAndComments() {
        auto t = parseBandwidthTrace("time_s,kbps\n# a comment\n0, 1000\n2.5,300\n\n10,300\n", "t.csv");
        QVERIFY2(t, t ? "" : t.error().c_str());
        QCOMPARE(t->points.size(), size_t(3));
        QCOMPARE(t->kbpsAt(0.0), 1000.0);
        QCOMPARE(t->kbpsAt(2.499), 1000.0);
        QCOMPARE(t->kbpsAt(2.5), 300.0);
        QCOMPARE(t->kbpsAt(99.0), 300.0);  // the last value holds
        QCOMPARE(t->durationS(), 10.0);
    }

    void badTracesGetErrorsNamingTheLine() {
        struct Case {
            const char* text;
            const char* fragment;
        } cases[] = {
            {"0,1000\n1,fast\n", "line 2: bandwidth 'fast' is not a number"},
            {"0,1000\nabc,300\n", "line 2: time stamp 'abc' is not a number"},
            {"0,1000\n5,300\n4,200\n", "line 3: time stamps must increase"},
            {"0,1000\n5,300\n5,200\n", "line 3: time stamps must increase"},
            {"0,0\n", "line 1: bandwidth must be positive"},
            {"0,-20\n", "line 1: bandwidth must be positive"},
            {"1,500\n", "the first time stamp must be 0"},
            {"time_s,kbps\n", "no data lines"},
            {"0;1000\n", "expected two columns"},
            {"0,1000,5\n", "expected two columns"},
        };
        for (const auto& c : cases) {
            auto t = parseBandwidthTrace(c.text, "bad.csv");
            QVERIFY2(!t, c.text);
            QVERIFY2(t.error().find(c.fragment) != std::string::npos, t.error().c_str());
            QVERIFY2(t.error().rfind("bad.csv", 0) == 0, t.error().c_str());
        }
        auto missing = readBandwidthTrace(dir_.filePath("nope.csv").toStdString());
        QVERIFY(!missing);
    }

    void shippedTracesParse() {
        for (const char* name : {"step.csv", "random-walk.csv"}) {
            auto t = readBandwidthTrace(std::string(EDGENT_TEST_DATA_DIR "/../../resources/traces/") + name);
            QVERIFY2(t, t ? name : t.error().c_str());
            QVERIFY(t->points.size() >= 4);
            QVERIFY(t->durationS() >= 30.0);
        }
    }

    // The detector's documented behaviour: steady input never fires, a lone outlier never
    // fires, a 10x step fires on its second observation and a 2x step on its third.
    void cusumFiresOnStepsAndNotOnNoise() {
        BandwidthEstimator steady;
        for (int i = 0; i < 1000; ++i) QVERIFY(!steady.observeBps(i % 2 ? 1.1e6 : 0.9e6));
        QCOMPARE(steady.changePoints(), int64_t(0));
        QVERIFY(std::abs(steady.estimateBps() - 1e6) < 0.05e6);

        BandwidthEstimator outlier;
        for (int i = 0; i < 50; ++i) outlier.observeBps(1e6);
        QVERIFY(!outlier.observeBps(1e4));  // one sample 100x off
        for (int i = 0; i < 50; ++i) QVERIFY(!outlier.observeBps(1e6));
        QCOMPARE(outlier.changePoints(), int64_t(0));

        for (const auto& [factor, firesOn] : {std::pair{10.0, 2}, std::pair{0.1, 2}, std::pair{2.0, 3}, std::pair{0.5, 3}}) {
            BandwidthEstimator e;
            for (int i = 0; i < 50; ++i) e.observeBps(1e6);
            int fired = 0;
            for (int i = 1; i <= 10 && !fired; ++i)
                if (e.observeBps(1e6 * factor)) fired = i;
            QCOMPARE(fired, firesOn);
            // After the change point the estimate restarts from the new level.
            for (int i = 0; i < 5; ++i) e.observeBps(1e6 * factor);
            QVERIFY(std::abs(std::log2(e.estimateBps() / (1e6 * factor))) < 0.01);
        }
        // The per-message overhead comes off the transfer before the throughput is taken.
        BandwidthEstimator withOverhead(0.5);
        withOverhead.observe(1000, 8.5);  // 8,000 bits in 8 ms on the wire
        QVERIFY(std::abs(withOverhead.estimateBps() - 1e6) < 1.0);
    }

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

    void badDynamicInputGetsOneLine() {
        const QString db = dir_.filePath("dynamic.sqlite");
        const QString decreasing = writeFile("decreasing.csv", "0,1000\n5,300\n4,200\n");
        for (const auto& [args, fragment] :
             {std::pair{QStringList{"run", "--db", db, "--trace", decreasing, "--count", "1"}, "time stamps must increase"},
              std::pair{QStringList{"run", "--db", db, "--dynamic", "--count", "1"}, "--dynamic needs --policy"},
              std::pair{QStringList{"run", "--db", db, "--trace", decreasing, "--measure-only"}, "--measure-only"},
              std::pair{QStringList{"run", "--db", db, "--device-slowdown", "0.5"}, "--device-slowdown must be"}}) {
            const Run r = cli(args, 60000);
            QVERIFY2(r.code != 0 && r.code != -1, fragment);
            QVERIFY2(r.err.count('\n') == 1 && r.err.contains(fragment), r.err.constData());
        }
    }

    // A planned run's device waits as it was profiled unless told otherwise, and one line warns
    // when it is told otherwise (the stretch's wait changes how fast the device computes).
    void aPlannedRunWaitsAsTheDeviceWasProfiled() {
        const QString db = dir_.filePath("sleeping.sqlite");
        const Run prof = cli({"profile", "--db", db, "--no-synthetic", "--repeats", "3", "--span", "0", "--device-slowdown", "4",
                              "--slowdown-wait", "sleep"});
        QVERIFY2(prof.code == 0, prof.err.constData());
        QCOMPARE(edgent::test::scalar(db.toStdString(), "SELECT count(*) FROM profiles WHERE node='device' AND slowdown_wait='sleep'"),
                 1.0);
        const QStringList planned{"run", "--db", db, "--policy", "edgent", "--bandwidth", "1Mbps", "--deadline", "100ms", "--count", "3"};
        const Run same = cli(planned);
        QVERIFY2(same.code == 0, same.err.constData());
        QVERIFY2(!same.err.contains("warning"), same.err.constData());  // it slept, as profiled
        const Run spinning = cli(QStringList(planned) << "--slowdown-wait" << "spin");
        QVERIFY2(spinning.code == 0, spinning.err.constData());
        QVERIFY2(spinning.err.count("warning:") == 1 &&
                     spinning.err.contains("warning: the device's slowdown was profiled with --slowdown-wait sleep, this run uses "
                                           "spin; the plan will be off\n"),
                 spinning.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestDynamic)
#include "tst_dynamic.moc"
