#pragma once
// Exports of one run for papers: CSV samples, a JSON summary, and a standalone SQLite file
// holding just that run with its model, profiles and regressions. Every file is written
// atomically (a temporary file renamed into place). PDF and PNG plots live in widgets/.

#include "core/model/ModelFile.h"
#include "core/store/RunStore.h"

#include <QJsonObject>

#include <string>
#include <vector>

namespace edgent::core::store {

// One row per sample with a header; units are in the column names (total_ms, bytes_sent).
Status exportCsv(RunStore& store, int64_t runId, const std::string& outPath);
// A fleet's samples (edgent run --devices): every device's run, or only `devices` (their
// numbers in the fleet), in one CSV of exportCsv's columns, its `device` column saying whose.
// Returns how many device runs went in; a device the fleet does not have is an error.
Result<int> exportFleetCsv(RunStore& store, int64_t fleetId, const std::vector<int>& devices, const std::string& outPath);
// An adaptation's steps (core/train/Adapt.h) as CSV: step, loss, batch_accuracy, eval_accuracy
// (empty where not measured), then one `<layer>_bits` column per quantised layer (none for
// fp32): what a paper plots the accuracy curve and the bit-width trace from. Returns the rows.
Result<int> exportAdaptationCsv(RunStore& store, int64_t adaptationId, const std::string& outPath);
// Reads back a samples CSV written by exportCsv (e.g. the recorded-run fixture).
Result<std::vector<SampleRow>> readSamplesCsv(const std::string& path);

// The run's metadata, parameters and summary statistics.
Result<QJsonObject> runSummaryJson(RunStore& store, int64_t runId);
Status exportJson(RunStore& store, int64_t runId, const std::string& outPath);
// A new database with the same schema holding only this run (and what it refers to).
Status exportSqlite(RunStore& store, int64_t runId, const std::string& outPath);

// Picks the format from the extension (.csv, .json, .sqlite); other extensions are an error
// here (PDF and PNG are handled by the caller that has a screen library).
Status exportRun(RunStore& store, int64_t runId, const std::string& outPath);

// The store's record of a model read from disk (hash over both files' bytes).
ModelRecord modelRecord(const ModelBytes& model);

// sha256 over the spec JSON text and the weights bytes, hex.
std::string modelHash(const std::string& specJson, const std::string& weights);

}  // namespace edgent::core::store
