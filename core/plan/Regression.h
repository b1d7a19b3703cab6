#pragma once
// Edgent's per-layer latency regressions: for each node (device, edge) and layer kind, a
// linear least-squares model on the kind's Table-1 features plus an intercept, scored by
// R^2 on the fitted points and by MAPE on held-out points it never saw.

#include "core/model/ModelSpec.h"

#include <map>
#include <string>
#include <vector>

namespace edgent::core::plan {

struct Observation {
    std::vector<double> features;  // Table-1 features of the layer
    double ms = 0.0;               // measured median latency
};

// Which features a fit uses. TableOne is Edgent's Table 1 as published. TableOneMacs adds,
// for conv and fc layers only, the product of their two Table-1 features: for a conv that
// is input size x (filter/stride)^2 x filters, i.e. its multiply-accumulates, which a sum
// of the two features cannot express.
enum class FeatureSet { TableOne, TableOneMacs };
const char* featureSetName(FeatureSet f);

struct LinearFit {
    LayerKind kind = LayerKind::Relu;
    FeatureSet featureSet = FeatureSet::TableOne;
    std::vector<double> coefficients;  // intercept first, then one per feature
    double r2 = 0.0;                   // on the fitted points
    double mapeHeldOut = 0.0;          // mean |predicted - measured| / measured on held-out points
    int fitted = 0;
    int heldOut = 0;

    double predictMs(const std::vector<double>& features) const;
};

// Fits one kind. Every `holdOutEvery`-th observation (after a seeded shuffle) is held out.
// Fails when there are fewer points than coefficients or the features are degenerate.
Result<LinearFit> fitLinear(LayerKind kind, const std::vector<Observation>& observations, int holdOutEvery = 4, uint64_t seed = 1,
                            FeatureSet featureSet = FeatureSet::TableOne);

// The regression's inputs for a layer: its Table-1 features, plus the product term when the
// feature set and the kind call for it.
std::vector<double> regressionInputs(LayerKind kind, FeatureSet featureSet, const std::vector<double>& tableOne);

// Predictions are floored at zero: a layer never takes negative time.
double clampMs(double ms);

}  // namespace edgent::core::plan
