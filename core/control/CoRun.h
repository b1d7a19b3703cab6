#pragma once
// One co-inference run from start to end: spawn or reach the two workers, load the model
// into both, configure the device (exit, partition, bandwidth, the edge's address), stream,
// collect samples, and shut local workers down. Used by `edgent run`; the GUI drives the
// Controller directly for live runs.

#include "core/control/Controller.h"
#include "core/plan/Dynamic.h"

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace edgent::core::control {

struct CoRunOptions {
    std::string modelPath;       // native model JSON
    bool local = true;           // spawn both workers on loopback
    std::string deviceEndpoint;  // when not local
    std::string edgeEndpoint;
    int exit = 0;
    int partition = 0;
    double bandwidthBps = 0.0;  // shaper rate; 0 = measure only (the link is really shaped)
    int64_t count = 100;
    double rateHz = 0.0;  // 0: back-to-back
    std::string dataset = "fashion-mnist";
    std::string dataDir;  // on the device's host
    int64_t offset = 0;   // first test image
    std::string curveKeysDir;
    int workerThreads = 1;
    int edgeThreads = 0;          // local edge's threads; 0: workerThreads
    double deviceSlowdown = 1.0;  // local device: emulate a device this many times slower
    int requestTimeoutMs = 15000;
    int sampleSilenceLimitMs = 30000;  // the run fails when the device goes quiet this long
    double durationS = 0.0;            // > 0: stop after this long even if count is not reached

    // Trace replay: the shaper's rate follows the trace (time 0 = the stream's start).
    const plan::BandwidthTrace* trace = nullptr;
    // Dynamic mode: the configuration follows the estimated bandwidth through this map.
    // The first configuration is the map's plan for bandwidthBps (the initial assumption).
    const plan::ConfigurationMap* dynamicMap = nullptr;
    double messageOverheadMs = 0.0;  // from the profile, for the bandwidth estimator
    plan::CusumOptions cusum;
};

struct CoRunResult {
    std::vector<net::Sample> samples;
    std::vector<WorkerEvent> events;
    bool failed = false;
    std::string error;  // one line naming the worker when one died
    QJsonObject deviceHello, edgeHello, deviceStats, edgeStats;
    double wallSeconds = 0.0;
    int64_t changePoints = 0;      // dynamic mode
    int64_t reconfigurations = 0;  // dynamic mode: configurations sent after the first
};

// Runs to completion, failure or cancellation. onSample and onEvent run on the
// controller's I/O thread (see Controller).
CoRunResult runCoInference(const CoRunOptions& options, const std::function<void(const net::Sample&)>& onSample = {},
                           const std::function<void(const WorkerEvent&)>& onEvent = {},
                           const std::atomic<bool>* cancel = nullptr);

struct RunSummary {
    int64_t inferences = 0;
    double accuracy = 0.0;
    double latencyMsP50 = 0.0, latencyMsP95 = 0.0, latencyMsMean = 0.0;
    double deviceMsMean = 0.0, transferMsMean = 0.0, edgeMsMean = 0.0;
    double deadlineHitRate = -1.0;  // -1 when no deadline was given
    double timelyAccuracy = -1.0;   // correct and within the deadline; -1 when no deadline was given
    double bytesSentMean = 0.0;
    double throughputBpsMean = 0.0;  // over samples that sent bytes
};

// Percentiles use the nearest-rank method.
RunSummary summarize(const std::vector<net::Sample>& samples, double deadlineMs = 0.0);

}  // namespace edgent::core::control
