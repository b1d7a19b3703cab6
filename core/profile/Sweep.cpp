#include "core/profile/Sweep.h"

#include <algorithm>

namespace edgent::core::profile {

namespace {

LayerSpec layerOf(LayerKind kind) {
    LayerSpec l;
    l.kind = kind;
    l.name = "synthetic";
    return l;
}

Probe convProbe(int64_t cin, int64_t hw, int64_t cout, int64_t k, int64_t stride, int64_t groups) {
    LayerSpec l = layerOf(LayerKind::Conv);
    l.outChannels = cout;
    l.kernel = k;
    l.padding = k / 2;
    l.stride = stride;
    l.groups = groups;
    return {l, Shape{{cin, hw, hw}}};
}

template <typename T>
T pick(const std::vector<T>& levels, std::mt19937_64& rng) {
    return levels[std::uniform_int_distribution<size_t>(0, levels.size() - 1)(rng)];
}

// The next level above or below `v` (the nearest one when v is not a level).
int64_t step(const std::vector<int64_t>& levels, int64_t v, bool up) {
    auto it = std::lower_bound(levels.begin(), levels.end(), v);
    size_t i = static_cast<size_t>(it - levels.begin());
    if (up) return i + 1 < levels.size() ? levels[i + (it != levels.end() && *it == v ? 1 : 0)] : levels.back();
    return i > 0 ? levels[i - 1] : levels.front();
}

const std::vector<int64_t> kChannels{1, 8, 16, 24, 32, 48, 64, 96, 128, 192};
const std::vector<int64_t> kSizes{4, 7, 10, 14, 20, 28, 32};
const std::vector<int64_t> kKernels{1, 3, 5, 7};
const std::vector<int64_t> kFeatures{64, 128, 256, 512, 576, 1024, 1568, 2048, 3136, 4096};
const std::vector<int64_t> kOutFeatures{1, 10, 32, 64, 128, 256, 512};

}  // namespace

std::vector<Probe> baseSweep() {
    std::vector<Probe> configs;
    for (int64_t hw : {7, 14, 28})
        for (int64_t cin : {1, 16, 32, 64})
            for (int64_t cout : {16, 32, 64, 96})
                for (int64_t k : {3, 5})  // the largest ones at stride 2, to keep them affordable
                    configs.push_back(convProbe(cin, hw, cout, k, (hw == 28 && cin == 64) ? 2 : 1, 1));
    for (int64_t hw : {7, 14, 28})
        for (int64_t c : {16, 32, 64, 128}) {
            for (int64_t cout : {32, 64, 128}) configs.push_back(convProbe(c, hw, cout, 1, 1, 1));  // pointwise
            for (int64_t stride : {1, 2}) configs.push_back(convProbe(c, hw, c, 3, stride, c));  // depthwise
        }
    for (int64_t c : {8, 32, 64, 96})
        for (int64_t hw : {4, 7, 14, 28}) {
            const Shape s{{c, hw, hw}};
            for (LayerKind k : {LayerKind::Relu, LayerKind::Lrn, LayerKind::Dropout, LayerKind::Flatten, LayerKind::BatchNorm})
                configs.push_back({layerOf(k), s});
            for (int64_t pk : {2, 3}) {
                LayerSpec p = layerOf(LayerKind::MaxPool);
                p.kernel = pk;
                p.stride = 2;
                configs.push_back({p, s});
            }
        }
    for (int64_t in : {64, 256, 576, 1024, 1568, 3136})
        for (int64_t out : {10, 64, 256, 512}) {
            LayerSpec l = layerOf(LayerKind::Linear);
            l.outFeatures = out;
            configs.push_back({l, Shape{{in}}});
            configs.push_back({layerOf(LayerKind::Relu), Shape{{in}}});
            configs.push_back({layerOf(LayerKind::Dropout), Shape{{in}}});
        }
    return configs;
}

Probe randomProbe(std::mt19937_64& rng) {
    // Convolutions take most of a model's time and vary most; half the draws are convolutions.
    const int which = std::uniform_int_distribution<int>(0, 11)(rng);
    const int64_t hw = pick(kSizes, rng);
    if (which < 6) {
        const int64_t cin = pick(kChannels, rng);
        const int64_t k = pick(kKernels, rng);
        const int64_t stride = std::uniform_int_distribution<int>(0, 3)(rng) == 0 ? 2 : 1;
        if (which == 0 && cin > 1) return convProbe(cin, hw, cin, k == 1 ? 3 : k, stride, cin);  // depthwise
        int64_t cout = pick(std::vector<int64_t>(kChannels.begin() + 1, kChannels.end()), rng);
        return convProbe(cin, hw, cout, std::min<int64_t>(k, hw), stride, 1);
    }
    const int64_t c = pick(std::vector<int64_t>(kChannels.begin() + 1, kChannels.end()), rng);
    const Shape map{{c, hw, hw}};
    if (which == 6) {
        LayerSpec p = layerOf(LayerKind::MaxPool);
        p.kernel = std::uniform_int_distribution<int>(2, 3)(rng);
        p.stride = 2;
        return {p, map};
    }
    if (which == 7) return {layerOf(LayerKind::BatchNorm), map};
    if (which == 8) return {layerOf(pick(std::vector<LayerKind>{LayerKind::Relu, LayerKind::Lrn}, rng)), map};
    if (which == 9) return {layerOf(pick(std::vector<LayerKind>{LayerKind::Dropout, LayerKind::Flatten}, rng)), map};
    LayerSpec l = layerOf(which == 10 ? LayerKind::Linear : LayerKind::Relu);
    l.outFeatures = pick(kOutFeatures, rng);
    return {l, Shape{{pick(kFeatures, rng)}}};
}

std::vector<Probe> neighbours(const Probe& p, std::mt19937_64& rng, int count) {
    std::vector<Probe> all;
    const bool map = p.input.dims.size() == 3;
    auto add = [&](Probe q) {
        const bool moved = !(q.input == p.input) || q.layer.outChannels != p.layer.outChannels ||
                           q.layer.kernel != p.layer.kernel || q.layer.stride != p.layer.stride ||
                           q.layer.outFeatures != p.layer.outFeatures;
        if (moved && probeInfo(q)) all.push_back(std::move(q));  // a knob at the end of its range does not move
    };
    for (bool up : {false, true}) {
        if (map) {
            Probe q = p;
            const int64_t hw = step(kSizes, p.input.dims[1], up);
            q.input.dims[1] = q.input.dims[2] = hw;
            add(q);
            q = p;
            const int64_t c = step(kChannels, p.input.dims[0], up);
            q.input.dims[0] = c;
            if (p.layer.kind == LayerKind::Conv && p.layer.groups > 1) q.layer.outChannels = q.layer.groups = c;
            add(q);
        } else {
            Probe q = p;
            q.input.dims[0] = step(kFeatures, p.input.dims[0], up);
            add(q);
        }
        if (p.layer.kind == LayerKind::Conv) {
            Probe q = p;
            if (p.layer.groups == 1) {
                q.layer.outChannels = step(kChannels, p.layer.outChannels, up);
                add(q);
            }
            q = p;
            q.layer.kernel = step(kKernels, p.layer.kernel, up);
            q.layer.padding = q.layer.kernel / 2;
            add(q);
        }
        if (p.layer.kind == LayerKind::Linear) {
            Probe q = p;
            q.layer.outFeatures = step(kOutFeatures, p.layer.outFeatures, up);
            add(q);
        }
    }
    if (p.layer.kind == LayerKind::Conv || p.layer.kind == LayerKind::MaxPool) {
        Probe q = p;
        q.layer.stride = p.layer.stride == 1 ? 2 : 1;
        add(q);
    }
    std::shuffle(all.begin(), all.end(), rng);
    if (static_cast<int>(all.size()) > count) all.resize(static_cast<size_t>(count));
    return all;
}

Result<LayerInfo> probeInfo(const Probe& p) {
    // A one-layer model derives shapes and features through the same code as model layers.
    ModelSpec one;
    one.numClasses = 1;
    const bool flat = p.input.dims.size() == 1;
    one.input = flat ? Shape{{p.input.dims[0], 1, 1}} : p.input;
    if (flat) one.trunk.push_back(layerOf(LayerKind::Flatten));
    one.trunk.push_back(p.layer);
    ExitSpec ex;
    ex.name = "probe";
    ex.attach = static_cast<int>(one.trunk.size());
    LayerSpec fc = layerOf(LayerKind::Linear);
    fc.outFeatures = 1;
    ex.branch = {layerOf(LayerKind::Flatten), fc};
    one.exits = {ex};
    auto path = analyzePath(one, 0);
    if (!path) return makeError(path.error());
    return (*path)[one.trunk.size() - 1];
}

}  // namespace edgent::core::profile
