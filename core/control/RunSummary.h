#pragma once
// A run's figures from its samples: what `edgent run --json` and `edgent sweep` report.
// Torch-free.

#include "core/net/Protocol.h"

#include <vector>

namespace edgent::core::control {

struct RunSummary {
    int64_t inferences = 0;
    double accuracy = 0.0;
    double latencyMsP50 = 0.0, latencyMsP95 = 0.0, latencyMsMean = 0.0;
    double deviceMsMean = 0.0, transferMsMean = 0.0, edgeMsMean = 0.0;
    double encodeMsMean = 0.0, decodeMsMean = 0.0;  // the cut tensor's codec, over every sample
    double deadlineHitRate = -1.0;  // -1 when no deadline was given
    double timelyAccuracy = -1.0;   // correct and within the deadline; -1 when no deadline was given
    double bytesSentMean = 0.0;
    double throughputBpsMean = 0.0;  // over samples that sent bytes
    double offloadRate = 0.0;        // samples sent to the edge
    std::vector<double> exitFractions;  // samples answered at each exit
    // Many devices sharing an edge: samples the edge shed (busy; they count as wrong and late),
    // and the mean time frames waited in its queue, over the samples it served.
    int64_t busy = 0;
    double queueMsMean = 0.0;
};

// Percentiles use the nearest-rank method.
RunSummary summarize(const std::vector<net::Sample>& samples, double deadlineMs = 0.0);

}  // namespace edgent::core::control
