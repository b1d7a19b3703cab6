#pragma once
// Edgent's predictor and optimizer, and the paper's baselines.
//
// Predicted latency A(e, p) = sum of device-layer times over [0, p)
//                           + (bytes(p) * 8 / B + per-message overhead)   when p < n_e
//                           + sum of edge-layer times over [p, n_e).
// Per-layer times come from the regressions (Edgent) or from the measured medians (lookup).
// Torch-free; a decision over every exit and partition is a few hundred additions.

#include "core/model/ModelSpec.h"
#include "core/plan/Regression.h"

#include <map>
#include <string>
#include <vector>

namespace edgent::core::plan {

enum class Policy { Edgent, DeviceOnly, EdgeOnly, PartitionOnly, ExitOnly };
const char* policyName(Policy p);
Result<Policy> policyFromName(const std::string& name);
std::vector<std::string> policyNames();

// Per-exit, per-layer latency on both nodes and the bytes each partition transfers.
class LatencyTable {
public:
    // From measured per-layer medians: ms[exit][layer] per node.
    static Result<LatencyTable> fromLayerTimes(const ModelSpec& spec, const std::vector<std::vector<double>>& deviceMs,
                                               const std::vector<std::vector<double>>& edgeMs, double overheadMs);
    // From the regressions of each node, applied to every layer's Table-1 features.
    static Result<LatencyTable> fromRegressions(const ModelSpec& spec, const std::map<LayerKind, LinearFit>& device,
                                                const std::map<LayerKind, LinearFit>& edge, double overheadMs);

    int numExits() const { return static_cast<int>(deviceMs_.size()); }
    int pathLength(int exit) const { return static_cast<int>(deviceMs_[static_cast<size_t>(exit)].size()); }
    // Bytes on the wire at partition p (tensor + frame header), 0 when p == n.
    int64_t wireBytes(int exit, int p) const { return wireBytes_[static_cast<size_t>(exit)][static_cast<size_t>(p)]; }
    double deviceMs(int exit, int p) const { return devicePrefix_[static_cast<size_t>(exit)][static_cast<size_t>(p)]; }
    double edgeMs(int exit, int p) const { return edgeSuffix_[static_cast<size_t>(exit)][static_cast<size_t>(p)]; }
    double overheadMs() const { return overheadMs_; }
    // A(e, p) at bandwidth B (bits per second).
    double predictMs(int exit, int p, double bandwidthBps) const;

private:
    std::vector<std::vector<double>> deviceMs_, edgeMs_;
    std::vector<std::vector<double>> devicePrefix_, edgeSuffix_;  // [e][p], p in 0..n
    std::vector<std::vector<int64_t>> wireBytes_;
    double overheadMs_ = 0.0;
    void finish(const ModelSpec& spec);
};

struct PlanResult {
    Policy policy = Policy::Edgent;
    int exit = 0;
    int partition = 0;
    double predictedMs = 0.0;
    double accuracy = 0.0;
    bool feasible = false;
};

// Chooses (exit, partition) for bandwidth B and deadline D. When nothing meets the deadline,
// feasible is false and the policy's fastest option is offered.
//   edgent:         the most accurate exit with a partition meeting D, then its fastest partition
//   device-only:    the final exit entirely on the device
//   edge-only:      the final exit entirely on the edge (raw input sent)
//   partition-only: the final exit at its fastest partition (Neurosurgeon)
//   exit-only:      the most accurate exit that meets D on the device alone (BranchyNet)
PlanResult choosePlan(const LatencyTable& table, const std::vector<double>& exitAccuracy, double bandwidthBps, double deadlineMs,
                      Policy policy);

}  // namespace edgent::core::plan
