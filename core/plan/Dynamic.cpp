#include "core/plan/Dynamic.h"

#include "core/model/ModelFile.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace edgent::core::plan {

double BandwidthTrace::kbpsAt(double timeS) const {
    if (points.empty()) return 0.0;
    auto it = std::upper_bound(points.begin(), points.end(), timeS, [](double t, const TracePoint& p) { return t < p.timeS; });
    return it == points.begin() ? points.front().kbps : std::prev(it)->kbps;
}

namespace {

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

bool parseNumber(const std::string& field, double& out) {
    const std::string f = trim(field);
    if (f.empty()) return false;
    char* end = nullptr;
    out = std::strtod(f.c_str(), &end);
    return end == f.c_str() + f.size() && std::isfinite(out);
}

}  // namespace

Result<BandwidthTrace> parseBandwidthTrace(const std::string& text, const std::string& name) {
    BandwidthTrace trace;
    std::istringstream in(text);
    std::string line;
    int lineNo = 0;
    bool sawData = false;
    while (std::getline(in, line)) {
        ++lineNo;
        const std::string t = trim(line);
        if (t.empty() || t[0] == '#') continue;
        const auto comma = t.find(',');
        const std::string where = name + " line " + std::to_string(lineNo) + ": ";
        if (comma == std::string::npos) return makeError(where + "expected two columns, time_s,kbps");
        const std::string a = t.substr(0, comma), b = t.substr(comma + 1);
        double time = 0, kbps = 0;
        if (!parseNumber(a, time)) {
            // One header line is allowed before the data.
            if (!sawData && trace.points.empty() && lineNo == 1) {
                sawData = true;
                continue;
            }
            return makeError(where + "time stamp '" + trim(a) + "' is not a number");
        }
        sawData = true;
        if (b.find(',') != std::string::npos) return makeError(where + "expected two columns, time_s,kbps");
        if (!parseNumber(b, kbps)) return makeError(where + "bandwidth '" + trim(b) + "' is not a number");
        if (time < 0) return makeError(where + "time stamp " + trim(a) + " is negative");
        if (!trace.points.empty() && time <= trace.points.back().timeS)
            return makeError(where + "time stamps must increase, but " + trim(a) + " s follows " +
                             std::to_string(trace.points.back().timeS) + " s");
        if (kbps <= 0) return makeError(where + "bandwidth must be positive, got " + trim(b) + " kbps");
        trace.points.push_back({time, kbps});
    }
    if (trace.points.empty()) return makeError(name + ": the trace has no data lines (time_s,kbps)");
    if (trace.points.front().timeS != 0.0) return makeError(name + ": the first time stamp must be 0");
    return trace;
}

Result<BandwidthTrace> readBandwidthTrace(const std::string& path) {
    auto bytes = readFileBytes(path);
    if (!bytes) return makeError(bytes.error());
    return parseBandwidthTrace(*bytes, path);
}

BandwidthEstimator::BandwidthEstimator(double messageOverheadMs, CusumOptions options)
    : overheadMs_(std::max(0.0, messageOverheadMs)),
      opt_(options) {}

bool BandwidthEstimator::observe(int64_t bytes, double transferMs) {
    if (bytes <= 0 || !(transferMs > 0)) return false;
    // The wire time is the transfer less the fixed overhead, but never less than a tenth of
    // it: on a fast link the overhead dominates and the estimate is only a lower bound.
    const double wireMs = std::max(transferMs - overheadMs_, 0.1 * transferMs);
    return observeBps(static_cast<double>(bytes) * 8.0 / (wireMs / 1000.0));
}

bool BandwidthEstimator::observeBps(double bps) {
    if (!(bps > 0) || !std::isfinite(bps)) return false;
    const double x = std::log2(bps);
    ++total_;
    bool fired = false;
    if (n_ >= opt_.warmup) {
        // One observation adds at most 0.75 h, so a lone outlier cannot fire: a change
        // point needs at least two observations that agree.
        const double d = std::clamp(x - mean_, -0.75 * opt_.thresholdLog2, 0.75 * opt_.thresholdLog2);
        up_ = std::max(0.0, up_ + d - opt_.driftLog2);
        down_ = std::max(0.0, down_ - d - opt_.driftLog2);
        if (up_ > opt_.thresholdLog2 || down_ > opt_.thresholdLog2) {
            fired = true;
            ++changes_;
            n_ = 0;
            up_ = down_ = 0.0;
        }
    }
    ++n_;
    mean_ += (x - mean_) / static_cast<double>(std::min(n_, std::max(1, opt_.memory)));
    return fired;
}

double BandwidthEstimator::estimateBps() const { return n_ > 0 ? std::exp2(mean_) : 0.0; }

ConfigurationMap::ConfigurationMap(const LatencyTable& table, const std::vector<double>& exitAccuracy, double deadlineMs,
                                   Policy policy, double minBps, double maxBps, int statesPerDecade)
    : ConfigurationMap([&](double bps) { return choosePlan(table, exitAccuracy, bps, deadlineMs, policy); }, minBps, maxBps,
                       statesPerDecade) {}

ConfigurationMap::ConfigurationMap(const std::function<PlanResult(double bps)>& planFor, double minBps, double maxBps,
                                   int statesPerDecade)
    : minBps_(minBps), perDecade_(std::max(1, statesPerDecade)) {
    const int n = std::max(1, static_cast<int>(std::ceil(std::log10(maxBps / minBps) * perDecade_)));
    plans_.reserve(static_cast<size_t>(n));
    for (int s = 0; s < n; ++s) plans_.push_back(planFor(stateLowerBps(s)));
}

int ConfigurationMap::stateFor(double bps) const {
    if (!(bps > minBps_)) return 0;
    const int s = static_cast<int>(std::floor(std::log10(bps / minBps_) * perDecade_ + 1e-9));
    return std::clamp(s, 0, states() - 1);
}

double ConfigurationMap::stateLowerBps(int state) const {
    return minBps_ * std::pow(10.0, static_cast<double>(state) / perDecade_);
}

DynamicPlanner::DynamicPlanner(const ConfigurationMap& map, double initialBps, double messageOverheadMs, CusumOptions options)
    : map_(map),
      estimator_(messageOverheadMs, options),
      options_(options),
      state_(map.stateFor(initialBps)) {}

int64_t DynamicPlanner::stateLowerBps() const { return static_cast<int64_t>(std::llround(map_.stateLowerBps(state_))); }

DynamicPlanner::Decision DynamicPlanner::observe(int64_t bytesSent, double transferMs, int64_t probeBytes, double probeMs) {
    Decision d;
    const bool sent = bytesSent > 0;
    d.changePoint = estimator_.observe(sent ? bytesSent : probeBytes, sent ? transferMs : probeMs);
    d.estimateBps = estimator_.estimateBps();
    const int next = map_.stateFor(d.estimateBps);
    const bool settling = estimator_.segmentLength() <= options_.warmup + 3 || estimator_.changePoints() == 0;
    if (d.estimateBps > 0 && next != state_ && (d.changePoint || settling)) {
        const PlanResult& was = map_.plan(state_);
        const PlanResult& now = map_.plan(next);
        state_ = next;
        source_ = d.changePoint ? "change-point" : "estimate";
        if (!sameConfiguration(now, was)) d.switchTo = now;
    }
    return d;
}

}  // namespace edgent::core::plan
