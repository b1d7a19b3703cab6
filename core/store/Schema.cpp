#include "core/store/Schema.h"

#include "core/store/RunStore.h"

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
    // 3 -> 4: a profile records the node's emulated slowdown (1 = none).
    R"sql(
ALTER TABLE profiles ADD COLUMN slowdown REAL NOT NULL DEFAULT 1;
)sql",
    // 4 -> 5: the per-message overhead's 95th percentile and the node's run tail ratio, for
    // tail-aware planning.
    R"sql(
ALTER TABLE profiles ADD COLUMN message_overhead_p95_ms REAL;
ALTER TABLE profiles ADD COLUMN run_tail_ratio REAL;
)sql",
    // 5 -> 6: per-input early exits. Each sample records the exit that answered, the confidence
    // rule's value there and whether it went to the edge; calibrations hold every exit's scores
    // on a split (older samples: the configured exit, no confidence, sent when partitioned).
    R"sql(
ALTER TABLE samples ADD COLUMN exit_taken INTEGER;
ALTER TABLE samples ADD COLUMN confidence REAL;
ALTER TABLE samples ADD COLUMN sent_to_edge INTEGER;
UPDATE samples SET exit_taken = exit, sent_to_edge = (bytes_sent > 0);
CREATE TABLE calibrations(
  id INTEGER PRIMARY KEY,
  model_id INTEGER NOT NULL REFERENCES models(id),
  created_at TEXT NOT NULL, dataset TEXT NOT NULL, split TEXT NOT NULL,
  first_index INTEGER NOT NULL, count INTEGER NOT NULL, exits INTEGER NOT NULL);
CREATE TABLE calibration_scores(
  calibration_id INTEGER NOT NULL REFERENCES calibrations(id) ON DELETE CASCADE,
  sample INTEGER NOT NULL, exit INTEGER NOT NULL, label INTEGER NOT NULL, prediction INTEGER NOT NULL,
  entropy REAL NOT NULL, max_softmax REAL NOT NULL, appeal REAL,
  PRIMARY KEY(calibration_id, sample, exit)) WITHOUT ROWID;
)sql",
    // 6 -> 7: each profiled layer keeps its whole configuration (kernel, stride, padding,
    // channels, spatial sizes, MACs, bytes, parameters) for the non-linear latency models;
    // older rows have none and only Table-1 regressions can be fitted on them.
    R"sql(
ALTER TABLE profile_layers ADD COLUMN config_json TEXT;
)sql",
    // 7 -> 8: the cut tensor's codec (core/net/Codec.h). Each sample records the codec it was
    // sent with and the encode and decode times (older samples: fp32 when a cut tensor went,
    // which was then the only codec); profiles hold each node's codec times per tensor size;
    // codec calibrations hold each (exit, partition, codec)'s accuracy and wire bytes on a split.
    R"sql(
ALTER TABLE samples ADD COLUMN codec TEXT;
ALTER TABLE samples ADD COLUMN encode_ms REAL;
ALTER TABLE samples ADD COLUMN decode_ms REAL;
UPDATE samples SET codec = 'fp32', encode_ms = 0, decode_ms = 0 WHERE partition > 0 AND bytes_sent > 0 AND sent_to_edge = 1;
CREATE TABLE profile_codecs(
  profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  codec TEXT NOT NULL, elements INTEGER NOT NULL,
  encode_ms REAL NOT NULL, decode_ms REAL NOT NULL,
  PRIMARY KEY(profile_id, codec, elements)) WITHOUT ROWID;
CREATE TABLE codec_calibrations(
  id INTEGER PRIMARY KEY,
  model_id INTEGER NOT NULL REFERENCES models(id),
  created_at TEXT NOT NULL, dataset TEXT NOT NULL, split TEXT NOT NULL,
  first_index INTEGER NOT NULL, count INTEGER NOT NULL);
CREATE TABLE codec_calibration_rows(
  calibration_id INTEGER NOT NULL REFERENCES codec_calibrations(id) ON DELETE CASCADE,
  exit INTEGER NOT NULL, partition INTEGER NOT NULL, codec TEXT NOT NULL,
  accuracy REAL NOT NULL, bytes_mean REAL NOT NULL, bytes_p95 REAL NOT NULL,
  PRIMARY KEY(calibration_id, exit, partition, codec)) WITHOUT ROWID;
)sql",
    // 8 -> 9: many devices sharing one edge (core/control/FleetRun.h). Each sample keeps the
    // time its frame waited in the edge's queue, whether the edge shed it (busy), and its
    // fleet device's number. A fleet is one run per device; `fleets` and `fleet_devices`
    // tie them together with each device's join, leave and end; `fleet_edge` samples the
    // shared edge's queue and service over time.
    R"sql(
ALTER TABLE samples ADD COLUMN queue_ms REAL;
ALTER TABLE samples ADD COLUMN busy INTEGER;
ALTER TABLE samples ADD COLUMN device INTEGER;
CREATE TABLE fleets(
  id INTEGER PRIMARY KEY,
  experiment TEXT NOT NULL, created_at TEXT NOT NULL, finished_at TEXT,
  planning TEXT NOT NULL, status TEXT NOT NULL, error TEXT, params_json TEXT NOT NULL);
CREATE TABLE fleet_devices(
  fleet_id INTEGER NOT NULL REFERENCES fleets(id) ON DELETE CASCADE,
  device INTEGER NOT NULL, run_id INTEGER REFERENCES runs(id),
  endpoint TEXT, bandwidth_bps REAL, joined_ms REAL NOT NULL, left_ms REAL, end_reason TEXT,
  PRIMARY KEY(fleet_id, device)) WITHOUT ROWID;
CREATE TABLE fleet_edge(
  fleet_id INTEGER NOT NULL REFERENCES fleets(id) ON DELETE CASCADE,
  t_ms REAL NOT NULL, queue_length INTEGER NOT NULL, queue_peak INTEGER NOT NULL,
  frames_out INTEGER NOT NULL, shed INTEGER NOT NULL, service_ms_sum REAL NOT NULL,
  PRIMARY KEY(fleet_id, t_ms)) WITHOUT ROWID;
)sql",
    // 9 -> 10: a fleet records the host and process that drives it, so that a fleet whose
    // controller was killed is marked interrupted on the next open, as a run is.
    R"sql(
ALTER TABLE fleets ADD COLUMN host TEXT;
ALTER TABLE fleets ADD COLUMN pid INTEGER;
)sql",
    // 10 -> 11: a fleet may share several edges. Each device records the edge that serves it,
    // and `fleet_edge` is keyed by edge as well (fleets before this had one, edge 0).
    R"sql(
ALTER TABLE fleet_devices ADD COLUMN edge INTEGER NOT NULL DEFAULT 0;
CREATE TABLE fleet_edge_new(
  fleet_id INTEGER NOT NULL REFERENCES fleets(id) ON DELETE CASCADE,
  edge INTEGER NOT NULL DEFAULT 0,
  t_ms REAL NOT NULL, queue_length INTEGER NOT NULL, queue_peak INTEGER NOT NULL,
  frames_out INTEGER NOT NULL, shed INTEGER NOT NULL, service_ms_sum REAL NOT NULL,
  PRIMARY KEY(fleet_id, edge, t_ms)) WITHOUT ROWID;
INSERT INTO fleet_edge_new(fleet_id, edge, t_ms, queue_length, queue_peak, frames_out, shed, service_ms_sum)
  SELECT fleet_id, 0, t_ms, queue_length, queue_peak, frames_out, shed, service_ms_sum FROM fleet_edge;
DROP TABLE fleet_edge;
ALTER TABLE fleet_edge_new RENAME TO fleet_edge;
)sql",
    // 11 -> 12: on-device adaptations (core/train/Adapt.h): each with its options, figures,
    // per-step metrics (loss, accuracy, every quantised layer's width) and layers.
    R"sql(
CREATE TABLE adaptations(
  id INTEGER PRIMARY KEY,
  experiment TEXT NOT NULL, created_at TEXT NOT NULL, finished_at TEXT,
  model_id INTEGER REFERENCES models(id), mode TEXT NOT NULL, exit INTEGER, partition INTEGER,
  options_json TEXT NOT NULL, workers TEXT, status TEXT NOT NULL, error TEXT,
  shifted_before REAL, shifted_after REAL, clean_before REAL, clean_after REAL,
  param_bytes_held INTEGER, param_bytes_peak INTEGER, gemm_energy_mj REAL, gemm_macs INTEGER,
  seconds REAL, saved_path TEXT, host TEXT, pid INTEGER);
CREATE TABLE adaptation_steps(
  adaptation_id INTEGER NOT NULL REFERENCES adaptations(id) ON DELETE CASCADE,
  step INTEGER NOT NULL, loss REAL NOT NULL, batch_accuracy REAL NOT NULL, eval_accuracy REAL,
  bits_json TEXT NOT NULL,
  PRIMARY KEY(adaptation_id, step)) WITHOUT ROWID;
CREATE TABLE adaptation_layers(
  adaptation_id INTEGER NOT NULL REFERENCES adaptations(id) ON DELETE CASCADE,
  layer INTEGER NOT NULL, name TEXT NOT NULL, trained INTEGER NOT NULL, quantised INTEGER NOT NULL,
  params INTEGER NOT NULL, macs_per_image INTEGER NOT NULL, bits INTEGER NOT NULL,
  PRIMARY KEY(adaptation_id, layer)) WITHOUT ROWID;
)sql",
    // 12 -> 13: how a profile's repeats were taken (profile::ProfileOptions::spread, spanSeconds);
    // NULL in older profiles, whose repeats were taken back to back.
    R"sql(
ALTER TABLE profiles ADD COLUMN spread INTEGER;
ALTER TABLE profiles ADD COLUMN span_s REAL;
)sql",
    // 13 -> 14: how an emulated slowdown waited while the profile was taken (edgent-worker
    // --slowdown-wait: spin or sleep); NULL without a slowdown and in older profiles.
    R"sql(
ALTER TABLE profiles ADD COLUMN slowdown_wait TEXT;
)sql",
    // 14 -> 15: a node's fixed cost of one slice (core/control/ProfileRun.h, sliceMs): what
    // a short slice took in calibration beyond its profiled layers; NULL (read as 0) in older
    // profiles.
    R"sql(
ALTER TABLE profiles ADD COLUMN slice_ms REAL;
)sql",
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kSchemaVersion, "one migration per schema version");

}  // namespace

const char* migrationSql(int fromVersion) { return kMigrations[fromVersion]; }

}  // namespace edgent::core::store
