// Bandwidth traces, the CUSUM change-point detector, and what the CLI says about a dynamic or
// planned run's input. Nothing here is timed, so it runs beside other tests (tst_dynamic, alone, runs
// a real dynamic run).
#include "RunTestUtil.h"
#include "TestUtil.h"

#include "core/plan/Dynamic.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace edgent::core::plan;

class TestTrace : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

    using Run = edgent::test::CliRun;
    static Run cli(const QStringList& args, int timeoutMs = 300000) { return edgent::test::runCli(args, timeoutMs); }
    QString writeFile(const QString& name, const QByteArray& text) { return edgent::test::writeFile(dir_, name, text); }

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

QTEST_GUILESS_MAIN(TestTrace)
#include "tst_trace.moc"
