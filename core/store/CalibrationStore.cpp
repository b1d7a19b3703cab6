// RunStore: calibrations of per-input early exits (every exit's scores on a split).
#include "core/store/RunStore.h"

#include "core/store/Sql.h"

namespace edgent::core::store {

Result<int64_t> RunStore::saveCalibration(int64_t modelId, const CalibrationSet& c) {
    if (auto s = exec("BEGIN IMMEDIATE"); !s) return makeError(s.error());
    auto rollback = [&](const std::string& why) -> Result<int64_t> {
        (void)exec("ROLLBACK");
        return makeError("database " + path_ + ": " + why);
    };
    Stmt h(db_,
           "INSERT INTO calibrations(model_id, created_at, dataset, split, first_index, count, exits) "
           "VALUES(?1,?2,?3,?4,?5,?6,?7)");
    h.bind(1, modelId).bind(2, nowIso()).bind(3, c.dataset).bind(4, c.split).bind(5, c.first).bind(6, c.samples);
    h.bind(7, c.numExits);
    if (h.step() != SQLITE_DONE) return rollback(h.error());
    const int64_t id = sqlite3_last_insert_rowid(db_);
    Stmt r(db_,
           "INSERT INTO calibration_scores(calibration_id, sample, exit, label, prediction, entropy, max_softmax, appeal) "
           "VALUES(?1,?2,?3,?4,?5,?6,?7,?8)");
    for (int64_t s = 0; s < c.samples; ++s)
        for (int e = 0; e < c.numExits; ++e) {
            const size_t i = c.at(s, e);
            r.reset();
            r.bind(1, id).bind(2, s).bind(3, e).bind(4, c.labels[static_cast<size_t>(s)]).bind(5, c.predictions[i]);
            r.bind(6, static_cast<double>(c.entropy[i])).bind(7, static_cast<double>(c.maxSoftmax[i]));
            r.bind(8, static_cast<double>(c.appeal[i]));
            if (r.step() != SQLITE_DONE) return rollback(r.error());
        }
    if (auto s = commit(); !s) return makeError(s.error());
    return id;
}

Result<CalibrationSet> RunStore::latestCalibration(const std::string& modelHash, const std::string& split) {
    Stmt h(db_,
           "SELECT c.id, c.dataset, c.first_index, c.count, c.exits FROM calibrations c JOIN models m ON m.id=c.model_id "
           "WHERE m.hash=?1 AND c.split=?2 ORDER BY c.id DESC LIMIT 1");
    if (!h.ok()) return makeError("database " + path_ + ": " + h.error());
    h.bind(1, modelHash).bind(2, split);
    if (h.step() != SQLITE_ROW)
        return makeError("database " + path_ + " has no " + split + " calibration of this model; run edgent calibrate first");
    CalibrationSet c;
    const int64_t id = h.i64(0);
    c.dataset = h.text(1);
    c.split = split;
    c.first = h.i64(2);
    c.samples = h.i64(3);
    c.numExits = static_cast<int>(h.i64(4));
    const size_t cells = static_cast<size_t>(c.samples * c.numExits);
    c.labels.assign(static_cast<size_t>(c.samples), -1);
    c.predictions.assign(cells, -1);
    c.entropy.assign(cells, NAN);
    c.maxSoftmax.assign(cells, NAN);
    c.appeal.assign(cells, NAN);
    Stmt r(db_,
           "SELECT sample, exit, label, prediction, entropy, max_softmax, appeal FROM calibration_scores WHERE "
           "calibration_id=?1");
    r.bind(1, id);
    int64_t rows = 0;
    while (r.step() == SQLITE_ROW) {
        const int64_t s = r.i64(0);
        const int e = static_cast<int>(r.i64(1));
        if (s < 0 || s >= c.samples || e < 0 || e >= c.numExits)
            return makeError("database " + path_ + ": calibration " + std::to_string(id) + " holds a row out of range");
        const size_t i = c.at(s, e);
        c.labels[static_cast<size_t>(s)] = static_cast<int>(r.i64(2));
        c.predictions[i] = static_cast<int>(r.i64(3));
        c.entropy[i] = static_cast<float>(r.f64(4));
        c.maxSoftmax[i] = static_cast<float>(r.f64(5));
        c.appeal[i] = static_cast<float>(r.f64(6));
        ++rows;
    }
    if (rows != static_cast<int64_t>(cells))
        return makeError("database " + path_ + ": calibration " + std::to_string(id) + " is incomplete (" +
                         std::to_string(rows) + " of " + std::to_string(cells) + " scores)");
    return c;
}

Result<int64_t> RunStore::saveCodecCalibration(int64_t modelId, const CodecCalibration& c) {
    if (auto s = exec("BEGIN IMMEDIATE"); !s) return makeError(s.error());
    auto rollback = [&](const std::string& why) -> Result<int64_t> {
        (void)exec("ROLLBACK");
        return makeError("database " + path_ + ": " + why);
    };
    Stmt h(db_, "INSERT INTO codec_calibrations(model_id, created_at, dataset, split, first_index, count) VALUES(?1,?2,?3,?4,?5,?6)");
    h.bind(1, modelId).bind(2, nowIso()).bind(3, c.dataset).bind(4, c.split).bind(5, c.first).bind(6, c.samples);
    if (h.step() != SQLITE_DONE) return rollback(h.error());
    const int64_t id = sqlite3_last_insert_rowid(db_);
    Stmt r(db_,
           "INSERT INTO codec_calibration_rows(calibration_id, exit, partition, codec, accuracy, bytes_mean, bytes_p95) "
           "VALUES(?1,?2,?3,?4,?5,?6,?7)");
    for (const auto& row : c.rows) {
        r.reset();
        r.bind(1, id).bind(2, row.exit).bind(3, row.partition).bind(4, net::codecName(row.codec)).bind(5, row.accuracy);
        r.bind(6, row.bytesMean).bind(7, row.bytesP95);
        if (r.step() != SQLITE_DONE) return rollback(r.error());
    }
    if (auto s = commit(); !s) return makeError(s.error());
    return id;
}

Result<CodecCalibration> RunStore::latestCodecCalibration(const std::string& modelHash, const std::string& split) {
    Stmt h(db_,
           "SELECT c.id, c.dataset, c.first_index, c.count FROM codec_calibrations c JOIN models m ON m.id=c.model_id "
           "WHERE m.hash=?1 AND c.split=?2 ORDER BY c.id DESC LIMIT 1");
    if (!h.ok()) return makeError("database " + path_ + ": " + h.error());
    h.bind(1, modelHash).bind(2, split);
    if (h.step() != SQLITE_ROW)
        return makeError("database " + path_ + " has no " + split +
                         " codec calibration of this model; run edgent calibrate --codecs first");
    CodecCalibration c;
    const int64_t id = h.i64(0);
    c.dataset = h.text(1);
    c.split = split;
    c.first = h.i64(2);
    c.samples = h.i64(3);
    Stmt r(db_,
           "SELECT exit, partition, codec, accuracy, bytes_mean, bytes_p95 FROM codec_calibration_rows WHERE calibration_id=?1 "
           "ORDER BY exit, partition, codec");
    r.bind(1, id);
    while (r.step() == SQLITE_ROW) {
        CodecCalibrationRow row;
        row.exit = static_cast<int>(r.i64(0));
        row.partition = static_cast<int>(r.i64(1));
        auto codec = net::codecFromName(r.text(2));
        if (!codec) return makeError("database " + path_ + ": codec calibration " + std::to_string(id) + ": " + codec.error());
        row.codec = *codec;
        row.accuracy = r.f64(3);
        row.bytesMean = r.f64(4);
        row.bytesP95 = r.f64(5);
        c.rows.push_back(row);
    }
    if (c.rows.empty()) return makeError("database " + path_ + ": codec calibration " + std::to_string(id) + " has no rows");
    return c;
}

}  // namespace edgent::core::store
