#pragma once
// Profiling both workers from the controller, as `edgent profile` and the window's Profile
// panel do: each worker times the model's layers and the synthetic sweep (one worker after
// the other), the device streams a short calibration to measure the per-message overhead,
// and the results, with Edgent's per-kind regressions, go into the run store.
// Torch-free: the CLI and the GUI include this.

#include "core/control/Controller.h"
#include "core/energy/PowerModel.h"
#include "core/model/ModelFile.h"
#include "core/plan/Forest.h"
#include "core/plan/Planner.h"
#include "core/plan/Regression.h"
#include "core/profile/Profiler.h"
#include "core/store/RunStore.h"

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace edgent::core::control {

struct ProfileRunOptions {
    int repeats = 25;
    bool synthetic = true;
    int adaptiveRounds = 3;  // of the adaptive sweep after the fixed one (core/profile/Sweep.h)
    int spread = 25;         // passes each layer's repeats are spread over (profile::ProfileOptions)
    double spanSeconds = 10.0;  // per worker, the least time those passes are paced over
    int timeoutMs = 20 * 60 * 1000;
};

struct NodeProfile {
    net::Role role = net::Role::Device;
    QJsonObject hello;
    profile::ProfileResult result;
    // p95 of a calibration run's compute on this node, less its slice cost taken back to back,
    // over its profiled median
    double tailRatio = 1.0;
    // The node's fixed cost of one slice: the median of a one-layer slice's compute in
    // calibration (the device's first layer after a 50 ms idle, the edge's last) less that
    // layer's profiled median, at least 0. Every predictor adds it once to each node that runs
    // a slice.
    double sliceMs = 0.0;
};

struct ProfileRunResult {
    std::vector<NodeProfile> nodes;  // edge, then device
    double overheadMs = 0.0;         // median transfer time of small frames, unshaped
    double overheadP95Ms = 0.0;      // and its 95th percentile
    double seconds = 0.0;
};

struct ProfileRunProgress {
    net::Role role = net::Role::Device;
    std::string stage;
    int done = 0, total = 0;
};

// The controller must be connected to both workers, with the model loaded into both. The
// profile subscribes to the controller's samples and events while it runs (other subscribers
// see them too). `progress` runs on the controller's I/O thread. Cancelling stops the workers' profiling and returns an error.
Result<ProfileRunResult> profileWorkers(Controller& controller, const ModelFile& model, const ProfileRunOptions& options,
                                        const std::function<void(const ProfileRunProgress&)>& progress = {},
                                        const std::atomic<bool>* cancel = nullptr);

struct StoredFit {
    std::string node;
    plan::LinearFit fit;
};

// Saves both nodes' profiles and fits the regressions (Table 1, and Table 1 with a MAC term)
// per (node, kind); returns the fits.
Result<std::vector<StoredFit>> saveProfileRun(store::RunStore& db, int64_t modelId, const ProfileRunResult& run,
                                              const ProfileRunOptions& options);

// How well the forest (core/plan/Forest.h) predicts one node's layers it never saw: every
// fourth row held out of the whole profile, and the model's own layers predicted from the
// synthetic sweep alone (as for a model never profiled).
struct ForestCheck {
    std::string node;
    plan::ForestScore heldOut;
    plan::ForestScore unseenModel;
};
Result<std::vector<ForestCheck>> checkForests(const ProfileRunResult& run);

// The predictors latencyTableFor knows, "auto" first.
std::vector<std::string> predictorNames();
// "auto" is the most accurate tail-aware predictor for the model at hand: lookup-p95 when the
// store holds the model's own profile on both nodes, else forest-p95 (a model never profiled).
// Any other name is returned as it is.
Result<std::string> resolvePredictor(store::RunStore& db, const std::string& modelHashHex, const std::string& predictor);
// True for the predictors that predict layers from their configuration (regressions, forests)
// rather than read the model's own measured layers; a model never profiled has only these.
bool predictorIsFitted(const std::string& predictor);

// The latency table of a model from the newest profile in the store; predictor is
//   "lookup":          the measured per-layer medians, and the overhead's median;
//   "lookup-p95":      tail-aware: each layer's 95th percentile, the larger of its median times
//                      the node's run tail ratio (measured at calibration) and the estimate
//                      from its median and 90th as for a normal tail, summed as if slow
//                      layers came together, and the overhead's 95th percentile. Planning on it meets a deadline
//                      in about 95% of inferences rather than half; its prediction is a
//                      tail, not a typical latency;
//   "forest":          per-kind boosted trees (core/plan/Forest.h) on each layer's whole
//                      configuration, fitted on the node's newest profile of this model, or of
//                      any model when this one was never profiled there (its layers and the
//                      synthetic sweep); predicts models it never saw;
//   "forest-p95":      the same fitted to each row's 95th percentile (as lookup-p95 reads it);
//   "forest-sweep":    forest fitted on the synthetic sweep only, as if the model had never been
//                      profiled (for benches that measure exactly that);
//   "forest-inpath":   forest that also learns one factor per kind between a layer timed in
//                      its model's forward pass and one timed alone (for benches: it
//                      predicted two never-profiled models worse, docs/latency-models.md);
//   "forest-p10":      forest fitted to each row's 10th percentile, the layer's time at the
//                      host's fast speed (for benches that score it against measured 10th
//                      percentiles; not a prediction of a run's median);
//   "forest-offset":   forest-sweep plus one cost per kind that a layer timed in its path adds
//                      to the same layer alone (the median over the profile's model rows);
//                      "forest-p10-offset" the same on 10th percentiles (for benches: neither
//                      predicted never-profiled models consistently better, docs/latency-models.md);
//   "regression":      Edgent's per-kind regressions on the Table-1 features, fitted on the
//                      same profile as a forest (so they too predict models never profiled);
//   "regression-p95":  the same fitted to each row's 95th percentile;
//   "regression-macs": Table 1 with a multiply-accumulate term for conv and fc.
Result<plan::LatencyTable> latencyTableFor(store::RunStore& db, const ModelFile& model, const std::string& modelHashHex,
                                           const std::string& predictor);

// What plans are made from, for a model in a store: the predictor's latency table (static
// policies), the typical (median) and tail (p95) tables adaptive policies weigh their
// outcomes with (lookup and lookup-p95 when the predictor is a lookup, else the predictor's
// own), the exit accuracies, the newest validation calibration when there is one, and the
// device's power.
Result<plan::PlanContext> planContextFor(store::RunStore& db, const ModelFile& model, const std::string& modelHashHex,
                                         const std::string& predictor, const energy::PowerProfile& power);

}  // namespace edgent::core::control
