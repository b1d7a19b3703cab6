#include "core/store/Export.h"

#include "core/model/ModelFile.h"

#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QUrl>

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace edgent::core::store {

namespace {

std::string num(double v) {
    if (std::isnan(v)) return {};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.12g", v);
    return buf;
}

QJsonValue jsonNum(double v) { return std::isnan(v) ? QJsonValue(QJsonValue::Null) : QJsonValue(v); }

std::string csvField(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string extensionOf(const std::string& path) {
    return QFileInfo(QString::fromStdString(path)).suffix().toLower().toStdString();
}

}  // namespace

std::string modelHash(const std::string& specJson, const std::string& weights) {
    QCryptographicHash h(QCryptographicHash::Sha256);
    h.addData(QByteArrayView(specJson.data(), static_cast<qsizetype>(specJson.size())));
    h.addData(QByteArrayView(weights.data(), static_cast<qsizetype>(weights.size())));
    return h.result().toHex().toStdString();
}

ModelRecord modelRecord(const ModelBytes& model) {
    ModelRecord record;
    record.hash = modelHash(model.specText, model.weights);
    record.name = model.file.spec.name;
    record.specJson = specJson(model.file.spec);
    record.sourcePath = model.file.path;
    record.weightsBytes = static_cast<int64_t>(model.weights.size());
    record.exitAccuracy = model.file.spec.exitAccuracy;
    return record;
}

namespace {

const char* const kSamplesCsvHeader =
    "run_id,seq,device_time_ms,image_index,exit,partition,label,prediction,correct,device_ms,transfer_ms,edge_ms,"
    "total_ms,bytes_sent,bandwidth_bps,throughput_bps,predicted_ms,energy_mj,energy_source,bandwidth_state,"
    "config_source,exit_taken,confidence,sent_to_edge,codec,encode_ms,decode_ms,queue_ms,busy,device\n";

Status appendSamplesCsv(RunStore& store, int64_t runId, std::string& out) {
    auto rows = store.samples(runId);
    if (!rows) return makeError(rows.error());
    out.reserve(out.size() + rows->size() * 120);
    const std::string run = std::to_string(runId);
    for (const auto& r : *rows) {
        const auto& x = r.sample;
        out += run + ',' + std::to_string(x.sequence) + ',' + num(x.deviceTimeMs) + ',' + std::to_string(x.imageIndex) + ',' +
               std::to_string(x.exit) + ',' + std::to_string(x.partition) + ',' + std::to_string(x.label) + ',' +
               std::to_string(x.prediction) + ',' + (x.correct() ? "1" : "0") + ',' + num(x.deviceMs) + ',' + num(x.transferMs) +
               ',' + num(x.edgeMs) + ',' + num(x.totalMs) + ',' + std::to_string(x.bytesSent) + ',' + num(x.bandwidthBps) + ',' +
               num(x.throughputBps) + ',' + num(r.predictedMs) + ',' + num(r.energyMj) + ',' + csvField(r.energySource) + ',' +
               (x.bandwidthStateBps >= 0 ? std::to_string(x.bandwidthStateBps) : std::string()) + ',' + csvField(x.configSource) +
               ',' + std::to_string(x.exitTaken >= 0 ? x.exitTaken : x.exit) + ',' + num(x.confidence) + ',' +
               (x.sentToEdge ? "1" : "0") + ',' + csvField(x.codec) + ',' + num(x.encodeMs) + ',' + num(x.decodeMs) + ',' +
               num(x.queueMs) + ',' + (x.busy ? "1" : "0") + ',' + (r.device >= 0 ? std::to_string(r.device) : std::string()) +
               '\n';
    }
    return Status::success();
}

}  // namespace

Status exportCsv(RunStore& store, int64_t runId, const std::string& outPath) {
    if (auto r = store.run(runId); !r) return makeError(r.error());
    std::string out = kSamplesCsvHeader;
    if (auto s = appendSamplesCsv(store, runId, out); !s) return s;
    return writeFileAtomically(outPath, out);
}

Result<int> exportFleetCsv(RunStore& store, int64_t fleetId, const std::vector<int>& devices, const std::string& outPath) {
    auto fleet = store.fleet(fleetId);
    if (!fleet) return makeError(fleet.error());
    for (int d : devices) {
        const bool known = std::any_of(fleet->devices.begin(), fleet->devices.end(), [d](const auto& x) { return x.device == d; });
        if (!known) return makeError("fleet " + std::to_string(fleetId) + " has no device " + std::to_string(d));
    }
    std::string out = kSamplesCsvHeader;
    int written = 0;
    for (const auto& d : fleet->devices) {
        if (d.runId <= 0 || (!devices.empty() && std::find(devices.begin(), devices.end(), d.device) == devices.end())) continue;
        if (auto s = appendSamplesCsv(store, d.runId, out); !s) return makeError(s.error());
        ++written;
    }
    if (auto s = writeFileAtomically(outPath, out); !s) return makeError(s.error());
    return written;
}

Result<int> exportAdaptationCsv(RunStore& store, int64_t adaptationId, const std::string& outPath) {
    auto a = store.adaptation(adaptationId);
    if (!a) return makeError(a.error());
    std::string out = "step,loss,batch_accuracy,eval_accuracy";
    for (const AdaptLayer& l : a->report.layers)
        if (l.quantised) out += "," + l.name + "_bits";
    out += "\n";
    char cell[64];
    for (const AdaptStep& s : a->report.steps) {
        std::snprintf(cell, sizeof cell, "%d,%.6g,%.6g,", s.step, s.loss, s.batchAccuracy);
        out += cell;
        if (!std::isnan(s.evalAccuracy)) {
            std::snprintf(cell, sizeof cell, "%.6g", s.evalAccuracy);
            out += cell;
        }
        for (int b : s.bits) out += "," + std::to_string(b);
        out += "\n";
    }
    if (auto s = writeFileAtomically(outPath, out); !s) return makeError(s.error());
    return static_cast<int>(a->report.steps.size());
}

Result<std::vector<SampleRow>> readSamplesCsv(const std::string& path) {
    auto text = readFileBytes(path);
    if (!text) return makeError(text.error());
    const QList<QByteArray> lines = QByteArray::fromStdString(*text).split('\n');
    if (lines.isEmpty() || !lines[0].startsWith("run_id,seq,device_time_ms")) return makeError(path + " is not a samples CSV");
    auto number = [](const QByteArray& field) { return field.isEmpty() ? NAN : field.toDouble(); };
    std::vector<SampleRow> rows;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        if (lines[i].trimmed().isEmpty()) continue;
        const QList<QByteArray> c = lines[i].split(',');
        if (c.size() < 19) return makeError(path + ": line " + std::to_string(i + 1) + " has too few columns");
        SampleRow r;
        net::Sample& x = r.sample;
        x.sequence = c[1].toULongLong();
        x.deviceTimeMs = c[2].toDouble();
        x.imageIndex = c[3].toLongLong();
        x.exit = c[4].toInt();
        x.partition = c[5].toInt();
        x.label = c[6].toInt();
        x.prediction = c[7].toInt();
        x.deviceMs = c[9].toDouble();
        x.transferMs = c[10].toDouble();
        x.edgeMs = c[11].toDouble();
        x.totalMs = c[12].toDouble();
        x.bytesSent = c[13].toLongLong();
        x.bandwidthBps = c[14].toDouble();
        x.throughputBps = c[15].toDouble();
        r.predictedMs = number(c[16]);
        r.energyMj = number(c[17]);
        r.energySource = c[18].trimmed().toStdString();
        if (c.size() >= 21) {
            x.bandwidthStateBps = c[19].isEmpty() ? -1 : c[19].toLongLong();
            x.configSource = c[20].trimmed().toStdString();
        }
        x.exitTaken = x.exit;
        x.sentToEdge = x.bytesSent > 0;
        if (c.size() >= 24) {
            x.exitTaken = c[21].toInt();
            x.confidence = number(c[22]);
            x.sentToEdge = c[23].trimmed() == "1";
        }
        if (c.size() >= 27) {
            x.codec = c[24].trimmed().toStdString();
            x.encodeMs = c[25].toDouble();
            x.decodeMs = c[26].toDouble();
        }
        if (c.size() >= 30) {
            x.queueMs = c[27].toDouble();
            x.busy = c[28].trimmed() == "1";
            r.device = c[29].trimmed().isEmpty() ? -1 : c[29].trimmed().toInt();
        }
        rows.push_back(std::move(r));
    }
    return rows;
}

Result<QJsonObject> runSummaryJson(RunStore& store, int64_t runId) {
    auto run = store.run(runId);
    if (!run) return makeError(run.error());
    auto st = store.stats(runId);
    if (!st) return makeError(st.error());
    QJsonObject o;
    o["run_id"] = static_cast<qint64>(run->id);
    o["experiment"] = QString::fromStdString(run->experiment);
    o["status"] = QString::fromStdString(run->status);
    o["started_at"] = QString::fromStdString(run->startedAt);
    o["ended_at"] = QString::fromStdString(run->endedAt);
    o["host"] = QString::fromStdString(run->host);
    o["os"] = QString::fromStdString(run->os);
    o["workbench_version"] = QString::fromStdString(run->workbenchVersion);
    o["git_revision"] = QString::fromStdString(run->gitRevision);
    o["libtorch_version"] = QString::fromStdString(run->libtorchVersion);
    o["model_hash"] = QString::fromStdString(run->modelHash);
    o["model"] = QString::fromStdString(run->modelName);
    o["policy"] = QString::fromStdString(run->policy);
    if (!run->error.empty()) o["error"] = QString::fromStdString(run->error);
    QJsonObject params;
    for (const auto& [k, v] : run->params) params[QString::fromStdString(k)] = QString::fromStdString(v);
    o["params"] = params;
    o["inferences"] = static_cast<qint64>(st->samples);
    o["accuracy"] = st->accuracy;
    o["latency_ms_p50"] = st->latencyMsP50;
    o["latency_ms_p95"] = st->latencyMsP95;
    o["latency_ms_mean"] = st->latencyMsMean;
    o["device_ms_mean"] = st->deviceMsMean;
    o["transfer_ms_mean"] = st->transferMsMean;
    o["edge_ms_mean"] = st->edgeMsMean;
    o["bytes_sent_mean"] = st->bytesSentMean;
    o["energy_mj_mean"] = jsonNum(st->energyMjMean);
    o["predicted_ms_mean"] = jsonNum(st->predictedMsMean);
    o["offload_rate"] = st->offloadRate;
    QJsonArray taken;
    for (int64_t c : st->exitsTaken) taken.append(static_cast<qint64>(c));
    o["exits_taken"] = taken;
    return o;
}

Status exportJson(RunStore& store, int64_t runId, const std::string& outPath) {
    auto o = runSummaryJson(store, runId);
    if (!o) return makeError(o.error());
    return writeFileAtomically(outPath, QJsonDocument(*o).toJson(QJsonDocument::Indented).toStdString());
}

Status exportSqlite(RunStore& store, int64_t runId, const std::string& outPath) {
    if (auto r = store.run(runId); !r) return makeError(r.error());
    const QFileInfo source(QString::fromStdString(store.path())), target(QString::fromStdString(outPath));
    if (target.exists() && source.canonicalFilePath() == target.canonicalFilePath())
        return makeError("refusing to export run " + std::to_string(runId) + " over its own database " + outPath);
    const std::string tmp = outPath + ".partial";
    auto removeTemporary = [&] {
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) QFile::remove(QString::fromStdString(tmp + suffix));
    };
    removeTemporary();
    // Create the schema in a fresh file, then pull the run across from the source opened
    // read-only (so exporting never needs write access to the source).
    auto out = RunStore::open(tmp);
    if (!out) return makeError("cannot write " + outPath + ": " + out.error());
    sqlite3* db = (*out)->handle();
    auto exec = [&](const std::string& sql) -> Status {
        char* message = nullptr;
        if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
            std::string why = message ? message : sqlite3_errmsg(db);
            sqlite3_free(message);
            return makeError("exporting to " + outPath + ": " + why);
        }
        return Status::success();
    };
    const std::string uri = QUrl::fromLocalFile(QFileInfo(QString::fromStdString(store.path())).absoluteFilePath())
                                .toString(QUrl::FullyEncoded)
                                .toStdString() +
                            "?mode=ro";
    char* quoted = sqlite3_mprintf("%Q", uri.c_str());
    const std::string attach = std::string("ATTACH DATABASE ") + quoted + " AS src";
    sqlite3_free(quoted);
    if (auto s = exec(attach); !s) {
        out->reset();
        removeTemporary();
        return s;
    }
    const std::string id = std::to_string(runId);
    const std::string copy =
        "BEGIN;"
        "INSERT INTO main.experiments SELECT * FROM src.experiments WHERE id=(SELECT experiment_id FROM src.runs WHERE id=" +
        id +
        ");"
        "INSERT INTO main.models SELECT * FROM src.models WHERE id=(SELECT model_id FROM src.runs WHERE id=" +
        id +
        ");"
        "INSERT INTO main.runs SELECT * FROM src.runs WHERE id=" +
        id +
        ";"
        "INSERT INTO main.run_params SELECT * FROM src.run_params WHERE run_id=" +
        id +
        ";"
        "INSERT INTO main.samples SELECT * FROM src.samples WHERE run_id=" +
        id +
        ";"
        "INSERT INTO main.events SELECT * FROM src.events WHERE run_id=" +
        id +
        ";"
        "INSERT INTO main.profiles SELECT * FROM src.profiles WHERE model_id=(SELECT model_id FROM src.runs WHERE id=" +
        id +
        ");"
        "INSERT INTO main.profile_layers SELECT * FROM src.profile_layers WHERE profile_id IN (SELECT id FROM main.profiles);"
        "INSERT INTO main.regressions SELECT * FROM src.regressions WHERE profile_id IN (SELECT id FROM main.profiles);"
        "INSERT INTO main.calibrations SELECT * FROM src.calibrations WHERE model_id=(SELECT model_id FROM src.runs WHERE id=" +
        id +
        ");"
        "INSERT INTO main.calibration_scores SELECT * FROM src.calibration_scores WHERE calibration_id IN (SELECT id FROM "
        "main.calibrations);"
        "INSERT INTO main.profile_codecs SELECT * FROM src.profile_codecs WHERE profile_id IN (SELECT id FROM main.profiles);"
        "INSERT INTO main.codec_calibrations SELECT * FROM src.codec_calibrations WHERE model_id=(SELECT model_id FROM src.runs "
        "WHERE id=" +
        id +
        ");"
        "INSERT INTO main.codec_calibration_rows SELECT * FROM src.codec_calibration_rows WHERE calibration_id IN (SELECT id "
        "FROM main.codec_calibrations);"
        "COMMIT;";
    Status copied = exec(copy);
    if (!copied) (void)exec("ROLLBACK");
    (void)exec("DETACH DATABASE src");
    if (copied) copied = exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;");
    out->reset();
    if (!copied) {
        removeTemporary();
        return copied;
    }
    if (std::rename(tmp.c_str(), outPath.c_str()) != 0) {
        removeTemporary();
        return makeError("cannot write " + outPath);
    }
    // A stale WAL of an earlier file at the target would be replayed into this one.
    for (const char* suffix : {"-wal", "-shm"}) QFile::remove(QString::fromStdString(outPath + suffix));
    return Status::success();
}

Status exportRun(RunStore& store, int64_t runId, const std::string& outPath) {
    const std::string ext = extensionOf(outPath);
    if (ext == "csv") return exportCsv(store, runId, outPath);
    if (ext == "json") return exportJson(store, runId, outPath);
    if (ext == "sqlite" || ext == "db") return exportSqlite(store, runId, outPath);
    return makeError("cannot tell the export format from '" + outPath + "' (use .csv, .json, .sqlite, .pdf or .png)");
}

}  // namespace edgent::core::store
