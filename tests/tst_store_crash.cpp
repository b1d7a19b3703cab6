// Durability for real: a child process writes samples and is killed with SIGKILL at random
// moments, again and again. Afterwards the database passes integrity_check, the run is
// marked interrupted, and every sample the child reported as committed is there.
#include "TestUtil.h"

#include "core/control/LocalWorkers.h"
#include "core/store/RunStore.h"

#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <random>
#include <sqlite3.h>

using namespace edgent::core;
using namespace edgent::core::store;

class TestStoreCrash : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void killedWriterLosesNothingItCommitted() {
        QTemporaryDir dir;
        const std::string db = dir.filePath("crash.sqlite").toStdString();
        std::mt19937 rng(20261123);
        std::uniform_int_distribution<int> delayMs(30, 400);
        int64_t expectedTotal = 0;
        for (int round = 0; round < 8; ++round) {
            control::ChildProcess child;
            QVERIFY(child.start(EDGENT_CRASHER_PATH, {db, edgent::test::dataFile("recorded-samples.csv")}).ok());
            auto first = child.readLine(10000);
            QVERIFY2(first.ok(), first.error().c_str());
            QVERIFY(first->rfind("run ", 0) == 0);
            const int64_t runId = std::stoll(first->substr(4));
            int64_t committed = 0;
            const auto killAt = std::chrono::steady_clock::now() + std::chrono::milliseconds(delayMs(rng));
            while (std::chrono::steady_clock::now() < killAt) {
                auto line = child.readLine(50);
                if (line && line->rfind("committed ", 0) == 0) committed = std::stoll(line->substr(10));
            }
            ::kill(child.pid(), SIGKILL);
            // Lines already in the pipe were printed after their commit returned.
            while (true) {
                auto line = child.readLine(200);
                if (!line) break;
                if (line->rfind("committed ", 0) == 0) committed = std::stoll(line->substr(10));
            }
            child.stop(1000);

            auto store = RunStore::open(db);
            QVERIFY2(store.ok(), store.error().c_str());
            QCOMPARE(*(*store)->quickCheck(), std::string("ok"));
            sqlite3_stmt* s = nullptr;
            sqlite3_prepare_v2((*store)->handle(), "PRAGMA integrity_check", -1, &s, nullptr);
            QCOMPARE(sqlite3_step(s), SQLITE_ROW);
            QCOMPARE(QByteArray(reinterpret_cast<const char*>(sqlite3_column_text(s, 0))), QByteArray("ok"));
            sqlite3_finalize(s);
            auto run = (*store)->run(runId);
            QVERIFY(run.ok());
            QCOMPARE(run->status, std::string("interrupted"));
            QVERIFY2(
                run->sampleCount >= committed,
                qPrintable(QStringLiteral("round %1: %2 stored < %3 committed").arg(round).arg(run->sampleCount).arg(committed)));
            expectedTotal += committed;
            qInfo("round %d: killed after %lld committed samples; %lld stored", round, static_cast<long long>(committed),
                  static_cast<long long>(run->sampleCount));
        }
        QVERIFY2(expectedTotal > 0, "the child committed something before being killed");
    }
};

QTEST_GUILESS_MAIN(TestStoreCrash)
#include "tst_store_crash.moc"
