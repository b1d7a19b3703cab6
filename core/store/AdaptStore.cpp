// The run store's on-device adaptations (docs/schema.md, schema 12).
#include "core/store/RunStore.h"
#include "core/store/Sql.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <unistd.h>

namespace edgent::core::store {

Result<int64_t> RunStore::beginAdaptation(const std::string& experiment, int64_t modelId, const std::string& mode,
                                          const std::string& optionsJson, const std::string& workers) {
    Stmt s(db_,
           "INSERT INTO adaptations(experiment, created_at, model_id, mode, options_json, workers, status, host, pid) "
           "VALUES(?1, ?2, ?3, ?4, ?5, ?6, 'running', ?7, ?8)");
    s.bind(1, experiment).bind(2, nowIso());
    if (modelId > 0)
        s.bind(3, modelId);
    else
        s.bindNull(3);
    s.bind(4, mode).bind(5, optionsJson).bindTextOrNull(6, workers).bind(7, hostName()).bind(8, static_cast<int64_t>(::getpid()));
    if (s.step() != SQLITE_DONE) return makeError("database " + path_ + ": " + s.error());
    return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

Status RunStore::finishAdaptation(int64_t id, const std::string& status, const std::string& error, const AdaptReport& r,
                                  const std::string& savedPath) {
    if (auto s = exec("BEGIN IMMEDIATE"); !s) return makeError(s.error());
    const auto abandon = [&](const std::string& why) {
        (void)exec("ROLLBACK");
        return makeError("database " + path_ + ": " + why);
    };
    {
        Stmt s(db_,
               "UPDATE adaptations SET finished_at=?2, status=?3, error=?4, exit=?5, partition=?6, shifted_before=?7, "
               "shifted_after=?8, clean_before=?9, clean_after=?10, param_bytes_held=?11, param_bytes_peak=?12, "
               "gemm_energy_mj=?13, gemm_macs=?14, seconds=?15, saved_path=?16 WHERE id=?1");
        s.bind(1, id).bind(2, nowIso()).bind(3, status).bindTextOrNull(4, error).bind(5, r.exit).bind(6, r.partition);
        s.bind(7, r.shiftedBefore).bind(8, r.shiftedAfter).bind(9, r.cleanBefore).bind(10, r.cleanAfter);
        s.bind(11, r.paramBytesHeld).bind(12, r.paramBytesPeak).bind(13, r.gemmEnergyMj).bind(14, r.gemmMacs);
        s.bind(15, r.seconds).bindTextOrNull(16, savedPath);
        if (s.step() != SQLITE_DONE || sqlite3_changes(db_) != 1) {
            return abandon(sqlite3_changes(db_) != 1 ? "has no adaptation " + std::to_string(id) : s.error());
        }
    }
    for (const AdaptStep& x : r.steps) {
        QJsonArray bits;
        for (int b : x.bits) bits.append(b);
        Stmt s(db_,
               "INSERT OR REPLACE INTO adaptation_steps(adaptation_id, step, loss, batch_accuracy, eval_accuracy, bits_json) "
               "VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
        s.bind(1, id).bind(2, x.step).bind(3, x.loss).bind(4, x.batchAccuracy).bind(5, x.evalAccuracy);
        s.bind(6, QJsonDocument(bits).toJson(QJsonDocument::Compact).toStdString());
        if (s.step() != SQLITE_DONE) return abandon(s.error());
    }
    for (size_t i = 0; i < r.layers.size(); ++i) {
        const AdaptLayer& l = r.layers[i];
        Stmt s(db_,
               "INSERT OR REPLACE INTO adaptation_layers(adaptation_id, layer, name, trained, quantised, params, macs_per_image, "
               "bits) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
        s.bind(1, id).bind(2, static_cast<int>(i)).bind(3, l.name).bind(4, l.trained ? 1 : 0).bind(5, l.quantised ? 1 : 0);
        s.bind(6, l.params).bind(7, l.macsPerImage).bind(8, l.bits);
        if (s.step() != SQLITE_DONE) return abandon(s.error());
    }
    return commit();
}

Result<AdaptationInfo> RunStore::adaptation(int64_t id) {
    AdaptationInfo a;
    AdaptReport& r = a.report;
    {
        Stmt s(db_,
               "SELECT a.id, a.experiment, a.created_at, a.finished_at, a.status, a.error, m.hash, a.options_json, a.workers, "
               "a.saved_path, a.mode, a.exit, a.partition, a.shifted_before, a.shifted_after, a.clean_before, a.clean_after, "
               "a.param_bytes_held, a.param_bytes_peak, a.gemm_energy_mj, a.gemm_macs, a.seconds, a.host, a.pid FROM adaptations a "
               "LEFT JOIN models m ON m.id = a.model_id WHERE a.id=?1");
        s.bind(1, id);
        const int rc = s.step();
        if (rc == SQLITE_DONE) return makeError("database " + path_ + " has no adaptation " + std::to_string(id));
        if (rc != SQLITE_ROW) return makeError("database " + path_ + ": " + s.error());
        a.id = s.i64(0);
        a.experiment = s.text(1);
        a.createdAt = s.text(2);
        a.finishedAt = s.text(3);
        a.status = s.text(4);
        a.error = s.text(5);
        a.modelHash = s.text(6);
        a.optionsJson = s.text(7);
        a.workers = s.text(8);
        a.savedPath = s.text(9);
        r.mode = s.text(10);
        r.exit = static_cast<int>(s.i64(11));
        r.partition = static_cast<int>(s.i64(12));
        r.shiftedBefore = s.f64(13);
        r.shiftedAfter = s.f64(14);
        r.cleanBefore = s.f64(15);
        r.cleanAfter = s.f64(16);
        r.paramBytesHeld = s.i64(17);
        r.paramBytesPeak = s.i64(18);
        r.gemmEnergyMj = s.f64(19);
        r.gemmMacs = s.i64(20);
        r.seconds = s.f64(21);
        // Its controller on this host is gone: it was interrupted, as a run or a fleet is.
        if (a.status == "running" && s.text(22) == hostName() && !processAlive(s.isNull(23) ? 0 : s.i64(23))) a.status = "interrupted";
    }
    {
        Stmt s(db_,
               "SELECT step, loss, batch_accuracy, eval_accuracy, bits_json FROM adaptation_steps WHERE adaptation_id=?1 ORDER BY "
               "step");
        s.bind(1, id);
        int rc;
        while ((rc = s.step()) == SQLITE_ROW) {
            AdaptStep x;
            x.step = static_cast<int>(s.i64(0));
            x.loss = s.f64(1);
            x.batchAccuracy = s.f64(2);
            x.evalAccuracy = s.f64(3);
            for (const auto& b : QJsonDocument::fromJson(QByteArray::fromStdString(s.text(4))).array()) x.bits.push_back(b.toInt());
            r.steps.push_back(x);
        }
        if (rc != SQLITE_DONE) return makeError("database " + path_ + ": " + s.error());
    }
    {
        Stmt s(db_,
               "SELECT name, trained, quantised, params, macs_per_image, bits FROM adaptation_layers WHERE adaptation_id=?1 ORDER "
               "BY layer");
        s.bind(1, id);
        int rc;
        while ((rc = s.step()) == SQLITE_ROW)
            r.layers.push_back({s.text(0), s.i64(1) != 0, s.i64(2) != 0, s.i64(3), s.i64(4), static_cast<int>(s.i64(5))});
        if (rc != SQLITE_DONE) return makeError("database " + path_ + ": " + s.error());
    }
    return a;
}

}  // namespace edgent::core::store
