#include "core/control/RunSummary.h"

#include "core/util/Stats.h"

#include <algorithm>

namespace edgent::core::control {

using net::Sample;

RunSummary summarize(const std::vector<Sample>& samples, double deadlineMs) {
    RunSummary s;
    s.inferences = static_cast<int64_t>(samples.size());
    if (samples.empty()) return s;
    std::vector<double> latency;
    int64_t correct = 0, hits = 0, timely = 0, senders = 0, served = 0;
    double throughputSum = 0.0;
    for (const auto& x : samples) {
        latency.push_back(x.totalMs);
        correct += x.correct();
        // A shed input has no answer: it misses its deadline however soon the busy reply came.
        const bool inTime = deadlineMs > 0 && x.totalMs <= deadlineMs && !x.busy;
        hits += inTime;
        timely += inTime && x.correct();
        s.busy += x.busy;
        if (x.sentToEdge && !x.busy) {
            s.queueMsMean += x.queueMs;
            ++served;
        }
        s.deviceMsMean += x.deviceMs;
        s.transferMsMean += x.transferMs;
        s.edgeMsMean += x.edgeMs;
        s.encodeMsMean += x.encodeMs;
        s.decodeMsMean += x.decodeMs;
        s.latencyMsMean += x.totalMs;
        s.bytesSentMean += static_cast<double>(x.bytesSent);
        s.offloadRate += x.sentToEdge ? 1.0 : 0.0;
        const int taken = x.exitTaken >= 0 ? x.exitTaken : x.exit;
        if (taken >= 0 && taken < 64) {
            if (s.exitFractions.size() <= static_cast<size_t>(taken)) s.exitFractions.resize(static_cast<size_t>(taken) + 1, 0.0);
            s.exitFractions[static_cast<size_t>(taken)] += 1.0;
        }
        if (x.bytesSent > 0 && x.throughputBps > 0) {
            throughputSum += x.throughputBps;
            ++senders;
        }
    }
    const double n = static_cast<double>(samples.size());
    s.accuracy = static_cast<double>(correct) / n;
    s.deviceMsMean /= n;
    s.transferMsMean /= n;
    s.edgeMsMean /= n;
    s.encodeMsMean /= n;
    s.decodeMsMean /= n;
    s.latencyMsMean /= n;
    s.bytesSentMean /= n;
    s.offloadRate /= n;
    for (double& f : s.exitFractions) f /= n;
    s.queueMsMean = served ? s.queueMsMean / static_cast<double>(served) : 0.0;
    s.throughputBpsMean = senders ? throughputSum / static_cast<double>(senders) : 0.0;
    std::sort(latency.begin(), latency.end());
    s.latencyMsP50 = nearestRank(latency, 0.50);
    s.latencyMsP95 = nearestRank(latency, 0.95);
    s.deadlineHitRate = deadlineMs > 0 ? static_cast<double>(hits) / n : -1.0;
    s.timelyAccuracy = deadlineMs > 0 ? static_cast<double>(timely) / n : -1.0;
    return s;
}

}  // namespace edgent::core::control
