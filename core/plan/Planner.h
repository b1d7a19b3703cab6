#pragma once
// Edgent's predictor and optimizer, and the paper's baselines.
//
// Predicted latency A(e, p) = sum of device-layer times over [0, p)
//                           + (bytes(p) * 8 / B + per-message overhead)   when p < n_e
//                           + sum of edge-layer times over [p, n_e).
// Per-layer times come from the regressions (Edgent) or from the measured medians (lookup).
// Torch-free; a decision over every exit and partition is a few hundred additions.

#include "core/model/Confidence.h"
#include "core/model/ModelSpec.h"
#include "core/net/Codec.h"
#include "core/plan/Regression.h"

#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace edgent::core::plan {

// Edgent's policy and the paper's baselines decide once for every input; the adaptive ones
// (core/plan/Adaptive.h) decide per input with confidence rules at early exits.
enum class Policy { Edgent, DeviceOnly, EdgeOnly, PartitionOnly, ExitOnly, Branchynet, Appealnet, Cascade, Adaptive };
const char* policyName(Policy p);
Result<Policy> policyFromName(const std::string& name);
std::vector<std::string> policyNames();
bool isAdaptive(Policy p);

using core::EarlyExits;

// What one codec of the cut tensor (core/net/Codec.h) costs at every exit e and partition p
// ([e][p], p in 0..n): the frame's bytes, the device's encode and the edge's decode time,
// and the accuracy it loses against fp32 (from a validation calibration). NaN where the
// codec was not calibrated; it never applies at p = n (nothing sent), and at p = 0 (the raw
// input) only through its lossless stage.
struct CodecCosts {
    net::Codec codec;
    std::vector<std::vector<double>> bytes, encodeMs, decodeMs, accuracyDrop;
};

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
    // One layer's predicted time on either node.
    double deviceLayerMs(int exit, int i) const { return deviceMs_[static_cast<size_t>(exit)][static_cast<size_t>(i)]; }
    double edgeLayerMs(int exit, int i) const { return edgeMs_[static_cast<size_t>(exit)][static_cast<size_t>(i)]; }
    double overheadMs() const { return overheadMs_; }
    // A node's fixed cost of one slice, beyond the sum of its layers (the input's conversion,
    // the result's, a first layer's cold start): added once to deviceMs(e, p) for p > 0 and to
    // edgeMs(e, p) for p < n. 0 until set.
    void setSliceMs(double deviceMs, double edgeMs);
    // The same table on a device `scale` times slower: its layers, its slice cost and its
    // codecs' encode times scaled; the edge, the wire and the codec options as they were.
    LatencyTable withDeviceScaled(double scale) const;
    double deviceSliceMs() const { return deviceSliceMs_; }
    double edgeSliceMs() const { return edgeSliceMs_; }
    // A(e, p) at bandwidth B (bits per second), with the cut tensor sent by codec option
    // `codec` (0: fp32, the frame as finish() sized it).
    double predictMs(int exit, int p, double bandwidthBps, int codec = 0) const;

    // Codec options beyond fp32 (option 0). addCodec replaces an option of the same codec.
    void addCodec(CodecCosts costs);
    int numCodecs() const { return 1 + static_cast<int>(codecs_.size()); }
    net::Codec codecAt(int option) const { return option == 0 ? net::Codec{} : codecs_[static_cast<size_t>(option - 1)].codec; }
    // The option of a codec, or -1 when the table has none.
    int codecOption(net::Codec codec) const;
    // Whether option `codec` can carry partition p of exit e (fp32 always can).
    bool codecApplies(int codec, int exit, int p) const;
    // Accuracy lost against fp32 (0 for option 0).
    double accuracyDrop(int codec, int exit, int p) const;
    double codecBytes(int codec, int exit, int p) const;

private:
    std::vector<CodecCosts> codecs_;
    std::vector<std::vector<double>> deviceMs_, edgeMs_;
    std::vector<std::vector<double>> devicePrefix_, edgeSuffix_;  // [e][p], p in 0..n
    std::vector<std::vector<int64_t>> wireBytes_;
    double overheadMs_ = 0.0;
    double deviceSliceMs_ = 0.0, edgeSliceMs_ = 0.0;
    void finish(const ModelSpec& spec);
};

struct PlanResult {
    Policy policy = Policy::Edgent;
    int exit = 0;  // the final exit: every input's, or those no early exit is sure of
    int partition = 0;
    double predictedMs = 0.0;  // the predictor's latency; adaptive plans: the expected (mean) latency
    double accuracy = 0.0;     // adaptive plans: the expected accuracy on the calibration split
    bool feasible = false;
    net::Codec codec;  // how the cut tensor travels (fp32 when nothing or the raw input is sent)
    // Adaptive plans only.
    EarlyExits early;
    double predictedP95Ms = NAN;          // the 95th percentile of the latency mixture
    double energyMj = NAN;                // expected device energy per input
    double offloadRate = NAN;             // inputs sent to the edge
    std::vector<double> exitFractions;    // per model exit: inputs answered there
    bool meetsTarget = true;              // reaches the target accuracy, when one was set
};

// "exit 4, partition 8", with the early exits when there are any: "exit 4, partition 8, early
// exits 0, 1 at entropy < 0.3".
std::string describePlan(const PlanResult& plan);

// Whether two plans configure the device alike (exit, partition, codec and early exits).
bool sameConfiguration(const PlanResult& a, const PlanResult& b);

// Chooses (exit, partition) for bandwidth B and deadline D. When nothing meets the deadline,
// feasible is false and the policy's fastest option is offered.
//   edgent:         the most accurate exit with a partition meeting D, then its fastest partition
//   device-only:    the final exit entirely on the device
//   edge-only:      the final exit entirely on the edge (raw input sent)
//   partition-only: the final exit at its fastest partition (Neurosurgeon)
//   exit-only:      the most accurate exit that meets D on the device alone (BranchyNet)
// Where a cut tensor is sent, the codec is chosen with the partition: `codec` -1 lets every
// option of the table compete (an exit's accuracy is less the codec's loss, ties go to the
// faster plan), k pins option k.
PlanResult choosePlan(const LatencyTable& table, const std::vector<double>& exitAccuracy, double bandwidthBps, double deadlineMs,
                      Policy policy, int codec = -1);

// Device power for the expected energy of adaptive plans (watts; see core/energy/PowerModel.h).
struct PowerCoefficients {
    double activeW = 0.0, transmitW = 0.0, idleW = 0.0;
};

// Everything plans are made from, for any policy. Copyable and immutable once made.
struct PlanContext {
    ModelSpec spec;
    LatencyTable table;                    // the predictor's: static policies plan on it
    std::optional<LatencyTable> typical;   // adaptive: expected latency and energy (medians); empty: table
    std::optional<LatencyTable> tail;      // adaptive: the p95 the deadline is checked on; empty: table
    std::vector<double> exitAccuracy;      // static policies
    std::shared_ptr<const CalibrationSet> calibration;  // adaptive policies: the validation split's scores
    PowerCoefficients power;
    std::string predictor;  // the latency model the tables came from (what "auto" resolved to)
    // Why the tables carry no codec beyond fp32 (no codec calibration, no codec timings);
    // empty when they do.
    std::string codecNote;
};

struct PlanGoal {
    double deadlineMs = 0.0;
    Policy policy = Policy::Edgent;
    // Adaptive policies: reach at least this expected accuracy at the least expected device
    // energy. NaN: the highest accuracy that meets the deadline.
    double targetAccuracy = NAN;
    // The cut tensor's codec: "auto" (every codec the context has costs for competes with
    // fp32) or a codec's name (core/net/Codec.h). Static policies only; adaptive plans send fp32.
    std::string codec = "auto";
};

// A plan for any policy at bandwidth B. Fails with one line only for what the context cannot
// answer (an adaptive policy without a calibration, appealnet on a model without appeal heads).
Result<PlanResult> makePlan(const PlanContext& context, const PlanGoal& goal, double bandwidthBps);
// Whether makePlan can answer the goal from the context (the same line makePlan fails with).
Status checkPlanInputs(const PlanContext& context, const PlanGoal& goal);

}  // namespace edgent::core::plan
