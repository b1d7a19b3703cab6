// The run store: schema, migrations, refusals that leave files untouched, exports.
#include "TestUtil.h"

#include "core/store/Export.h"
#include "core/store/RunStore.h"
#include "core/store/Schema.h"

#include <QCryptographicHash>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>
#include <unistd.h>

using namespace edgent::core;
using namespace edgent::core::store;

namespace {

QByteArray sha(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

// Samples recorded from a real co-inference run (tests/data/recorded-samples.csv).
std::vector<SampleRow> recordedSamples() {
    auto rows = readSamplesCsv(edgent::test::dataFile("recorded-samples.csv"));
    return rows ? std::move(rows).value() : std::vector<SampleRow>{};
}

int64_t count(sqlite3* db, const char* sql) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, sql, -1, &s, nullptr);
    int64_t n = -1;
    if (sqlite3_step(s) == SQLITE_ROW) n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

}  // namespace

class TestStore : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

    int64_t newRun(RunStore& store, const char* experiment = "tests") {
        RunStart start;
        start.experiment = experiment;
        start.policy = "manual";
        start.params = {{"bandwidth_bps", "1000000"}, {"exit", "4"}};
        auto id = store.beginRun(start);
        if (!id) qFatal("%s", id.error().c_str());
        return *id;
    }

private Q_SLOTS:
    void recordedFixtureIsPresent() { QVERIFY(recordedSamples().size() >= 50); }

    void createsTheCurrentSchemaInWalMode() {
        const std::string path = dir_.filePath("new.sqlite").toStdString();
        auto store = RunStore::open(path);
        QVERIFY2(store.ok(), store.error().c_str());
        QCOMPARE((*store)->schemaVersion(), kSchemaVersion);
        QCOMPARE(count((*store)->handle(),
                       "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN "
                       "('experiments','runs','run_params','samples','events','profiles','regressions','models')"),
                 int64_t(8));
        sqlite3_stmt* s = nullptr;
        sqlite3_prepare_v2((*store)->handle(), "PRAGMA journal_mode", -1, &s, nullptr);
        QCOMPARE(sqlite3_step(s), SQLITE_ROW);
        QCOMPARE(QByteArray(reinterpret_cast<const char*>(sqlite3_column_text(s, 0))), QByteArray("wal"));
        sqlite3_finalize(s);
    }

    void storesRunsSamplesAndEvents() {
        const std::string path = dir_.filePath("runs.sqlite").toStdString();
        auto store = RunStore::open(path);
        QVERIFY(store.ok());
        ModelRecord m;
        m.hash = modelHash("{}", "weights");
        m.name = "fixture";
        m.specJson = "{}";
        auto modelId = (*store)->upsertModel(m);
        QVERIFY(modelId.ok());
        QCOMPARE(*(*store)->upsertModel(m), *modelId);  // same hash, same row
        RunStart start;
        start.modelId = *modelId;
        start.modelHash = m.hash;
        start.params = {{"deadline_ms", "300"}};
        auto id = (*store)->beginRun(start);
        QVERIFY(id.ok());
        auto rows = recordedSamples();
        rows[0].predictedMs = 12.5;
        rows[0].energyMj = 3.25;
        rows[0].energySource = "model";
        rows[2].sample.codec = "int8+zstd";
        rows[2].sample.encodeMs = 0.125;
        rows[2].sample.decodeMs = 0.0625;
        QVERIFY((*store)->insertSamples(*id, rows).ok());
        EventRow e;
        e.tMs = 10;
        e.kind = "slider";
        e.message = "bandwidth 1 Mbps";
        e.value = 1e6;
        QVERIFY((*store)->insertEvents(*id, {e}).ok());
        QVERIFY((*store)->finishRun(*id, "finished").ok());
        auto back = (*store)->samples(*id);
        QVERIFY(back.ok());
        QCOMPARE(back->size(), rows.size());
        QCOMPARE(back->at(7).sample.totalMs, rows[7].sample.totalMs);
        QCOMPARE(back->at(0).predictedMs, 12.5);
        QCOMPARE(back->at(2).sample.codec, std::string("int8+zstd"));
        QCOMPARE(back->at(2).sample.encodeMs, 0.125);
        QCOMPARE(back->at(2).sample.decodeMs, 0.0625);
        QVERIFY(std::isnan(back->at(1).predictedMs));
        auto info = (*store)->run(*id);
        QVERIFY(info.ok());
        QCOMPARE(info->status, std::string("finished"));
        QCOMPARE(info->modelName, std::string("fixture"));
        QCOMPARE(info->params.at("deadline_ms"), std::string("300"));
        QVERIFY(!info->host.empty() && !info->libtorchVersion.empty() && !info->workbenchVersion.empty());
        auto stats = (*store)->stats(*id);
        QVERIFY(stats.ok());
        int correct = 0;
        for (const auto& r : rows) correct += r.sample.correct();
        QCOMPARE(stats->accuracy, static_cast<double>(correct) / static_cast<double>(rows.size()));
        // Nearest-rank percentiles, computed here independently.
        std::vector<double> totals;
        for (const auto& r : rows) totals.push_back(r.sample.totalMs);
        std::sort(totals.begin(), totals.end());
        const size_t n = totals.size();
        QCOMPARE(stats->latencyMsP50, totals[static_cast<size_t>(std::ceil(0.5 * static_cast<double>(n))) - 1]);
        QCOMPARE(stats->latencyMsP95, totals[static_cast<size_t>(std::ceil(0.95 * static_cast<double>(n))) - 1]);
        QVERIFY(stats->latencyMsP95 >= stats->latencyMsP50);
        QCOMPARE(stats->energyMjMean, 3.25);
        QCOMPARE((*store)->events(*id)->at(0).kind, std::string("slider"));
    }

    void upgradesAnOlderDatabaseKeepingItsRuns() {
        const QString copy = dir_.filePath("v1.sqlite");
        QVERIFY(QFile::copy(edgent::test::dataPath("runs-v1.sqlite"), copy));
        QFile::setPermissions(copy, QFile::ReadOwner | QFile::WriteOwner);
        {
            auto ro = RunStore::open(copy.toStdString(), RunStore::Mode::ReadOnly);
            QVERIFY(!ro.ok());
            QVERIFY2(ro.error().find("open it read-write once to upgrade") != std::string::npos, ro.error().c_str());
        }
        auto store = RunStore::open(copy.toStdString());
        QVERIFY2(store.ok(), store.error().c_str());
        QCOMPARE((*store)->schemaVersion(), kSchemaVersion);
        auto runs = (*store)->listRuns();
        QVERIFY(runs.ok());
        QCOMPARE(runs->size(), size_t(1));
        QCOMPARE(runs->at(0).status, std::string("finished"));
        QVERIFY(runs->at(0).sampleCount > 0);
        QCOMPARE(count((*store)->handle(), "SELECT count(*) FROM pragma_table_info('samples') WHERE name='bandwidth_state'"),
                 int64_t(1));
        // Schema 8: a sample that sent a cut tensor then sent it as fp32, the only codec there was.
        QCOMPARE(count((*store)->handle(),
                       "SELECT count(*) FROM samples WHERE partition > 0 AND bytes_sent > 0 AND (codec IS NOT 'fp32' OR encode_ms != 0)"),
                 int64_t(0));
        QCOMPARE(count((*store)->handle(), "SELECT count(*) FROM samples WHERE codec IS NOT NULL AND partition = 0"), int64_t(0));
    }

    void refusesANewerDatabaseUntouched() {
        const QString path = dir_.filePath("future.sqlite");
        {
            auto store = RunStore::open(path.toStdString());
            QVERIFY(store.ok());
            QCOMPARE(sqlite3_exec((*store)->handle(), "PRAGMA user_version=99", nullptr, nullptr, nullptr), SQLITE_OK);
        }
        const QByteArray before = sha(path);
        auto store = RunStore::open(path.toStdString());
        QVERIFY(!store.ok());
        QVERIFY2(store.error().find("schema version 99, newer than this build's") != std::string::npos, store.error().c_str());
        QCOMPARE(sha(path), before);
    }

    void refusesFilesThatAreNotRunDatabases_data() {
        QTest::addColumn<QString>("fixture");
        QTest::addColumn<QString>("expected");
        QTest::newRow("text file") << "not-a-database.sqlite"
                                   << "is not an Edgent run database";
        QTest::newRow("corrupt pages") << "corrupt.sqlite"
                                       << "corrupt";
        QTest::newRow("someone else's sqlite") << "foreign.sqlite"
                                               << "not an Edgent run database";
    }
    void refusesFilesThatAreNotRunDatabases() {
        QFETCH(QString, fixture);
        QFETCH(QString, expected);
        const QString copy = dir_.filePath("copy-" + fixture);
        QFile::remove(copy);
        QVERIFY(QFile::copy(edgent::test::dataPath(fixture), copy));
        QFile::setPermissions(copy, QFile::ReadOwner | QFile::WriteOwner);
        const QByteArray before = sha(copy);
        for (auto mode : {RunStore::Mode::ReadWrite, RunStore::Mode::ReadOnly}) {
            auto store = RunStore::open(copy.toStdString(), mode);
            QVERIFY(!store.ok());
            QVERIFY2(store.error().find(expected.toStdString()) != std::string::npos, store.error().c_str());
            QVERIFY(store.error().find('\n') == std::string::npos);
        }
        QCOMPARE(sha(copy), before);
        QVERIFY(!QFile::exists(copy + "-wal"));
    }

    void runLeftRunningByADeadProcessIsInterrupted() {
        const std::string path = dir_.filePath("orphan.sqlite").toStdString();
        int64_t id;
        {
            auto store = RunStore::open(path);
            id = newRun(**store);
            // Pretend the run belongs to a process that no longer exists.
            QCOMPARE(sqlite3_exec((*store)->handle(), "UPDATE runs SET pid=2147483600", nullptr, nullptr, nullptr), SQLITE_OK);
        }
        auto store = RunStore::open(path);
        QVERIFY(store.ok());
        QCOMPARE((*store)->interruptedOnOpen(), std::vector<int64_t>{id});
        QCOMPARE((*store)->run(id)->status, std::string("interrupted"));
    }

    void fleetLeftRunningByADeadControllerIsInterrupted() {
        const std::string path = dir_.filePath("orphan-fleet.sqlite").toStdString();
        int64_t dead, live;
        auto first = RunStore::open(path);
        dead = *(*first)->beginFleet("fleet", "joint", "{}");
        live = *(*first)->beginFleet("fleet", "independent", "{}");
        // The first fleet's controller no longer exists; the second's (this process) does.
        const std::string orphan = "UPDATE fleets SET pid=2147483600 WHERE id=" + std::to_string(dead);
        QCOMPARE(sqlite3_exec((*first)->handle(), orphan.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
        QCOMPARE((*first)->fleet(dead)->status, std::string("interrupted"));  // as read, before any open records it
        auto second = RunStore::open(path);
        QVERIFY(second.ok());
        QCOMPARE((*second)->interruptedFleetsOnOpen(), std::vector<int64_t>{dead});
        const auto f = (*second)->fleet(dead);
        QCOMPARE(f->status, std::string("interrupted"));
        QVERIFY(!f->finishedAt.empty());
        QVERIFY(f->error.find("controller") != std::string::npos);
        QCOMPARE((*second)->fleet(live)->status, std::string("running"));
        QCOMPARE((*second)->fleet(live)->pid, static_cast<int64_t>(::getpid()));
    }

    void aFleetOfSchema10KeepsItsEdgeRowsAsEdgeZero() {
        const std::string path = dir_.filePath("fleet-v10.sqlite").toStdString();
        {
            sqlite3* db = nullptr;
            QCOMPARE(sqlite3_open(path.c_str(), &db), SQLITE_OK);
            for (int v = 0; v < 10; ++v) QCOMPARE(sqlite3_exec(db, migrationSql(v), nullptr, nullptr, nullptr), SQLITE_OK);
            const char* fleet =
                "PRAGMA user_version=10;"
                "INSERT INTO fleets(id, experiment, created_at, planning, status, params_json) VALUES(1, 'e', 't', 'joint', "
                "'finished', '{}');"
                "INSERT INTO fleet_devices(fleet_id, device, joined_ms) VALUES(1, 0, 0), (1, 1, 5);"
                "INSERT INTO fleet_edge(fleet_id, t_ms, queue_length, queue_peak, frames_out, shed, service_ms_sum) VALUES"
                "(1, 250, 1, 2, 10, 0, 40.5), (1, 500, 0, 2, 20, 1, 81.0);";
            QCOMPARE(sqlite3_exec(db, fleet, nullptr, nullptr, nullptr), SQLITE_OK);
            sqlite3_close(db);
        }
        auto store = RunStore::open(path);
        QVERIFY2(store.ok(), store.error().c_str());
        QCOMPARE((*store)->schemaVersion(), kSchemaVersion);
        auto f = (*store)->fleet(1);
        QVERIFY2(f.ok(), f.error().c_str());
        QCOMPARE(f->devices.size(), size_t(2));
        QCOMPARE(f->devices[1].edge, 0);
        QCOMPARE(f->edge.size(), size_t(2));
        QCOMPARE(f->edge[1].edge, 0);
        QCOMPARE(f->edge[1].serviceMsSum, 81.0);
        QCOMPARE(f->edge[1].shed, int64_t(1));
        // Two edges polled at the same instant are two rows now.
        QVERIFY((*store)->addFleetEdge(1, FleetEdgeRow{1, 500.0, 3, 3, 7, 0, 12.0}).ok());
        f = (*store)->fleet(1);
        QCOMPARE(f->edge.size(), size_t(3));
        QCOMPARE(f->edge[2].edge, 1);
        QCOMPARE(f->edge[2].framesOut, int64_t(7));
    }

    void runOfALiveProcessStaysRunning() {
        const std::string path = dir_.filePath("live.sqlite").toStdString();
        auto first = RunStore::open(path);
        const int64_t id = newRun(**first);
        auto second = RunStore::open(path);  // our own process is alive
        QVERIFY(second.ok());
        QVERIFY((*second)->interruptedOnOpen().empty());
        QCOMPARE((*second)->run(id)->status, std::string("running"));
    }

    void writerBatchesOffTheCallingThreadAndFinishes() {
        const std::string path = dir_.filePath("writer.sqlite").toStdString();
        auto store = RunStore::open(path);
        const int64_t id = newRun(**store);
        std::atomic<int64_t> lastCommit{0};
        SampleWriter::Options o;
        o.batchRows = 64;
        o.onCommit = [&](int64_t n) { lastCommit = n; };
        auto writer = SampleWriter::start(path, id, o);
        QVERIFY2(writer.ok(), writer.error().c_str());
        const auto rows = recordedSamples();
        for (int round = 0; round < 10; ++round)
            for (SampleRow r : rows) {
                r.sample.sequence += static_cast<uint64_t>(round) * 10000;
                (*writer)->add(r);
            }
        QVERIFY((*writer)->finish("finished").ok());
        QCOMPARE((*writer)->committedSamples(), static_cast<int64_t>(rows.size() * 10));
        QCOMPARE(lastCommit.load(), static_cast<int64_t>(rows.size() * 10));
        QCOMPARE((*store)->run(id)->sampleCount, static_cast<int64_t>(rows.size() * 10));
        QCOMPARE((*store)->run(id)->status, std::string("finished"));
    }

    // A writer that could store every sample but not every event says which were lost.
    void aWriterThatLosesEventsSaysEventsNotSamples() {
        const std::string path = dir_.filePath("lost-events.sqlite").toStdString();
        auto store = RunStore::open(path);
        const int64_t id = newRun(**store);
        // Every event insert fails from now on; sample inserts do not.
        char* message = nullptr;
        QCOMPARE(sqlite3_exec((*store)->handle(),
                              "CREATE TRIGGER no_events BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'blocked'); END",
                              nullptr, nullptr, &message),
                 SQLITE_OK);
        auto writer = SampleWriter::start(path, id);
        QVERIFY(writer.ok());
        const auto rows = recordedSamples();
        for (const SampleRow& r : rows) (*writer)->add(r);
        EventRow e;
        e.kind = "bandwidth";
        e.message = "test";
        (*writer)->addEvent(e);
        (*writer)->addEvent(e);
        const Status s = (*writer)->finish("finished");
        QVERIFY(!s.ok());
        QVERIFY2(s.error().find("2 events") != std::string::npos, s.error().c_str());
        QVERIFY2(s.error().find("samples") == std::string::npos, s.error().c_str());
        QVERIFY2(s.error().find("blocked") != std::string::npos, s.error().c_str());
        QCOMPARE((*store)->run(id)->sampleCount, static_cast<int64_t>(rows.size()));
    }

    // What a profile records comes back whole, its duration included (the Profile tab showed
    // "in 0.0 s" when it did not).
    void aStoredProfileKeepsItsDuration() {
        const std::string path = dir_.filePath("profile.sqlite").toStdString();
        auto store = RunStore::open(path);
        QVERIFY(store.ok());
        ModelRecord m;
        m.hash = "abc";
        m.name = "m";
        m.specJson = "{}";
        auto modelId = (*store)->upsertModel(m);
        QVERIFY(modelId.ok());
        edgent::core::profile::ProfileResult r;
        r.seconds = 12.5;
        edgent::core::profile::LayerTiming t;
        t.source = "model";
        t.kind = edgent::core::LayerKind::Relu;
        t.features = {784};
        t.medianMs = 0.01;
        r.layers.push_back(t);
        auto id = (*store)->saveProfile(*modelId, "edge", "host", 1, edgent::core::profile::ProfileOptions{}, r, 0.1, 0.2, 1.1,
                                        0.35);
        QVERIFY2(id.ok(), id.ok() ? "" : id.error().c_str());
        auto back = (*store)->latestProfile("abc", "edge");
        QVERIFY(back.ok());
        QCOMPARE(back->result.seconds, 12.5);
        QCOMPARE(back->result.layers.size(), size_t(1));
        QCOMPARE(back->tailRatio, 1.1);
        QCOMPARE(back->sliceMs, 0.35);
        // A profile from before schema 15 has no slice cost after migration: it reads as 0.
        QCOMPARE(sqlite3_exec((*store)->handle(), "UPDATE profiles SET slice_ms = NULL", nullptr, nullptr, nullptr), SQLITE_OK);
        back = (*store)->latestProfile("abc", "edge");
        QVERIFY(back.ok());
        QCOMPARE(back->sliceMs, 0.0);
    }

    void exportsCsvJsonAndStandaloneSqlite() {
        const std::string path = dir_.filePath("export.sqlite").toStdString();
        auto store = RunStore::open(path);
        const int64_t other = newRun(**store, "other");
        const int64_t id = newRun(**store);
        auto rows = recordedSamples();
        rows[1].sample.codec = "fp16";
        rows[1].sample.encodeMs = 0.5;
        QVERIFY((*store)->insertSamples(id, rows).ok());
        QVERIFY((*store)->insertSamples(other, {rows[0]}).ok());
        QVERIFY((*store)->finishRun(id, "finished").ok());

        const QString csv = dir_.filePath("run.csv");
        QVERIFY(exportRun(**store, id, csv.toStdString()).ok());
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), static_cast<qsizetype>(rows.size() + 1));
        QVERIFY(lines[0].startsWith("run_id,seq,device_time_ms"));
        // Values survive the round trip (12 significant digits).
        for (int i = 1; i < lines.size(); i += 13) {
            const QList<QByteArray> c = lines[i].split(',');
            const SampleRow& r = rows[static_cast<size_t>(i - 1)];
            QCOMPARE(c[1].toULongLong(), r.sample.sequence);
            QVERIFY(std::abs(c[12].toDouble() - r.sample.totalMs) <= 1e-9 * r.sample.totalMs);
            QVERIFY(std::abs(c[2].toDouble() - r.sample.deviceTimeMs) <= 1e-9 * std::max(1.0, r.sample.deviceTimeMs));
            QCOMPARE(c[13].toLongLong(), r.sample.bytesSent);
        }
        QVERIFY(lines[0].contains("total_ms") && lines[0].contains("bytes_sent") && lines[0].contains("energy_mj"));
        // The codec columns read back as they were written.
        auto back = readSamplesCsv(csv.toStdString());
        QVERIFY(back.ok());
        QCOMPARE(back->at(1).sample.codec, std::string("fp16"));
        QCOMPARE(back->at(1).sample.encodeMs, 0.5);

        const QString json = dir_.filePath("run.json");
        QVERIFY(exportRun(**store, id, json.toStdString()).ok());
        QFile j(json);
        QVERIFY(j.open(QIODevice::ReadOnly));
        const QJsonObject o = QJsonDocument::fromJson(j.readAll()).object();
        QCOMPARE(o["inferences"].toInt(), static_cast<int>(rows.size()));
        QCOMPARE(o["status"].toString(), QStringLiteral("finished"));

        const QString single = dir_.filePath("single.sqlite");
        const Status s = exportRun(**store, id, single.toStdString());
        QVERIFY2(s.ok(), s.error().c_str());
        auto exported = RunStore::open(single.toStdString(), RunStore::Mode::ReadOnly);
        QVERIFY2(exported.ok(), exported.error().c_str());
        auto runs = (*exported)->listRuns();
        QCOMPARE(runs->size(), size_t(1));
        QCOMPARE(runs->at(0).id, id);
        QCOMPARE(runs->at(0).sampleCount, static_cast<int64_t>(rows.size()));
        QVERIFY(!QFile::exists(single + "-wal") || QFileInfo(single + "-wal").size() == 0);
        const Status self = exportRun(**store, id, path);
        QVERIFY(!self.ok());
        QVERIFY2(self.error().find("over its own database") != std::string::npos, self.error().c_str());
        QCOMPARE((*store)->listRuns()->size(), size_t(2));
    }

    void exportErrorsAreClear() {
        const std::string path = dir_.filePath("errors.sqlite").toStdString();
        auto store = RunStore::open(path);
        const int64_t id = newRun(**store);
        Status s = exportRun(**store, 999, dir_.filePath("x.csv").toStdString());
        QVERIFY(!s.ok());
        QVERIFY2(s.error().find("has no run 999") != std::string::npos, s.error().c_str());
        s = exportRun(**store, id, "/nonexistent-dir/run.csv");
        QVERIFY(!s.ok());
        QVERIFY2(s.error().find("cannot write /nonexistent-dir/run.csv") != std::string::npos, s.error().c_str());
        s = exportRun(**store, id, dir_.filePath("run.docx").toStdString());
        QVERIFY(!s.ok());
        QVERIFY(s.error().find("cannot tell the export format") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestStore)
#include "tst_store.moc"
