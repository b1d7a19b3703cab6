#include "core/plan/Forest.h"

#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <mutex>

namespace edgent::core::plan {

namespace {

std::string lastError(const char* what) { return std::string(what) + ": " + XGBGetLastError(); }

// Whether LibTorch 1.13 computes a float conv at batch 1 on one thread (the workers' default)
// with its own im2col kernel rather than oneDNN's: ATen's ConvParams::use_mkldnn sends a 1x1
// conv at stride 1 to its own kernel, and one of kernel at most 3 on at most 20,480 input
// elements, unless it has groups. On this project's hosts the own kernel runs at about 1.6
// GMAC/s and oneDNN at 15-100 (docs/latency-models.md). The trees alone place that boundary
// between two sweep points only roughly; this flag gives it exactly.
double ownConvKernel(LayerKind kind, const std::vector<double>& c) {
    if (kind != LayerKind::Conv || c.size() < 14 || c[13] > 1.0) return 0.0;
    const double kernel = c[0], stride = c[1], inputElements = c[3] * c[5] * c[6];
    return (kernel <= 1.0 && stride <= 1.0) || (kernel <= 3.0 && inputElements <= 20480.0) ? 1.0 : 0.0;
}

// The configuration as the trees see it: sizes on a log scale, so that a split between two
// sizes sits at their ratio, then the flag above, then (with the in-path factor) whether the
// layer was timed in its model's forward pass.
std::vector<float> row(LayerKind kind, const std::vector<double>& config, bool inPathFactor, bool inPath) {
    std::vector<float> out;
    out.reserve(config.size() + 2);
    for (double x : config) out.push_back(static_cast<float>(std::log1p(std::max(0.0, x))));
    out.push_back(static_cast<float>(ownConvKernel(kind, config)));
    if (inPathFactor) out.push_back(inPath ? 1.0f : 0.0f);
    return out;
}

// XGBoost's interaction constraints that keep the last of `width` features out of every
// split path with the others: each tree is then a function of the configuration or of that
// feature alone, so in log time the feature adds one constant, a factor on the time.
std::string aloneLast(size_t width) {
    std::string s = "[[";
    for (size_t i = 0; i + 1 < width; ++i) s += (i ? "," : "") + std::to_string(i);
    return s + "],[" + std::to_string(width - 1) + "]]";
}

// A matrix XGBoost reads, freed with it.
struct Matrix {
    DMatrixHandle h = nullptr;
    ~Matrix() {
        if (h) XGDMatrixFree(h);
    }
};

}  // namespace

struct LatencyForest::Booster {
    BoosterHandle h = nullptr;
    std::mutex mutex;  // one prediction at a time per booster
    ~Booster() {
        if (h) XGBoosterFree(h);
    }
};

Result<LatencyForest> LatencyForest::fit(const std::vector<LayerSample>& samples, const ForestOptions& o) {
    const size_t width = configFeatureNames().size();
    std::map<LayerKind, std::vector<const LayerSample*>> byKind;
    for (const auto& s : samples) {
        if (s.config.size() != width)
            return makeError("a " + std::string(layerKindName(s.kind)) + " layer has " + std::to_string(s.config.size()) +
                             " configuration features, not " + std::to_string(width) +
                             " (profiles stored before schema 7 have none; profile again)");
        if (!(s.ms > 0.0)) continue;  // log needs a positive time; a zero is a timer's floor
        byKind[s.kind].push_back(&s);
    }
    LatencyForest forest;
    forest.inPathFactor_ = o.inPathFactor;
    for (const auto& [kind, points] : byKind) {
        if (points.size() < 4) {
            forest.tooFew_[kind] = points.size();
            continue;
        }
        std::vector<float> x, y;
        for (const LayerSample* s : points) {
            const auto r = row(kind, s->config, o.inPathFactor, s->inPath);
            x.insert(x.end(), r.begin(), r.end());
            y.push_back(static_cast<float>(std::log(s->ms)));
        }
        Matrix m;
        if (XGDMatrixCreateFromMat(x.data(), points.size(), x.size() / points.size(), NAN, &m.h) != 0) return makeError(lastError("XGBoost matrix"));
        if (XGDMatrixSetFloatInfo(m.h, "label", y.data(), y.size()) != 0) return makeError(lastError("XGBoost labels"));
        auto b = std::make_shared<Booster>();
        if (XGBoosterCreate(&m.h, 1, &b->h) != 0) return makeError(lastError("XGBoost booster"));
        std::vector<std::pair<std::string, std::string>> params{
            {"objective", "reg:squarederror"},
            {"max_depth", std::to_string(o.maxDepth)},
            {"eta", std::to_string(o.eta)},
            {"subsample", std::to_string(o.subsample)},
            {"min_child_weight", "1"},
            {"nthread", "1"},
            {"seed", std::to_string(o.seed)},
            {"verbosity", "0"},
        };
        if (o.inPathFactor) params.emplace_back("interaction_constraints", aloneLast(x.size() / points.size()));
        for (const auto& [k, v] : params)
            if (XGBoosterSetParam(b->h, k.c_str(), v.c_str()) != 0) return makeError(lastError("XGBoost parameter"));
        for (int i = 0; i < o.rounds; ++i)
            if (XGBoosterUpdateOneIter(b->h, i, m.h) != 0) return makeError(lastError("XGBoost training"));
        forest.boosters_[kind] = std::move(b);
    }
    return forest;
}

Result<double> LatencyForest::predictMs(LayerKind kind, const std::vector<double>& config, bool inPath) const {
    const auto it = boosters_.find(kind);
    if (it == boosters_.end()) {
        const auto few = tooFew_.find(kind);
        if (few != tooFew_.end())
            return makeError("only " + std::to_string(few->second) + " timed " + std::string(layerKindName(kind)) +
                             " layers were profiled; a latency model needs at least 4");
        return makeError("no latency model knows " + std::string(layerKindName(kind)) + " layers (none were profiled)");
    }
    if (config.size() != configFeatureNames().size()) return makeError("a layer's configuration has the wrong size");
    const auto x = row(kind, config, inPathFactor_, inPath);
    Booster& b = *it->second;
    std::lock_guard lock(b.mutex);
    Matrix m;
    if (XGDMatrixCreateFromMat(x.data(), 1, x.size(), NAN, &m.h) != 0) return makeError(lastError("XGBoost matrix"));
    bst_ulong n = 0;
    const float* out = nullptr;
    if (XGBoosterPredict(b.h, m.h, 0, 0, 0, &n, &out) != 0 || n != 1) return makeError(lastError("XGBoost prediction"));
    return std::exp(static_cast<double>(out[0]));
}

Result<ForestScore> scoreForest(const std::vector<LayerSample>& train, const std::vector<LayerSample>& test,
                                const ForestOptions& options) {
    auto forest = LatencyForest::fit(train, options);
    if (!forest) return makeError(forest.error());
    ForestScore s;
    double sum = 0.0;
    int within = 0;
    std::map<LayerKind, std::vector<std::pair<double, double>>> byKind;  // (error, measured)
    for (const auto& t : test) {
        if (!(t.ms > 0.0) || !forest->knows(t.kind)) continue;
        auto p = forest->predictMs(t.kind, t.config, t.inPath);
        if (!p) return makeError(p.error());
        const double e = std::abs(*p - t.ms) / t.ms;
        sum += e;
        within += e <= 0.10;
        ++s.points;
        byKind[t.kind].push_back({e, t.ms});
    }
    if (s.points) {
        s.mape = sum / s.points;
        s.within10 = static_cast<double>(within) / s.points;
    }
    for (auto& [kind, v] : byKind) {
        KindScore k;
        k.kind = kind;
        k.points = static_cast<int>(v.size());
        std::vector<double> ms;
        for (const auto& [e, m] : v) {
            k.mape += e;
            k.within10 += e <= 0.10;
            ms.push_back(m);
        }
        k.mape /= k.points;
        k.within10 /= k.points;
        std::nth_element(ms.begin(), ms.begin() + static_cast<long>(ms.size() / 2), ms.end());
        k.medianMs = ms[ms.size() / 2];
        s.kinds.push_back(k);
    }
    return s;
}

}  // namespace edgent::core::plan
