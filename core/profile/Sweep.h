#pragma once
// The synthetic layer configurations a node is profiled on, beside the model's own layers, so
// that latency models learn more than one model's layers: a fixed grid per layer kind, and
// adaptive sampling as nn-Meter does it (Zhang et al., MobiSys 2021): after the grid, rounds of
// new configurations, each predicted by a forest fitted on every point so far before it is
// measured; configurations predicted more than 10% off send their neighbours into the next
// round. Torch-free; core/profile/Profiler.cpp measures the probes.

#include "core/model/ModelSpec.h"

#include <random>
#include <vector>

namespace edgent::core::profile {

// One synthetic layer and the input it is timed on.
struct Probe {
    LayerSpec layer;
    Shape input;  // CxHxW, or {n} for a layer on a flat vector
};

// The fixed grid: convolutions (3x3, 5x5, 1x1 pointwise and 3x3 depthwise), pooling,
// element-wise layers and fully connected layers, in sizes around what small CNNs use.
std::vector<Probe> baseSweep();

// A configuration drawn from the space adaptive sampling explores: every kind, in wider
// levels than the grid (channels up to 192, kernels 1-7, strides 1-2, grouped and depthwise
// convolutions, spatial sizes 4-32).
Probe randomProbe(std::mt19937_64& rng);

// Up to `count` configurations one step from `p` along one of its knobs (channels, spatial
// size, kernel, stride, groups, features), each still valid.
std::vector<Probe> neighbours(const Probe& p, std::mt19937_64& rng, int count);

// The probe's layer as a one-layer model sees it: shapes, features and configuration, or one
// line saying why it does not fit.
Result<LayerInfo> probeInfo(const Probe& p);

// Held-out error of one adaptive round: the forest fitted before the round against the
// round's measurements.
struct SweepRound {
    int round = 0;
    int points = 0;         // configurations measured in the round
    int fittedOn = 0;       // synthetic points the forest was fitted on
    double mape = 0.0;      // mean |predicted - measured| / measured
    double within10 = 0.0;  // fraction predicted within +-10%
    int refined = 0;        // of the round's points, how many were neighbours of bad ones
};

}  // namespace edgent::core::profile
