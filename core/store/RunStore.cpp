#include "core/store/RunStore.h"

#include "core/store/Schema.h"
#include "core/store/Sql.h"
#include "core/util/Stats.h"

#include <QDateTime>
#include <QFileInfo>
#include <QSysInfo>

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <csignal>
#include <unistd.h>

#ifndef EDGENT_VERSION
#define EDGENT_VERSION "0.0.0"
#endif
#ifndef EDGENT_GIT_REVISION
#define EDGENT_GIT_REVISION "unknown"
#endif
#ifndef EDGENT_LIBTORCH_VERSION
#define EDGENT_LIBTORCH_VERSION "unknown"
#endif

namespace edgent::core::store {

std::string hostName() { return QSysInfo::machineHostName().toStdString(); }

bool processAlive(int64_t pid) {
    if (pid <= 0) return false;
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

namespace {

constexpr const char* kSampleColumns =
    "seq, device_time_ms, image_index, exit, partition, label, prediction, correct, device_ms, transfer_ms, edge_ms, "
    "total_ms, bytes_sent, bandwidth_bps, throughput_bps, predicted_ms, energy_mj, energy_source, bandwidth_state, "
    "config_source, exit_taken, confidence, sent_to_edge, codec, encode_ms, decode_ms, queue_ms, busy, device";

}  // namespace

std::string nowIso() {
    return QDateTime::currentDateTime()
        .toOffsetFromUtc(QDateTime::currentDateTime().offsetFromUtc())
        .toString(Qt::ISODateWithMs)
        .toStdString();
}

Status RunStore::commit() {
    if (auto s = exec("COMMIT"); !s) {
        (void)exec("ROLLBACK");
        return s;
    }
    return Status::success();
}

Status RunStore::exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
        std::string why = message ? message : sqlite3_errmsg(db_);
        sqlite3_free(message);
        return makeError("database " + path_ + ": " + why);
    }
    return Status::success();
}

Result<std::unique_ptr<RunStore>> RunStore::open(const std::string& path, Mode mode) {
    const QFileInfo info(QString::fromStdString(path));
    if (mode == Mode::ReadOnly && !info.exists()) return makeError("database " + path + " does not exist");
    if (info.exists() && !info.isFile()) return makeError(path + " is not a file");
    std::unique_ptr<RunStore> store(new RunStore());
    store->path_ = path;
    const int flags = mode == Mode::ReadOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path.c_str(), &store->db_, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, nullptr) != SQLITE_OK)
        return makeError("cannot open database " + path + ": " + sqlite3_errmsg(store->db_));
    sqlite3_busy_timeout(store->db_, 5000);
    sqlite3_extended_result_codes(store->db_, 1);

    // Read before anything writes: a file that is not a database fails here untouched.
    int version = 0;
    {
        Stmt s(store->db_, "PRAGMA user_version");
        if (!s.ok() || s.step() != SQLITE_ROW)
            return makeError(path + " is not an Edgent run database (" + sqlite3_errstr(sqlite3_errcode(store->db_)) + ")");
        version = static_cast<int>(s.i64(0));
    }
    if (version > kSchemaVersion)
        return makeError("database " + path + " has schema version " + std::to_string(version) + ", newer than this build's " +
                         std::to_string(kSchemaVersion) + "; use a newer Edgent Workbench");
    if (info.exists() && info.size() > 0) {
        auto check = store->quickCheck();
        if (!check) return makeError(check.error());
        if (*check != "ok") {
            // quick_check reports one problem per line; the first says enough.
            std::string first = *check;
            for (const char* marker : {"*** in database main ***", "\n", "; "}) {
                const auto at = first.find(marker);
                if (at == 0) first.erase(0, std::strlen(marker));
            }
            first = first.substr(0, first.find_first_of("\n;"));
            return makeError("database " + path + " is corrupt (" + first + ")");
        }
        if (version == 0) {
            // A non-empty SQLite file without our schema is someone else's database.
            Stmt t(store->db_, "SELECT count(*) FROM sqlite_master");
            if (t.step() == SQLITE_ROW && t.i64(0) > 0)
                return makeError(path + " is an SQLite database, but not an Edgent run database");
        }
    }
    if (mode == Mode::ReadOnly) {
        if (version < kSchemaVersion)
            return makeError("database " + path + " has schema version " + std::to_string(version) +
                             "; open it read-write once to upgrade it");
        return store;
    }
    if (auto s = store->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON"); !s)
        return makeError(s.error());
    for (int v = version; v < kSchemaVersion; ++v) {
        if (auto s = store->exec("BEGIN IMMEDIATE"); !s) return makeError(s.error());
        if (auto s = store->exec(migrationSql(v)); !s) {
            (void)store->exec("ROLLBACK");
            return makeError("migrating " + path + " to schema version " + std::to_string(v + 1) + " failed: " + s.error());
        }
        const std::string bump = "PRAGMA user_version=" + std::to_string(v + 1);
        if (auto s = store->exec(bump.c_str()); !s) {
            (void)store->exec("ROLLBACK");
            return makeError(s.error());
        }
        if (auto s = store->commit(); !s) return makeError(s.error());
    }
    // Runs whose process on this host is gone were interrupted (a crash, a kill, power loss).
    std::vector<int64_t> dead;
    {
        Stmt s(store->db_, "SELECT id, pid FROM runs WHERE status='running' AND host=?1");
        s.bind(1, hostName());
        while (s.step() == SQLITE_ROW)
            if (!processAlive(s.i64(1))) dead.push_back(s.i64(0));
    }
    for (int64_t id : dead) {
        Stmt u(store->db_,
               "UPDATE runs SET status='interrupted', ended_at=?1, "
               "error=coalesce(error, 'the process ended while the run was open') WHERE id=?2");
        u.bind(1, nowIso()).bind(2, id);
        if (u.step() != SQLITE_DONE) return makeError("database " + path + ": " + u.error());
        store->interrupted_.push_back(id);
    }
    // Fleets too: their controller's process is the fleet's owner.
    dead.clear();
    {
        Stmt s(store->db_, "SELECT id, pid FROM fleets WHERE status='running' AND host=?1");
        s.bind(1, hostName());
        while (s.step() == SQLITE_ROW)
            if (!processAlive(s.i64(1))) dead.push_back(s.i64(0));
    }
    for (int64_t id : dead) {
        Stmt u(store->db_,
               "UPDATE fleets SET status='interrupted', finished_at=?1, "
               "error=coalesce(error, 'the controller ended while the fleet was open') WHERE id=?2");
        u.bind(1, nowIso()).bind(2, id);
        if (u.step() != SQLITE_DONE) return makeError("database " + path + ": " + u.error());
        store->interruptedFleets_.push_back(id);
    }
    return store;
}

RunStore::~RunStore() {
    if (db_) sqlite3_close_v2(db_);
}

int RunStore::schemaVersion() const {
    Stmt s(db_, "PRAGMA user_version");
    return s.step() == SQLITE_ROW ? static_cast<int>(s.i64(0)) : -1;
}

Result<std::string> RunStore::quickCheck() {
    Stmt s(db_, "PRAGMA quick_check");
    if (!s.ok()) return makeError(path_ + " is not an Edgent run database (" + s.error() + ")");
    std::string result;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) result += (result.empty() ? "" : "; ") + s.text(0);
    if (rc != SQLITE_DONE) return makeError("database " + path_ + " is corrupt (" + sqlite3_errstr(rc) + ")");
    return result;
}

Result<int64_t> RunStore::upsertModel(const ModelRecord& m) {
    {
        Stmt find(db_, "SELECT id FROM models WHERE hash=?1");
        find.bind(1, m.hash);
        if (find.step() == SQLITE_ROW) return find.i64(0);
    }
    std::string acc = "[";
    for (size_t i = 0; i < m.exitAccuracy.size(); ++i) acc += (i ? "," : "") + std::to_string(m.exitAccuracy[i]);
    acc += "]";
    Stmt s(db_,
           "INSERT INTO models(hash, name, spec_json, source_path, weights_bytes, exit_accuracy_json, added_at) "
           "VALUES(?1,?2,?3,?4,?5,?6,?7)");
    s.bind(1, m.hash)
        .bind(2, m.name)
        .bind(3, m.specJson)
        .bind(4, m.sourcePath)
        .bind(5, m.weightsBytes)
        .bind(6, acc)
        .bind(7, nowIso());
    if (s.step() != SQLITE_DONE) return makeError("database " + path_ + ": " + s.error());
    return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

Result<int64_t> RunStore::beginRun(const RunStart& r) {
    if (auto s = exec("BEGIN IMMEDIATE"); !s) return makeError(s.error());
    auto rollback = [&](const std::string& why) -> Result<int64_t> {
        (void)exec("ROLLBACK");
        return makeError("database " + path_ + ": " + why);
    };
    {
        Stmt e(db_, "INSERT OR IGNORE INTO experiments(name, created_at) VALUES(?1, ?2)");
        e.bind(1, r.experiment).bind(2, nowIso());
        if (e.step() != SQLITE_DONE) return rollback(e.error());
    }
    Stmt s(db_,
           "INSERT INTO runs(experiment_id, model_id, status, started_at, host, os, pid, workbench_version, git_revision, "
           "libtorch_version, model_hash, policy) VALUES((SELECT id FROM experiments WHERE name=?1), ?2, 'running', ?3, ?4, "
           "?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    s.bind(1, r.experiment);
    if (r.modelId > 0)
        s.bind(2, r.modelId);
    else
        s.bindNull(2);
    s.bind(3, nowIso())
        .bind(4, hostName())
        .bind(5, QSysInfo::prettyProductName().toStdString())
        .bind(6, static_cast<int64_t>(::getpid()));
    s.bind(7, std::string(EDGENT_VERSION))
        .bind(8, std::string(EDGENT_GIT_REVISION))
        .bind(9, std::string(EDGENT_LIBTORCH_VERSION));
    s.bindTextOrNull(10, r.modelHash).bindTextOrNull(11, r.policy);
    if (s.step() != SQLITE_DONE) return rollback(s.error());
    const int64_t id = sqlite3_last_insert_rowid(db_);
    Stmt p(db_, "INSERT INTO run_params(run_id, key, value) VALUES(?1, ?2, ?3)");
    for (const auto& [k, v] : r.params) {
        p.reset();
        p.bind(1, id).bind(2, k).bind(3, v);
        if (p.step() != SQLITE_DONE) return rollback(p.error());
    }
    if (auto c = commit(); !c) return makeError(c.error());
    return id;
}

Status RunStore::finishRun(int64_t runId, const std::string& status, const std::string& error) {
    Stmt s(db_, "UPDATE runs SET status=?1, ended_at=?2, error=?3 WHERE id=?4");
    s.bind(1, status).bind(2, nowIso()).bindTextOrNull(3, error).bind(4, runId);
    if (s.step() != SQLITE_DONE) return makeError("database " + path_ + ": " + s.error());
    if (sqlite3_changes(db_) != 1) return makeError("database " + path_ + " has no run " + std::to_string(runId));
    return Status::success();
}

Status RunStore::insertSamples(int64_t runId, const std::vector<SampleRow>& rows) {
    if (rows.empty()) return Status::success();
    if (auto s = exec("BEGIN IMMEDIATE"); !s) return s;
    const std::string sql = std::string("INSERT INTO samples(run_id, ") + kSampleColumns +
                            ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28,?29,?30)";
    Stmt s(db_, sql.c_str());
    for (const SampleRow& r : rows) {
        const net::Sample& x = r.sample;
        s.reset();
        s.bind(1, runId).bind(2, static_cast<int64_t>(x.sequence)).bind(3, x.deviceTimeMs).bind(4, x.imageIndex);
        s.bind(5, x.exit).bind(6, x.partition).bind(7, x.label).bind(8, x.prediction).bind(9, x.correct() ? 1 : 0);
        s.bind(10, x.deviceMs).bind(11, x.transferMs).bind(12, x.edgeMs).bind(13, x.totalMs).bind(14, x.bytesSent);
        s.bind(15, x.bandwidthBps).bind(16, x.throughputBps).bind(17, r.predictedMs).bind(18, r.energyMj);
        s.bindTextOrNull(19, r.energySource);
        if (x.bandwidthStateBps >= 0)
            s.bind(20, x.bandwidthStateBps);
        else
            s.bindNull(20);
        s.bindTextOrNull(21, x.configSource);
        s.bind(22, x.exitTaken >= 0 ? x.exitTaken : x.exit).bind(23, x.confidence).bind(24, x.sentToEdge ? 1 : 0);
        s.bindTextOrNull(25, x.codec).bind(26, x.encodeMs).bind(27, x.decodeMs);
        s.bind(28, x.queueMs).bind(29, x.busy ? 1 : 0);
        if (r.device >= 0)
            s.bind(30, static_cast<int64_t>(r.device));
        else
            s.bindNull(30);
        if (s.step() != SQLITE_DONE) {
            const std::string why = s.error();
            (void)exec("ROLLBACK");
            return makeError("database " + path_ + ": " + why);
        }
    }
    return commit();
}

Status RunStore::insertEvents(int64_t runId, const std::vector<EventRow>& rows) {
    if (rows.empty()) return Status::success();
    if (auto s = exec("BEGIN IMMEDIATE"); !s) return s;
    Stmt s(db_, "INSERT INTO events(run_id, t_ms, wall_time, kind, role, message, value) VALUES(?1,?2,?3,?4,?5,?6,?7)");
    for (const EventRow& e : rows) {
        s.reset();
        s.bind(1, runId)
            .bind(2, e.tMs)
            .bind(3, e.wallTime)
            .bind(4, e.kind)
            .bindTextOrNull(5, e.role)
            .bind(6, e.message)
            .bind(7, e.value);
        if (s.step() != SQLITE_DONE) {
            const std::string why = s.error();
            (void)exec("ROLLBACK");
            return makeError("database " + path_ + ": " + why);
        }
    }
    return commit();
}

Result<std::vector<RunInfo>> RunStore::listRuns() {
    Stmt s(db_,
           "SELECT r.id, coalesce(e.name,''), r.status, r.started_at, coalesce(r.ended_at,''), coalesce(r.host,''), "
           "coalesce(r.os,''), coalesce(r.pid,0), coalesce(r.workbench_version,''), coalesce(r.git_revision,''), "
           "coalesce(r.libtorch_version,''), coalesce(r.model_hash,''), coalesce(m.name,''), coalesce(r.policy,''), "
           "coalesce(r.error,''), (SELECT count(*) FROM samples WHERE run_id=r.id) "
           "FROM runs r LEFT JOIN experiments e ON e.id=r.experiment_id LEFT JOIN models m ON m.id=r.model_id ORDER BY r.id");
    if (!s.ok()) return makeError("database " + path_ + ": " + s.error());
    std::vector<RunInfo> runs;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        RunInfo r;
        r.id = s.i64(0);
        r.experiment = s.text(1);
        r.status = s.text(2);
        r.startedAt = s.text(3);
        r.endedAt = s.text(4);
        r.host = s.text(5);
        r.os = s.text(6);
        r.pid = s.i64(7);
        r.workbenchVersion = s.text(8);
        r.gitRevision = s.text(9);
        r.libtorchVersion = s.text(10);
        r.modelHash = s.text(11);
        r.modelName = s.text(12);
        r.policy = s.text(13);
        r.error = s.text(14);
        r.sampleCount = s.i64(15);
        // A read-only open cannot record it, but a run whose process on this host is gone
        // was interrupted all the same.
        if (r.status == "running" && r.host == hostName() && !processAlive(r.pid)) r.status = "interrupted";
        runs.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return makeError("database " + path_ + ": " + s.error());
    // Every run's parameters in one statement (runs are listed in id order).
    Stmt p(db_, "SELECT run_id, key, value FROM run_params ORDER BY run_id");
    size_t at = 0;
    while ((rc = p.step()) == SQLITE_ROW) {
        const int64_t id = p.i64(0);
        while (at < runs.size() && runs[at].id < id) ++at;
        if (at < runs.size() && runs[at].id == id) runs[at].params[p.text(1)] = p.text(2);
    }
    if (rc != SQLITE_DONE) return makeError("database " + path_ + ": " + p.error());
    return runs;
}

Result<RunInfo> RunStore::run(int64_t runId) {
    auto runs = listRuns();
    if (!runs) return makeError(runs.error());
    for (auto& r : *runs)
        if (r.id == runId) {
            Stmt p(db_, "SELECT key, value FROM run_params WHERE run_id=?1 ORDER BY key");
            p.bind(1, runId);
            while (p.step() == SQLITE_ROW) r.params[p.text(0)] = p.text(1);
            return r;
        }
    return makeError("database " + path_ + " has no run " + std::to_string(runId));
}

Result<std::vector<SampleRow>> RunStore::samples(int64_t runId) {
    const std::string sql = std::string("SELECT ") + kSampleColumns + " FROM samples WHERE run_id=?1 ORDER BY seq";
    Stmt s(db_, sql.c_str());
    if (!s.ok()) return makeError("database " + path_ + ": " + s.error());
    s.bind(1, runId);
    std::vector<SampleRow> rows;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        SampleRow r;
        net::Sample& x = r.sample;
        x.sequence = static_cast<uint64_t>(s.i64(0));
        x.deviceTimeMs = s.f64(1);
        x.imageIndex = s.i64(2);
        x.exit = static_cast<int>(s.i64(3));
        x.partition = static_cast<int>(s.i64(4));
        x.label = static_cast<int>(s.i64(5));
        x.prediction = static_cast<int>(s.i64(6));
        x.deviceMs = s.f64(8);
        x.transferMs = s.f64(9);
        x.edgeMs = s.f64(10);
        x.totalMs = s.f64(11);
        x.bytesSent = s.i64(12);
        x.bandwidthBps = s.f64(13);
        x.throughputBps = s.f64(14);
        r.predictedMs = s.f64(15);
        r.energyMj = s.f64(16);
        r.energySource = s.text(17);
        x.bandwidthStateBps = s.isNull(18) ? -1 : s.i64(18);
        x.configSource = s.text(19);
        x.exitTaken = s.isNull(20) ? x.exit : static_cast<int>(s.i64(20));
        x.confidence = s.isNull(21) ? NAN : s.f64(21);
        x.sentToEdge = s.isNull(22) ? false : s.i64(22) != 0;
        x.codec = s.text(23);
        x.encodeMs = s.isNull(24) ? 0.0 : s.f64(24);
        x.decodeMs = s.isNull(25) ? 0.0 : s.f64(25);
        x.queueMs = s.isNull(26) ? 0.0 : s.f64(26);
        x.busy = !s.isNull(27) && s.i64(27) != 0;
        r.device = s.isNull(28) ? -1 : static_cast<int>(s.i64(28));
        rows.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return makeError("database " + path_ + ": " + s.error());
    return rows;
}

Result<std::vector<EventRow>> RunStore::events(int64_t runId) {
    Stmt s(db_,
           "SELECT t_ms, coalesce(wall_time,''), kind, coalesce(role,''), coalesce(message,''), value FROM events "
           "WHERE run_id=?1 ORDER BY id");
    if (!s.ok()) return makeError("database " + path_ + ": " + s.error());
    s.bind(1, runId);
    std::vector<EventRow> rows;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        EventRow e;
        e.tMs = s.f64(0);
        e.wallTime = s.text(1);
        e.kind = s.text(2);
        e.role = s.text(3);
        e.message = s.text(4);
        e.value = s.f64(5);
        rows.push_back(std::move(e));
    }
    if (rc != SQLITE_DONE) return makeError("database " + path_ + ": " + s.error());
    return rows;
}

Result<RunStats> RunStore::stats(int64_t runId) {
    auto rows = samples(runId);
    if (!rows) return makeError(rows.error());
    RunStats st;
    st.samples = static_cast<int64_t>(rows->size());
    if (rows->empty()) return st;
    std::vector<double> latency;
    double energy = 0, predicted = 0;
    int64_t energyN = 0, predictedN = 0, correct = 0;
    for (const auto& r : *rows) {
        const auto& x = r.sample;
        latency.push_back(x.totalMs);
        correct += x.correct();
        st.deviceMsMean += x.deviceMs;
        st.transferMsMean += x.transferMs;
        st.edgeMsMean += x.edgeMs;
        st.latencyMsMean += x.totalMs;
        st.bytesSentMean += static_cast<double>(x.bytesSent);
        if (!std::isnan(r.energyMj)) energy += r.energyMj, ++energyN;
        if (!std::isnan(r.predictedMs)) predicted += r.predictedMs, ++predictedN;
        st.offloadRate += x.sentToEdge ? 1.0 : 0.0;
        const int taken = x.exitTaken >= 0 ? x.exitTaken : x.exit;
        if (taken >= 0 && taken < 64) {
            if (st.exitsTaken.size() <= static_cast<size_t>(taken)) st.exitsTaken.resize(static_cast<size_t>(taken) + 1, 0);
            ++st.exitsTaken[static_cast<size_t>(taken)];
        }
    }
    const double n = static_cast<double>(rows->size());
    st.accuracy = static_cast<double>(correct) / n;
    st.deviceMsMean /= n;
    st.transferMsMean /= n;
    st.edgeMsMean /= n;
    st.latencyMsMean /= n;
    st.bytesSentMean /= n;
    st.offloadRate /= n;
    st.energyMjMean = energyN ? energy / static_cast<double>(energyN) : NAN;
    st.predictedMsMean = predictedN ? predicted / static_cast<double>(predictedN) : NAN;
    std::sort(latency.begin(), latency.end());
    st.latencyMsP50 = nearestRank(latency, 0.5);
    st.latencyMsP95 = nearestRank(latency, 0.95);
    return st;
}

}  // namespace edgent::core::store
