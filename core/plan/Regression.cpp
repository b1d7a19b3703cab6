#include "core/plan/Regression.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace edgent::core::plan {

double clampMs(double ms) { return ms < 0.0 ? 0.0 : ms; }

const char* featureSetName(FeatureSet f) { return f == FeatureSet::TableOne ? "table1" : "table1+macs"; }

std::vector<double> regressionInputs(LayerKind kind, FeatureSet featureSet, const std::vector<double>& tableOne) {
    std::vector<double> x = tableOne;
    if (featureSet == FeatureSet::TableOneMacs && (kind == LayerKind::Conv || kind == LayerKind::Linear) && x.size() == 2)
        x.push_back(x[0] * x[1]);
    return x;
}

double LinearFit::predictMs(const std::vector<double>& features) const {
    const std::vector<double> x = regressionInputs(kind, featureSet, features);
    double y = coefficients.empty() ? 0.0 : coefficients[0];
    for (size_t i = 0; i < x.size() && i + 1 < coefficients.size(); ++i) y += coefficients[i + 1] * x[i];
    return clampMs(y);
}

namespace {

// Solves the normal equations (X^T X) b = X^T y by Gaussian elimination with partial
// pivoting. Features are scaled to unit magnitude first so the system stays well conditioned.
bool leastSquares(const std::vector<std::vector<double>>& x, const std::vector<double>& y, std::vector<double>& b) {
    const size_t k = x.front().size();
    std::vector<double> scale(k, 1.0);
    for (size_t j = 0; j < k; ++j) {
        double m = 0;
        for (const auto& row : x) m = std::max(m, std::abs(row[j]));
        scale[j] = m > 0 ? m : 1.0;
    }
    std::vector<std::vector<double>> a(k, std::vector<double>(k + 1, 0.0));
    for (size_t r = 0; r < x.size(); ++r)
        for (size_t i = 0; i < k; ++i) {
            const double xi = x[r][i] / scale[i];
            for (size_t j = 0; j < k; ++j) a[i][j] += xi * x[r][j] / scale[j];
            a[i][k] += xi * y[r];
        }
    for (size_t c = 0; c < k; ++c) {
        size_t pivot = c;
        for (size_t r = c + 1; r < k; ++r)
            if (std::abs(a[r][c]) > std::abs(a[pivot][c])) pivot = r;
        if (std::abs(a[pivot][c]) < 1e-12) return false;
        std::swap(a[c], a[pivot]);
        for (size_t r = 0; r < k; ++r) {
            if (r == c) continue;
            const double f = a[r][c] / a[c][c];
            for (size_t j = c; j <= k; ++j) a[r][j] -= f * a[c][j];
        }
    }
    b.assign(k, 0.0);
    for (size_t i = 0; i < k; ++i) b[i] = a[i][k] / a[i][i] / scale[i];
    return true;
}

}  // namespace

Result<LinearFit> fitLinear(LayerKind kind, const std::vector<Observation>& observations, int holdOutEvery, uint64_t seed,
                            FeatureSet featureSet) {
    const std::string name(layerKindName(kind));
    if (observations.empty()) return makeError("no observations for " + name + " layers");
    const size_t features = observations.front().features.size();
    for (const auto& o : observations)
        if (o.features.size() != features) return makeError(name + " observations have different feature counts");
    std::vector<size_t> order(observations.size());
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(seed);
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<std::vector<double>> x;
    std::vector<double> y;
    std::vector<size_t> held;
    for (size_t i = 0; i < order.size(); ++i) {
        const Observation& o = observations[order[i]];
        if (holdOutEvery > 1 && i % static_cast<size_t>(holdOutEvery) == static_cast<size_t>(holdOutEvery - 1)) {
            held.push_back(order[i]);
            continue;
        }
        std::vector<double> row{1.0};
        const std::vector<double> inputs = regressionInputs(kind, featureSet, o.features);
        row.insert(row.end(), inputs.begin(), inputs.end());
        x.push_back(std::move(row));
        y.push_back(o.ms);
    }
    const size_t terms = regressionInputs(kind, featureSet, observations.front().features).size();
    if (x.size() < terms + 2)
        return makeError("too few " + name + " observations to fit (" + std::to_string(x.size()) + " for " +
                         std::to_string(terms + 1) + " coefficients)");
    LinearFit fit;
    fit.kind = kind;
    fit.featureSet = featureSet;
    if (!leastSquares(x, y, fit.coefficients)) {
        // Degenerate features (e.g. one size only): fall back to the mean.
        fit.coefficients.assign(terms + 1, 0.0);
        fit.coefficients[0] = std::accumulate(y.begin(), y.end(), 0.0) / static_cast<double>(y.size());
    }
    const double mean = std::accumulate(y.begin(), y.end(), 0.0) / static_cast<double>(y.size());
    double ssRes = 0, ssTot = 0;
    for (size_t r = 0; r < x.size(); ++r) {
        double predicted = 0;
        for (size_t j = 0; j < x[r].size(); ++j) predicted += fit.coefficients[j] * x[r][j];
        const double e = y[r] - clampMs(predicted);
        ssRes += e * e;
        ssTot += (y[r] - mean) * (y[r] - mean);
    }
    fit.r2 = ssTot > 0 ? 1.0 - ssRes / ssTot : 1.0;
    double ape = 0;
    int counted = 0;
    for (size_t i : held) {
        const Observation& o = observations[i];
        if (o.ms <= 0) continue;
        ape += std::abs(fit.predictMs(o.features) - o.ms) / o.ms;
        ++counted;
    }
    fit.mapeHeldOut = counted ? ape / counted : NAN;
    fit.fitted = static_cast<int>(x.size());
    fit.heldOut = counted;
    return fit;
}

}  // namespace edgent::core::plan
