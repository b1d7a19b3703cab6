#include "core/profile/Profiler.h"

#include "core/model/ModelIO.h"
#include "core/util/Slowdown.h"

#include <QJsonArray>

#include <algorithm>
#include <chrono>

namespace edgent::core::profile {

namespace {

using Clock = std::chrono::steady_clock;

struct Stats {
    double median, p10, p90;
};

Stats summarize(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    auto at = [&](double q) {
        return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5))];
    };
    return {at(0.5), at(0.1), at(0.9)};
}

// An emulated slower node (slowdown F > 1) records F times the real duration and then waits
// as the stretched computation would. Recording the stretched wall time instead would add
// the sleep's wake-up lateness (a few tenths of a millisecond on a virtual machine) to every
// layer, which a real run pays once per slice, not once per layer.
Stats timeLayer(const NetLayer& layer, const torch::Tensor& x, int warmup, int repeats, double slowdown) {
    for (int i = 0; i < warmup; ++i) (void)layer.forward(x);
    std::vector<double> ms;
    ms.reserve(static_cast<size_t>(repeats));
    const double factor = std::max(1.0, slowdown);
    for (int i = 0; i < repeats; ++i) {
        const auto t0 = Clock::now();
        torch::Tensor y = layer.forward(x);
        (void)y.data_ptr();  // CPU ops are synchronous; touch the result all the same
        ms.push_back(factor * std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        stretchComputation(t0, slowdown);
    }
    return summarize(std::move(ms));
}

// Times every layer of exit e's path in sequence, a whole forward pass per repeat, so each
// layer meets the caches as it does in a real inference (timing one layer in a tight loop
// keeps its weights hot and underestimates it).
std::vector<Stats> timePath(const MultiExitNet& net, int e, const torch::Tensor& input, int warmup, int repeats,
                            double slowdown) {
    const int n = net.pathLength(e);
    std::vector<std::vector<double>> ms(static_cast<size_t>(n));
    const double factor = std::max(1.0, slowdown);
    for (int r = 0; r < warmup + repeats; ++r) {
        torch::Tensor x = input;
        const auto pass = Clock::now();
        for (int i = 0; i < n; ++i) {
            const auto t0 = Clock::now();
            torch::Tensor y = net.layer(e, i).forward(x);
            (void)y.data_ptr();
            if (r >= warmup)
                ms[static_cast<size_t>(i)].push_back(factor *
                                                     std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
            x = y;
        }
        stretchComputation(pass, slowdown);  // one wait per pass, as a run's slice has
    }
    std::vector<Stats> out;
    for (auto& v : ms) out.push_back(summarize(std::move(v)));
    return out;
}

torch::Tensor inputFor(const Shape& s) {
    std::vector<int64_t> sizes{1};
    sizes.insert(sizes.end(), s.dims.begin(), s.dims.end());
    return torch::randn(sizes);
}

LayerSpec layerOf(LayerKind kind) {
    LayerSpec l;
    l.kind = kind;
    l.name = "synthetic";
    return l;
}

// The sweep: shapes and hyperparameters around what small CNNs use.
std::vector<std::pair<LayerSpec, Shape>> sweep() {
    std::vector<std::pair<LayerSpec, Shape>> configs;
    for (int64_t hw : {7, 14, 28})
        for (int64_t cin : {1, 16, 32, 64})
            for (int64_t cout : {16, 32, 64, 96})
                for (int64_t k : {3, 5}) {
                    LayerSpec l = layerOf(LayerKind::Conv);
                    l.outChannels = cout;
                    l.kernel = k;
                    l.padding = k / 2;
                    l.stride = (hw == 28 && cin == 64) ? 2 : 1;  // keep the largest ones affordable
                    configs.push_back({l, Shape{{cin, hw, hw}}});
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
            LayerSpec r = layerOf(LayerKind::Relu);
            configs.push_back({r, Shape{{in}}});
            LayerSpec d = layerOf(LayerKind::Dropout);
            configs.push_back({d, Shape{{in}}});
        }
    return configs;
}

}  // namespace

Result<ProfileResult> profileNet(const MultiExitNet& net, const ProfileOptions& o,
                                 const std::function<void(const ProfileProgress&)>& progress, const std::atomic<bool>* cancel) {
    torch::InferenceMode guard;
    torch::manual_seed(o.seed);
    // Workers flush denormals (see workers/main.cpp); profile under the same arithmetic.
    at::globalContext().setFlushDenormal(true);
    const auto start = Clock::now();
    ProfileResult result;
    const ModelSpec& spec = net.spec();
    int totalModel = 0;
    for (int e = 0; e < spec.numExits(); ++e) totalModel += spec.pathLength(e);
    const auto configs = o.synthetic ? sweep() : std::vector<std::pair<LayerSpec, Shape>>{};
    auto report = [&](const std::string& stage, int done, int total) {
        if (progress) progress(ProfileProgress{stage, done, total});
    };
    auto cancelled = [&] { return cancel && cancel->load(); };

    int done = 0;
    for (int e = 0; e < spec.numExits(); ++e) {
        if (cancelled()) return makeError("profiling was cancelled");
        const auto& path = net.pathInfo(e);
        const auto stats = timePath(net, e, inputFor(path.front().input), o.warmup, o.repeats, o.slowdown);
        for (int i = 0; i < spec.pathLength(e); ++i) {
            const LayerInfo& info = path[static_cast<size_t>(i)];
            const Stats& s = stats[static_cast<size_t>(i)];
            result.layers.push_back(
                LayerTiming{"model", e, i, info.kind, info.features, info.config, s.median, s.p10, s.p90, o.repeats});
        }
        done += spec.pathLength(e);
        report("model layers", done, totalModel);
    }
    for (size_t c = 0; c < configs.size(); ++c) {
        if (cancelled()) return makeError("profiling was cancelled");
        const auto& [spec1, shape] = configs[c];
        // A one-layer model derives shapes and features through the same code as model layers.
        ModelSpec one;
        one.numClasses = 1;
        LayerSpec layer = spec1;
        one.input = shape.dims.size() == 3 ? shape : Shape{{shape.dims[0], 1, 1}};
        std::vector<LayerSpec> trunk;
        if (shape.dims.size() == 1) trunk.push_back(layerOf(LayerKind::Flatten));
        trunk.push_back(layer);
        one.trunk = trunk;
        ExitSpec ex;
        ex.name = "probe";
        ex.attach = static_cast<int>(trunk.size());
        LayerSpec head = layerOf(LayerKind::Flatten);
        LayerSpec fc = layerOf(LayerKind::Linear);
        fc.outFeatures = 1;
        ex.branch = {head, fc};
        one.exits = {ex};
        auto path = analyzePath(one, 0);
        if (!path) continue;  // a configuration that does not fit (should not happen)
        const LayerInfo& info = (*path)[trunk.size() - 1];
        const NetLayer netLayer(layer, info.input);
        const Stats s = timeLayer(netLayer, inputFor(info.input), 2, o.syntheticRepeats, o.slowdown);
        result.layers.push_back(
            LayerTiming{"synthetic", -1, -1, info.kind, info.features, info.config, s.median, s.p10, s.p90, o.syntheticRepeats});
        report(std::string("synthetic ") + std::string(layerKindName(info.kind)), static_cast<int>(c + 1),
               static_cast<int>(configs.size()));
    }
    // Model loading against model size: the model itself and wider variants of its head.
    const std::string blob = encodeWeights(net);
    for (int64_t width : {0, 512, 1024, 2048}) {
        if (cancelled()) return makeError("profiling was cancelled");
        ModelSpec m = spec;
        if (width > 0) {
            LayerSpec wide = layerOf(LayerKind::Linear);
            wide.outFeatures = width;
            m.exits.back().branch.insert(m.exits.back().branch.begin(), wide);
            m.exits.back().branch[1].inFeatures = 0;  // now fed by the wider layer
        }
        auto variant = MultiExitNet::create(m, 3);
        if (!variant) continue;
        const std::string bytes = width == 0 ? blob : encodeWeights(**variant);
        std::vector<double> ms;
        for (int r = 0; r < 5; ++r) {
            auto fresh = MultiExitNet::create(m, 3);
            const auto t0 = Clock::now();
            if (!decodeWeightsInto(**fresh, bytes, "profile")) break;
            ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        }
        if (!ms.empty()) result.loads.push_back(LoadTiming{static_cast<int64_t>(bytes.size()), summarize(ms).median});
        report("model loading", static_cast<int>(result.loads.size()), 4);
    }
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return result;
}

QJsonObject profileToJson(const ProfileResult& r) {
    QJsonArray layers;
    for (const auto& l : r.layers) {
        QJsonArray f;
        for (double x : l.features) f.append(x);
        QJsonArray config;
        for (double x : l.config) config.append(x);
        layers.append(QJsonObject{{"source", QString::fromStdString(l.source)},
                                  {"exit", l.exit},
                                  {"layer", l.layerIndex},
                                  {"kind", QString::fromStdString(std::string(layerKindName(l.kind)))},
                                  {"features", f},
                                  {"config", config},
                                  {"median_ms", l.medianMs},
                                  {"p10_ms", l.p10Ms},
                                  {"p90_ms", l.p90Ms},
                                  {"repeats", l.repeats}});
    }
    QJsonArray loads;
    for (const auto& l : r.loads)
        loads.append(QJsonObject{{"model_bytes", static_cast<qint64>(l.modelBytes)}, {"median_ms", l.medianMs}});
    return QJsonObject{{"layers", layers}, {"loads", loads}, {"seconds", r.seconds}};
}

Result<ProfileResult> profileFromJson(const QJsonObject& o) {
    ProfileResult r;
    for (const auto& v : o.value("layers").toArray()) {
        const QJsonObject l = v.toObject();
        auto kind = layerKindFromName(l.value("kind").toString().toStdString());
        if (!kind) return makeError("profile: " + kind.error());
        LayerTiming t;
        t.source = l.value("source").toString().toStdString();
        t.exit = l.value("exit").toInt(-1);
        t.layerIndex = l.value("layer").toInt(-1);
        t.kind = *kind;
        for (const auto& f : l.value("features").toArray()) t.features.push_back(f.toDouble());
        for (const auto& f : l.value("config").toArray()) t.config.push_back(f.toDouble());
        t.medianMs = l.value("median_ms").toDouble();
        t.p10Ms = l.value("p10_ms").toDouble();
        t.p90Ms = l.value("p90_ms").toDouble();
        t.repeats = l.value("repeats").toInt();
        if (t.features.size() != tableOneFeatureNames(t.kind).size())
            return makeError("profile: a row has the wrong feature count");
        if (!t.config.empty() && t.config.size() != configFeatureNames().size())
            return makeError("profile: a row has the wrong configuration size");
        r.layers.push_back(std::move(t));
    }
    for (const auto& v : o.value("loads").toArray())
        r.loads.push_back(LoadTiming{v.toObject().value("model_bytes").toInteger(), v.toObject().value("median_ms").toDouble()});
    r.seconds = o.value("seconds").toDouble();
    return r;
}

}  // namespace edgent::core::profile
