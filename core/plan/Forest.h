#pragma once
// Non-linear per-layer latency models, as nn-Meter does: for each node and layer kind, a
// boosted tree ensemble (XGBoost, through its C API) on the layer's whole configuration
// (configFeatureNames(): kernel, stride, padding, channels, spatial sizes, MACs, bytes,
// parameters; for a conv, whether LibTorch runs it on its own kernel or oneDNN's), fitted to log(ms) so that its squared error is a relative error. It predicts
// layers of models that were never profiled, from the synthetic sweep and whatever models
// the node did profile. Edgent's Table-1 linear regressions (Regression.h) stay beside it
// for the paper's comparison.

#include "core/model/ModelSpec.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace edgent::core::plan {

// One timed layer: its kind, its configuration and the time to learn, and whether it was timed
// inside its model's forward pass (a profile's "model" rows) or alone (the synthetic sweep).
struct LayerSample {
    LayerKind kind = LayerKind::Relu;
    std::vector<double> config;  // configFeatureNames()
    double ms = 0.0;
    bool inPath = false;
};

struct ForestOptions {
    int rounds = 300;
    int maxDepth = 6;
    double eta = 0.08;
    double subsample = 0.8;
    uint64_t seed = 1;
    // Whether the trees also see inPath, allowed into no split with any other feature: a layer
    // timed in its model's forward pass then differs from one timed alone by one factor per
    // kind, learnt where a kind has both. Off (the default), inPath is ignored: measured on two
    // models never profiled, the factor made predictions worse (docs/latency-models.md).
    bool inPathFactor = false;
};

// How well a latency model predicts points it never saw.
struct KindScore {
    LayerKind kind = LayerKind::Relu;
    int points = 0;
    double mape = 0.0;
    double within10 = 0.0;
    double medianMs = 0.0;  // the kind's typical measured time among the points
};
struct ForestScore {
    int points = 0;
    double mape = 0.0;      // mean |predicted - measured| / measured
    double within10 = 0.0;  // fraction of points predicted within +-10%
    std::vector<KindScore> kinds;
};

class LatencyForest {
public:
    // Fits one ensemble per kind with at least four points in `samples` (a kind with fewer is
    // remembered, and predicting it says so); fails with one line when a sample's configuration
    // has the wrong size.
    static Result<LatencyForest> fit(const std::vector<LayerSample>& samples, const ForestOptions& options = {});

    bool knows(LayerKind kind) const { return boosters_.count(kind) != 0; }
    // Predicted milliseconds of one layer, timed in a model's forward pass (inPath) or alone;
    // fails with one line naming the kind when no ensemble knows it.
    Result<double> predictMs(LayerKind kind, const std::vector<double>& config, bool inPath) const;

private:
    struct Booster;
    bool inPathFactor_ = false;
    std::map<LayerKind, std::shared_ptr<Booster>> boosters_;
    std::map<LayerKind, size_t> tooFew_;  // kinds left out, with their number of points
};

// Scores a forest fitted on `train` on the points of `test` whose kind it knows.
Result<ForestScore> scoreForest(const std::vector<LayerSample>& train, const std::vector<LayerSample>& test,
                                const ForestOptions& options = {});

}  // namespace edgent::core::plan
