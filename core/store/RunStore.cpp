#include "core/store/RunStore.h"

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

namespace {

// Numbered migrations: entry i brings the schema from version i to i + 1.
const char* const kMigrations[] = {
    // 0 -> 1
    R"sql(
CREATE TABLE experiments(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  notes TEXT);
CREATE TABLE models(
  id INTEGER PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  name TEXT,
  spec_json TEXT NOT NULL,
  source_path TEXT,
  weights_bytes INTEGER,
  exit_accuracy_json TEXT,
  added_at TEXT NOT NULL);
CREATE TABLE runs(
  id INTEGER PRIMARY KEY,
  experiment_id INTEGER REFERENCES experiments(id),
  model_id INTEGER REFERENCES models(id),
  status TEXT NOT NULL CHECK(status IN ('running','finished','failed','interrupted')),
  started_at TEXT NOT NULL,
  ended_at TEXT,
  host TEXT, os TEXT, pid INTEGER,
  workbench_version TEXT, git_revision TEXT, libtorch_version TEXT,
  model_hash TEXT, policy TEXT, error TEXT);
CREATE TABLE run_params(
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL, value TEXT,
  PRIMARY KEY(run_id, key)) WITHOUT ROWID;
CREATE TABLE samples(
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  device_time_ms REAL, image_index INTEGER,
  exit INTEGER NOT NULL, partition INTEGER NOT NULL,
  label INTEGER, prediction INTEGER, correct INTEGER,
  device_ms REAL, transfer_ms REAL, edge_ms REAL, total_ms REAL,
  bytes_sent INTEGER, bandwidth_bps REAL, throughput_bps REAL,
  predicted_ms REAL, energy_mj REAL, energy_source TEXT,
  PRIMARY KEY(run_id, seq)) WITHOUT ROWID;
CREATE TABLE events(
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  t_ms REAL, wall_time TEXT, kind TEXT NOT NULL, role TEXT, message TEXT, value REAL);
CREATE INDEX events_run ON events(run_id);
CREATE TABLE profiles(
  id INTEGER PRIMARY KEY,
  model_id INTEGER REFERENCES models(id),
  node TEXT NOT NULL, host TEXT, created_at TEXT NOT NULL,
  threads INTEGER, warmup INTEGER, repeats INTEGER);
CREATE TABLE profile_layers(
  profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  source TEXT NOT NULL, exit INTEGER, layer_index INTEGER, kind TEXT NOT NULL,
  features_json TEXT NOT NULL, median_ms REAL NOT NULL, p10_ms REAL, p90_ms REAL, repeats INTEGER);
CREATE TABLE regressions(
  id INTEGER PRIMARY KEY,
  profile_id INTEGER REFERENCES profiles(id) ON DELETE CASCADE,
  node TEXT NOT NULL, kind TEXT NOT NULL, coefficients_json TEXT NOT NULL,
  r2 REAL, mape_heldout REAL, n_fit INTEGER, n_heldout INTEGER);
)sql",
    // 1 -> 2: dynamic mode records the bandwidth state and what chose each configuration.
    R"sql(
ALTER TABLE samples ADD COLUMN bandwidth_state INTEGER;
ALTER TABLE samples ADD COLUMN config_source TEXT;
CREATE INDEX runs_status ON runs(status);
)sql",
    // 2 -> 3: profiling records its per-message overhead, duration and model-loading times.
    R"sql(
ALTER TABLE profiles ADD COLUMN message_overhead_ms REAL;
ALTER TABLE profiles ADD COLUMN seconds REAL;
CREATE TABLE model_loads(
  profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  model_bytes INTEGER NOT NULL, median_ms REAL NOT NULL);
ALTER TABLE regressions ADD COLUMN feature_set TEXT NOT NULL DEFAULT 'table1';
)sql",
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kSchemaVersion, "one migration per schema version");

// RAII prepared statement with bounds-checked binding.
class Stmt {
public:
    Stmt(sqlite3* db, const char* sql) : db_(db) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
    ~Stmt() { sqlite3_finalize(stmt_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    bool ok() const { return rc_ == SQLITE_OK; }
    std::string error() const { return sqlite3_errmsg(db_); }
    Stmt& bind(int i, int64_t v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
    Stmt& bind(int i, int v) { return bind(i, static_cast<int64_t>(v)); }
    Stmt& bind(int i, double v) { return check(std::isnan(v) ? sqlite3_bind_null(stmt_, i) : sqlite3_bind_double(stmt_, i, v)); }
    Stmt& bind(int i, const std::string& v) {
        return check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    }
    Stmt& bindTextOrNull(int i, const std::string& v) { return v.empty() ? check(sqlite3_bind_null(stmt_, i)) : bind(i, v); }
    Stmt& bindNull(int i) { return check(sqlite3_bind_null(stmt_, i)); }
    int step() { return rc_ == SQLITE_OK ? sqlite3_step(stmt_) : rc_; }
    void reset() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    int64_t i64(int c) const { return sqlite3_column_int64(stmt_, c); }
    double f64(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL ? NAN : sqlite3_column_double(stmt_, c); }
    std::string text(int c) const {
        const auto* t = sqlite3_column_text(stmt_, c);
        return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(stmt_, c))) : std::string();
    }

private:
    Stmt& check(int rc) {
        if (rc != SQLITE_OK && rc_ == SQLITE_OK) rc_ = rc;
        return *this;
    }
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
    int rc_ = SQLITE_OK;
};

std::string hostName() { return QSysInfo::machineHostName().toStdString(); }

bool processAlive(int64_t pid) {
    if (pid <= 0) return false;
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

constexpr const char* kSampleColumns =
    "seq, device_time_ms, image_index, exit, partition, label, prediction, correct, device_ms, transfer_ms, edge_ms, "
    "total_ms, bytes_sent, bandwidth_bps, throughput_bps, predicted_ms, energy_mj, energy_source";

}  // namespace

std::string nowIso() { return QDateTime::currentDateTime().toOffsetFromUtc(QDateTime::currentDateTime().offsetFromUtc()).toString(Qt::ISODateWithMs).toStdString(); }

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
        return makeError("database " + path + " has schema version " + std::to_string(version) +
                         ", newer than this build's " + std::to_string(kSchemaVersion) + "; use a newer Edgent Workbench");
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
        if (auto s = store->exec(kMigrations[v]); !s) {
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
    s.bind(1, m.hash).bind(2, m.name).bind(3, m.specJson).bind(4, m.sourcePath).bind(5, m.weightsBytes).bind(6, acc).bind(7, nowIso());
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
    if (r.modelId > 0) s.bind(2, r.modelId);
    else s.bindNull(2);
    s.bind(3, nowIso()).bind(4, hostName()).bind(5, QSysInfo::prettyProductName().toStdString()).bind(6, static_cast<int64_t>(::getpid()));
    s.bind(7, std::string(EDGENT_VERSION)).bind(8, std::string(EDGENT_GIT_REVISION)).bind(9, std::string(EDGENT_LIBTORCH_VERSION));
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
                            ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)";
    Stmt s(db_, sql.c_str());
    for (const SampleRow& r : rows) {
        const net::Sample& x = r.sample;
        s.reset();
        s.bind(1, runId).bind(2, static_cast<int64_t>(x.sequence)).bind(3, x.deviceTimeMs).bind(4, x.imageIndex);
        s.bind(5, x.exit).bind(6, x.partition).bind(7, x.label).bind(8, x.prediction).bind(9, x.correct() ? 1 : 0);
        s.bind(10, x.deviceMs).bind(11, x.transferMs).bind(12, x.edgeMs).bind(13, x.totalMs).bind(14, x.bytesSent);
        s.bind(15, x.bandwidthBps).bind(16, x.throughputBps).bind(17, r.predictedMs).bind(18, r.energyMj);
        s.bindTextOrNull(19, r.energySource);
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
        s.bind(1, runId).bind(2, e.tMs).bind(3, e.wallTime).bind(4, e.kind).bindTextOrNull(5, e.role).bind(6, e.message).bind(7, e.value);
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
        runs.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return makeError("database " + path_ + ": " + s.error());
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
        rows.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return makeError("database " + path_ + ": " + s.error());
    return rows;
}

Result<std::vector<EventRow>> RunStore::events(int64_t runId) {
    Stmt s(db_, "SELECT t_ms, coalesce(wall_time,''), kind, coalesce(role,''), coalesce(message,''), value FROM events "
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

Result<int64_t> RunStore::saveProfile(int64_t modelId, const std::string& node, const std::string& host, int threads,
                                      const profile::ProfileOptions& options, const profile::ProfileResult& result,
                                      double overheadMs) {
    if (auto s = exec("BEGIN IMMEDIATE"); !s) return makeError(s.error());
    auto rollback = [&](const std::string& why) -> Result<int64_t> {
        (void)exec("ROLLBACK");
        return makeError("database " + path_ + ": " + why);
    };
    Stmt p(db_, "INSERT INTO profiles(model_id, node, host, created_at, threads, warmup, repeats, message_overhead_ms, seconds) "
                "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)");
    p.bind(1, modelId).bind(2, node).bind(3, host).bind(4, nowIso()).bind(5, threads).bind(6, options.warmup);
    p.bind(7, options.repeats).bind(8, overheadMs).bind(9, result.seconds);
    if (p.step() != SQLITE_DONE) return rollback(p.error());
    const int64_t id = sqlite3_last_insert_rowid(db_);
    Stmt l(db_, "INSERT INTO profile_layers(profile_id, source, exit, layer_index, kind, features_json, median_ms, p10_ms, "
                "p90_ms, repeats) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)");
    for (const auto& t : result.layers) {
        std::string features = "[";
        for (size_t i = 0; i < t.features.size(); ++i) features += (i ? "," : "") + std::to_string(t.features[i]);
        features += "]";
        l.reset();
        l.bind(1, id).bind(2, t.source).bind(3, t.exit).bind(4, t.layerIndex).bind(5, std::string(layerKindName(t.kind)));
        l.bind(6, features).bind(7, t.medianMs).bind(8, t.p10Ms).bind(9, t.p90Ms).bind(10, t.repeats);
        if (l.step() != SQLITE_DONE) return rollback(l.error());
    }
    Stmt m(db_, "INSERT INTO model_loads(profile_id, model_bytes, median_ms) VALUES(?1,?2,?3)");
    for (const auto& load : result.loads) {
        m.reset();
        m.bind(1, id).bind(2, load.modelBytes).bind(3, load.medianMs);
        if (m.step() != SQLITE_DONE) return rollback(m.error());
    }
    if (auto c = commit(); !c) return makeError(c.error());
    return id;
}

Status RunStore::saveRegression(int64_t profileId, const std::string& node, const plan::LinearFit& fit) {
    std::string coefficients = "[";
    for (size_t i = 0; i < fit.coefficients.size(); ++i)
        coefficients += (i ? "," : "") + QString::number(fit.coefficients[i], 'g', 17).toStdString();
    coefficients += "]";
    Stmt s(db_, "INSERT INTO regressions(profile_id, node, kind, coefficients_json, r2, mape_heldout, n_fit, n_heldout, "
                "feature_set) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)");
    s.bind(1, profileId).bind(2, node).bind(3, std::string(layerKindName(fit.kind))).bind(4, coefficients).bind(5, fit.r2);
    s.bind(6, fit.mapeHeldOut).bind(7, fit.fitted).bind(8, fit.heldOut).bind(9, std::string(plan::featureSetName(fit.featureSet)));
    if (s.step() != SQLITE_DONE) return makeError("database " + path_ + ": " + s.error());
    return Status::success();
}

Result<StoredProfile> RunStore::latestProfile(const std::string& modelHash, const std::string& node) {
    Stmt s(db_, "SELECT p.id, coalesce(p.host,''), coalesce(p.threads,0), coalesce(p.message_overhead_ms,0) FROM profiles p "
                "JOIN models m ON m.id=p.model_id WHERE m.hash=?1 AND p.node=?2 ORDER BY p.id DESC LIMIT 1");
    if (!s.ok()) return makeError("database " + path_ + ": " + s.error());
    s.bind(1, modelHash).bind(2, node);
    if (s.step() != SQLITE_ROW)
        return makeError("database " + path_ + " has no " + node + " profile of this model; run edgent profile first");
    StoredProfile p;
    p.id = s.i64(0);
    p.node = node;
    p.host = s.text(1);
    p.threads = static_cast<int>(s.i64(2));
    p.overheadMs = s.f64(3);
    Stmt l(db_, "SELECT source, exit, layer_index, kind, features_json, median_ms, p10_ms, p90_ms, repeats FROM profile_layers "
                "WHERE profile_id=?1");
    l.bind(1, p.id);
    while (l.step() == SQLITE_ROW) {
        auto kind = layerKindFromName(l.text(3));
        if (!kind) return makeError("database " + path_ + ": " + kind.error());
        profile::LayerTiming t;
        t.source = l.text(0);
        t.exit = static_cast<int>(l.i64(1));
        t.layerIndex = static_cast<int>(l.i64(2));
        t.kind = *kind;
        const QString features = QString::fromStdString(l.text(4));
        for (const QString& f : features.mid(1, features.size() - 2).split(',', Qt::SkipEmptyParts)) t.features.push_back(f.toDouble());
        t.medianMs = l.f64(5);
        t.p10Ms = l.f64(6);
        t.p90Ms = l.f64(7);
        t.repeats = static_cast<int>(l.i64(8));
        p.result.layers.push_back(std::move(t));
    }
    Stmt r(db_, "SELECT kind, coefficients_json, r2, mape_heldout, n_fit, n_heldout, feature_set FROM regressions "
                "WHERE profile_id=?1");
    r.bind(1, p.id);
    while (r.step() == SQLITE_ROW) {
        auto kind = layerKindFromName(r.text(0));
        if (!kind) return makeError("database " + path_ + ": " + kind.error());
        plan::LinearFit fit;
        fit.kind = *kind;
        const QString c = QString::fromStdString(r.text(1));
        for (const QString& x : c.mid(1, c.size() - 2).split(',', Qt::SkipEmptyParts)) fit.coefficients.push_back(x.toDouble());
        fit.r2 = r.f64(2);
        fit.mapeHeldOut = r.f64(3);
        fit.fitted = static_cast<int>(r.i64(4));
        fit.heldOut = static_cast<int>(r.i64(5));
        fit.featureSet = r.text(6) == "table1+macs" ? plan::FeatureSet::TableOneMacs : plan::FeatureSet::TableOne;
        (fit.featureSet == plan::FeatureSet::TableOne ? p.regressions : p.regressionsMacs)[*kind] = fit;
    }
    return p;
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
    }
    const double n = static_cast<double>(rows->size());
    st.accuracy = static_cast<double>(correct) / n;
    st.deviceMsMean /= n;
    st.transferMsMean /= n;
    st.edgeMsMean /= n;
    st.latencyMsMean /= n;
    st.bytesSentMean /= n;
    st.energyMjMean = energyN ? energy / static_cast<double>(energyN) : NAN;
    st.predictedMsMean = predictedN ? predicted / static_cast<double>(predictedN) : NAN;
    std::sort(latency.begin(), latency.end());
    auto rank = [&](double q) {
        const size_t k = static_cast<size_t>(std::ceil(q * n));
        return latency[std::min(latency.size() - 1, k == 0 ? 0 : k - 1)];
    };
    st.latencyMsP50 = rank(0.5);
    st.latencyMsP95 = rank(0.95);
    return st;
}

Result<std::unique_ptr<SampleWriter>> SampleWriter::start(const std::string& path, int64_t runId) {
    return start(path, runId, Options{});
}

Result<std::unique_ptr<SampleWriter>> SampleWriter::start(const std::string& path, int64_t runId, Options options) {
    auto store = RunStore::open(path);
    if (!store) return makeError(store.error());
    if (auto r = (*store)->run(runId); !r) return makeError(r.error());
    std::unique_ptr<SampleWriter> w(new SampleWriter());
    w->path_ = path;
    w->runId_ = runId;
    w->options_ = std::move(options);
    w->store_ = std::move(store).value();
    w->thread_ = std::thread([p = w.get()] { p->loop(); });
    return w;
}

SampleWriter::~SampleWriter() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void SampleWriter::add(SampleRow row) {
    {
        std::lock_guard lock(mutex_);
        samples_.push_back(std::move(row));
    }
    wake_.notify_one();
}

void SampleWriter::addEvent(EventRow row) {
    {
        std::lock_guard lock(mutex_);
        events_.push_back(std::move(row));
    }
    wake_.notify_one();
}

std::string SampleWriter::lastError() const {
    std::lock_guard lock(mutex_);
    return error_;
}

void SampleWriter::loop() {
    std::unique_lock lock(mutex_);
    bool backOff = false;
    while (true) {
        if (backOff) {
            // After a failed write, wait a full flush interval before trying again.
            wake_.wait_for(lock, std::chrono::milliseconds(options_.flushMs), [&] { return stop_; });
            backOff = false;
        } else {
            wake_.wait_for(lock, std::chrono::milliseconds(options_.flushMs),
                           [&] { return stop_ || samples_.size() >= options_.batchRows; });
        }
        if (samples_.empty() && events_.empty()) {
            if (stop_) return;
            continue;
        }
        std::vector<SampleRow> batch(std::make_move_iterator(samples_.begin()), std::make_move_iterator(samples_.end()));
        std::vector<EventRow> events(std::make_move_iterator(events_.begin()), std::make_move_iterator(events_.end()));
        samples_.clear();
        events_.clear();
        lock.unlock();
        const Status s = store_->insertSamples(runId_, batch);
        const Status e = store_->insertEvents(runId_, events);
        lock.lock();
        if (s) {
            committed_ += static_cast<int64_t>(batch.size());
            batch.clear();
        }
        if (e) events.clear();
        if (!s || !e) {
            // Keep what failed, in order, and try again later; a stopping writer gives up
            // and finish() reports the loss.
            if (error_.empty()) error_ = !s ? s.error() : e.error();
            samples_.insert(samples_.begin(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
            events_.insert(events_.begin(), std::make_move_iterator(events.begin()), std::make_move_iterator(events.end()));
            if (stop_) return;
            backOff = true;
        }
        if (s && options_.onCommit) {
            const int64_t committed = committed_.load();
            lock.unlock();
            options_.onCommit(committed);
            lock.lock();
        }
    }
}

Status SampleWriter::finish(const std::string& status, const std::string& error) {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    {
        std::lock_guard lock(mutex_);
        if (!samples_.empty() || !events_.empty())
            return makeError("could not store " + std::to_string(samples_.size()) + " samples: " + error_);
    }
    // The end of a run is worth a full sync.
    char* message = nullptr;
    sqlite3_exec(store_->handle(), "PRAGMA synchronous=FULL", nullptr, nullptr, &message);
    sqlite3_free(message);
    if (auto s = store_->finishRun(runId_, status, error); !s) return s;
    sqlite3_exec(store_->handle(), "PRAGMA wal_checkpoint(PASSIVE)", nullptr, nullptr, &message);
    sqlite3_free(message);
    return Status::success();
}

}  // namespace edgent::core::store
