#pragma once
// Edgent's dynamic mode (TWC 2019): bandwidth traces, an online bandwidth estimator with a
// change-point detector, and the configuration map that holds the best (exit, partition)
// for every bandwidth state. Torch-free.
//
// Change points: a two-sided CUSUM on log2 of the observed throughput (Page, 1954). It was
// chosen over Bayesian online change-point detection because a bandwidth step is a shift
// of the mean of a noisy but otherwise stable signal, which is CUSUM's textbook case; it
// costs O(1) per sample, and its two parameters read in plain units: drift k ignores
// changes smaller than 2^k (k = 0.25: about 19%), and threshold h fires once the evidence
// adds up to h doublings or halvings. One observation adds at most 0.75 h, so a single
// outlier (a scheduling hiccup) never fires alone. A step by a factor f fires after
// max(2, ceil(h / (min(|log2 f|, 0.75 h) - k))) samples: two for a 10x step, three for 2x.

#include "core/plan/Planner.h"
#include "core/util/Result.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace edgent::core::plan {

// A bandwidth trace: piecewise-constant kbps from each time stamp to the next; the last
// value holds after the last stamp. The file is CSV with the columns time_s,kbps; a
// header line and lines starting with '#' are skipped.
struct TracePoint {
    double timeS = 0.0;
    double kbps = 0.0;
};

struct BandwidthTrace {
    std::vector<TracePoint> points;
    double kbpsAt(double timeS) const;
    double durationS() const { return points.empty() ? 0.0 : points.back().timeS; }
};

// Errors name the file, the line and what is wrong: a non-numeric field, a time stamp that
// does not increase, a bandwidth that is not positive, a trace that starts after 0.
Result<BandwidthTrace> parseBandwidthTrace(const std::string& text, const std::string& name);
Result<BandwidthTrace> readBandwidthTrace(const std::string& path);

struct CusumOptions {
    double driftLog2 = 0.25;
    double thresholdLog2 = 1.5;
    int warmup = 2;   // observations that set a new segment's reference before CUSUM runs
    int memory = 20;  // the estimate is a running mean over at most this many observations
};

// Estimates the uplink's bandwidth from observed transfers: throughput = bytes*8 over the
// transfer time less the fixed per-message overhead measured during profiling.
class BandwidthEstimator {
public:
    explicit BandwidthEstimator(double messageOverheadMs = 0.0, CusumOptions options = {});

    // Feeds one transfer; returns true when a change point fired on it. After a change
    // point the estimate restarts from this observation.
    bool observe(int64_t bytes, double transferMs);
    // Feeds an observed throughput in bits per second (used by observe()).
    bool observeBps(double bps);

    double estimateBps() const;  // 0 before the first observation
    int64_t observations() const { return total_; }
    int64_t changePoints() const { return changes_; }
    int segmentLength() const { return n_; }

private:
    double overheadMs_;
    CusumOptions opt_;
    double mean_ = 0.0;  // log2 bps over the current segment
    int n_ = 0;
    double up_ = 0.0, down_ = 0.0;
    int64_t total_ = 0, changes_ = 0;
};

// The best plan for each bandwidth state: states are log-spaced bands between minBps and
// maxBps, and each band is planned at its lower edge, so a plan holds for any bandwidth
// inside its band.
class ConfigurationMap {
public:
    ConfigurationMap(const LatencyTable& table, const std::vector<double>& exitAccuracy, double deadlineMs, Policy policy,
                     double minBps = 10e3, double maxBps = 1e9, int statesPerDecade = 10);
    // Any policy, adaptive ones included: each state's plan is planFor(its lower edge).
    ConfigurationMap(const std::function<PlanResult(double bps)>& planFor, double minBps = 10e3, double maxBps = 1e9,
                     int statesPerDecade = 10);

    int states() const { return static_cast<int>(plans_.size()); }
    int stateFor(double bps) const;
    double stateLowerBps(int state) const;
    const PlanResult& plan(int state) const { return plans_[static_cast<size_t>(state)]; }
    const PlanResult& planFor(double bps) const { return plan(stateFor(bps)); }

private:
    double minBps_;
    int perDecade_;
    std::vector<PlanResult> plans_;
};

// Dynamic mode's decisions, shared by `edgent run --dynamic` and the window: the estimator,
// the map, and the state whose configuration is in force. Not thread-safe.
class DynamicPlanner {
public:
    DynamicPlanner(const ConfigurationMap& map, double initialBps, double messageOverheadMs, CusumOptions options = {});

    struct Decision {
        bool changePoint = false;
        double estimateBps = 0.0;
        std::optional<PlanResult> switchTo;  // a new configuration to send to the device
    };
    // Feeds one sample: its transfer (or the probe's) goes to the estimator. Re-plans at a
    // change point and while the new segment's estimate settles; switchTo is set when the
    // state's plan differs from the one in force.
    Decision observe(int64_t bytesSent, double transferMs, int64_t probeBytes, double probeMs);

    const PlanResult& plan() const { return map_.plan(state_); }
    int64_t stateLowerBps() const;
    const std::string& source() const { return source_; }  // initial, change-point or estimate
    const ConfigurationMap& map() const { return map_; }
    const BandwidthEstimator& estimator() const { return estimator_; }

private:
    const ConfigurationMap& map_;
    BandwidthEstimator estimator_;
    CusumOptions options_;
    int state_;
    std::string source_ = "initial";
};

}  // namespace edgent::core::plan
