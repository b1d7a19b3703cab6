#pragma once
// The run store: one SQLite file holding every experiment, run, sample, event, model,
// profile and regression, readable by sqlite3 and pandas. Schema in docs/schema.md.
//
// Versioned with PRAGMA user_version and numbered migrations: an older file is upgraded
// when opened read-write, a newer one is refused. WAL journal; runs left "running" by a
// process that died are marked "interrupted" the next time the file is opened.
//
// Thread safety: a RunStore is one connection; use it from one thread at a time. The
// SampleWriter owns its own connection on its own thread.

#include "core/model/Confidence.h"
#include "core/net/Protocol.h"
#include "core/train/Adapt.h"
#include "core/train/CodecCalibration.h"
#include "core/plan/Regression.h"
#include "core/profile/Profiler.h"
#include "core/util/Result.h"

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

struct sqlite3;

namespace edgent::core::store {

inline constexpr int kSchemaVersion = 15;

struct SampleRow {
    net::Sample sample;
    double predictedMs = NAN;  // NULL in the database when unknown
    double energyMj = NAN;
    std::string energySource;  // "model" or "sensor:<name>"; empty = NULL
    int device = -1;           // a fleet run's device number (core/control/FleetRun.h); -1 = NULL
};

struct EventRow {
    double tMs = 0.0;      // controller clock, ms since the device's stream started (negative before)
    std::string wallTime;  // ISO-8601
    std::string kind;      // slider, plan, change-point, worker-up, worker-down, stream-error, ...
    std::string role;      // device, edge, or empty
    std::string message;
    double value = NAN;
};

// Many devices sharing one edge (core/control/FleetRun.h): one run per device, tied together.
struct FleetDeviceRow {
    int device = 0;
    int64_t runId = 0;  // 0: none (the device never started)
    std::string endpoint;
    double bandwidthBps = NAN;
    double joinedMs = 0.0;  // the fleet's clock
    double leftMs = NAN;    // NaN while it runs
    std::string endReason;
    int edge = 0;  // the edge that serves it (schema 11; 0 before)
};

struct FleetEdgeRow {
    int edge = 0;  // which of the fleet's edges (schema 11)
    double tMs = 0.0;
    int64_t queueLength = 0, queuePeak = 0, framesOut = 0, shed = 0;
    double serviceMsSum = 0.0;
};

struct FleetInfo {
    int64_t id = 0;
    std::string experiment, createdAt, finishedAt, planning, status, error, paramsJson;
    std::string host;  // where the controller ran (schema 10; empty before)
    int64_t pid = 0;
    std::vector<FleetDeviceRow> devices;
    std::vector<FleetEdgeRow> edge;
};

// An on-device adaptation (core/train/Adapt.h) as stored (schema 12).
struct AdaptationInfo {
    int64_t id = 0;
    std::string experiment, createdAt, finishedAt, status, error, modelHash, optionsJson, workers, savedPath;
    AdaptReport report;  // its figures, every step and every layer
};

struct ModelRecord {
    std::string hash;  // sha256 of the spec JSON and the weights
    std::string name;
    std::string specJson;
    std::string sourcePath;
    int64_t weightsBytes = 0;
    std::vector<double> exitAccuracy;
};

struct RunStart {
    std::string experiment = "default";
    int64_t modelId = 0;  // 0 = no model row
    std::string modelHash;
    std::string policy;
    std::map<std::string, std::string> params;
};

struct RunInfo {
    int64_t id = 0;
    std::string experiment;
    std::string status;
    std::string startedAt, endedAt;
    std::string host, os;
    int64_t pid = 0;
    std::string workbenchVersion, gitRevision, libtorchVersion;
    std::string modelHash, modelName, policy, error;
    int64_t sampleCount = 0;
    std::map<std::string, std::string> params;
};

struct RunStats {
    int64_t samples = 0;
    double accuracy = 0.0;
    double latencyMsP50 = 0.0, latencyMsP95 = 0.0, latencyMsMean = 0.0;
    double deviceMsMean = 0.0, transferMsMean = 0.0, edgeMsMean = 0.0;
    double bytesSentMean = 0.0;
    double energyMjMean = NAN;
    double predictedMsMean = NAN;
    double offloadRate = 0.0;               // samples sent to the edge
    std::vector<int64_t> exitsTaken;        // samples answered at each exit
};

struct StoredProfile {
    int64_t id = 0;
    std::string node;  // device or edge
    std::string host;
    int threads = 0;
    double overheadMs = 0.0;     // per-message cost measured at calibration (median)
    double overheadP95Ms = 0.0;  // its 95th percentile (the median in profiles older than schema 5)
    double tailRatio = 1.0;      // a calibration run's p95 compute over the profiled median (1 before schema 5)
    double slowdown = 1.0;       // the node's emulated slowdown when profiled (1 = none)
    std::string slowdownWait;    // how that slowdown waited, spin or sleep (empty: none, or before schema 14)
    int spread = 1;              // passes each layer's repeats were spread over (1 before schema 13: back to back)
    double spanSeconds = 0.0;    // the least time those passes were paced over (0 before schema 13)
    double sliceMs = 0.0;        // the fixed cost of one slice on this node, beyond its layers (0 before schema 15)
    profile::ProfileResult result;
    std::map<LayerKind, plan::LinearFit> regressions;      // Edgent's Table-1 features
    std::map<LayerKind, plan::LinearFit> regressionsMacs;  // plus the MAC term for conv and fc
};

class RunStore {
public:
    enum class Mode { ReadWrite, ReadOnly };

    // Opens (ReadWrite: creating and migrating if needed) and checks the file. A file that
    // is not SQLite, is corrupt, or has a newer schema is refused and left untouched.
    static Result<std::unique_ptr<RunStore>> open(const std::string& path, Mode mode = Mode::ReadWrite);
    ~RunStore();
    RunStore(const RunStore&) = delete;
    RunStore& operator=(const RunStore&) = delete;

    const std::string& path() const { return path_; }
    int schemaVersion() const;
    // Runs this open() found "running" with their process gone, now "interrupted".
    const std::vector<int64_t>& interruptedOnOpen() const { return interrupted_; }
    // Fleets this open() found "running" with their controller gone, now "interrupted".
    const std::vector<int64_t>& interruptedFleetsOnOpen() const { return interruptedFleets_; }

    Result<int64_t> upsertModel(const ModelRecord& model);
    Result<int64_t> beginRun(const RunStart& start);
    Status finishRun(int64_t runId, const std::string& status, const std::string& error = {});
    Status insertSamples(int64_t runId, const std::vector<SampleRow>& rows);
    Status insertEvents(int64_t runId, const std::vector<EventRow>& rows);

    Result<int64_t> saveProfile(int64_t modelId, const std::string& node, const std::string& host, int threads,
                                const profile::ProfileOptions& options, const profile::ProfileResult& result, double overheadMs,
                                double overheadP95Ms, double tailRatio, double sliceMs = 0.0);
    Status saveRegression(int64_t profileId, const std::string& node, const plan::LinearFit& fit);
    // The newest profile of a model on one node, with its regressions.
    // The newest profile of a model on a node; an empty hash: of any model.
    Result<StoredProfile> latestProfile(const std::string& modelHash, const std::string& node);

    // Calibrations of per-input early exits (core/train/Calibration.h); the newest of a
    // model on a split ("validation" or "test").
    Result<int64_t> saveCalibration(int64_t modelId, const CalibrationSet& calibration);
    Result<CalibrationSet> latestCalibration(const std::string& modelHash, const std::string& split = "validation");
    // Codec calibrations (core/train/CodecCalibration.h), likewise.
    Result<int64_t> saveCodecCalibration(int64_t modelId, const CodecCalibration& calibration);
    Result<CodecCalibration> latestCodecCalibration(const std::string& modelHash, const std::string& split = "validation");

    // Fleets (core/store/FleetStore.cpp).
    Result<int64_t> beginFleet(const std::string& experiment, const std::string& planning, const std::string& paramsJson);
    Status saveFleetDevice(int64_t fleetId, const FleetDeviceRow& row);  // inserts or replaces
    Status addFleetEdge(int64_t fleetId, const FleetEdgeRow& row);
    Status finishFleet(int64_t fleetId, const std::string& status, const std::string& error = {});
    Result<FleetInfo> fleet(int64_t fleetId);

    // On-device adaptations (core/store/AdaptStore.cpp): begun running, finished with their report.
    Result<int64_t> beginAdaptation(const std::string& experiment, int64_t modelId, const std::string& mode,
                                    const std::string& optionsJson, const std::string& workers);
    Status finishAdaptation(int64_t id, const std::string& status, const std::string& error, const AdaptReport& report,
                            const std::string& savedPath = {});
    Result<AdaptationInfo> adaptation(int64_t id);

    Result<std::vector<RunInfo>> listRuns();  // with every run's params
    Result<RunInfo> run(int64_t runId);
    Result<std::vector<SampleRow>> samples(int64_t runId);
    Result<std::vector<EventRow>> events(int64_t runId);
    Result<RunStats> stats(int64_t runId);
    Result<std::string> quickCheck();

    sqlite3* handle() { return db_; }

private:
    RunStore() = default;
    Status exec(const char* sql);
    Status commit();  // COMMIT, or ROLLBACK when the commit fails

    sqlite3* db_ = nullptr;
    std::string path_;
    std::vector<int64_t> interrupted_;
    std::vector<int64_t> interruptedFleets_;
};

// Writes a run's samples and events from a background thread in batched transactions, so
// the producer (the controller's I/O thread, the UI) never waits on the disk.
class SampleWriter {
public:
    struct Options {
        size_t batchRows = 2000;                                 // commit when this many rows are queued...
        int flushMs = 100;                                       // ...or this long after the oldest queued row
        std::function<void(int64_t committedSamples)> onCommit;  // called on the writer thread
    };

    // Opens its own connection to `path` (which must already hold the run).
    static Result<std::unique_ptr<SampleWriter>> start(const std::string& path, int64_t runId, Options options);
    static Result<std::unique_ptr<SampleWriter>> start(const std::string& path, int64_t runId);
    ~SampleWriter();

    void add(SampleRow row);
    void addEvent(EventRow row);
    int64_t committedSamples() const { return committed_.load(); }
    // Flushes everything, switches to synchronous=FULL, records the final status and stops.
    Status finish(const std::string& status, const std::string& error = {});
    // The first write error, if any (the writer keeps the queue and retries).
    std::string lastError() const;

private:
    SampleWriter() = default;
    void loop();

    std::string path_;
    int64_t runId_ = 0;
    Options options_;
    std::unique_ptr<RunStore> store_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<SampleRow> samples_;
    std::deque<EventRow> events_;
    bool stop_ = false;
    std::string error_;
    std::atomic<int64_t> committed_{0};
    std::thread thread_;
};

// The current time as ISO-8601 with milliseconds and offset.
std::string nowIso();

}  // namespace edgent::core::store
