#include "core/profile/Profiler.h"

#include "core/model/ModelIO.h"
#include "core/net/Codec.h"
#include "core/plan/Forest.h"
#include "core/profile/Sweep.h"
#include "core/util/Slowdown.h"

#include <QJsonArray>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <set>

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

// Times one synthetic configuration; nothing when it does not fit.
std::optional<LayerTiming> timeProbe(const Probe& probe, const ProfileOptions& o) {
    auto info = probeInfo(probe);
    if (!info) return std::nullopt;
    const NetLayer netLayer(probe.layer, info->input);
    const Stats s = timeLayer(netLayer, inputFor(info->input), 2, o.syntheticRepeats, o.slowdown);
    return LayerTiming{"synthetic", -1, -1, info->kind, info->features, info->config, s.median, s.p10, s.p90, o.syntheticRepeats};
}

// nn-Meter's adaptive sampling: each round measures new configurations, scores the forest fitted
// on every synthetic point so far on them before they join it, and sends the neighbours of
// the ones predicted more than 10% off into the next round, filled up with random draws.
template <typename Report, typename Cancelled>
Result<std::vector<SweepRound>> adaptiveSweep(std::vector<LayerTiming>& layers, const ProfileOptions& o, Report&& report,
                                              Cancelled&& cancelled) {
    std::mt19937_64 rng(o.seed + 17);
    std::vector<SweepRound> rounds;
    std::vector<Probe> refine;
    for (int r = 1; r <= o.adaptiveRounds; ++r) {
        std::vector<plan::LayerSample> seen;
        for (const auto& t : layers)
            if (t.source == "synthetic") seen.push_back(plan::LayerSample{t.kind, t.config, t.medianMs});
        auto forest = plan::LatencyForest::fit(seen);
        if (!forest) return makeError("adaptive sweep: " + forest.error());
        SweepRound round;
        round.round = r;
        round.fittedOn = static_cast<int>(seen.size());
        round.refined = static_cast<int>(refine.size());
        std::vector<Probe> batch = std::move(refine);
        refine.clear();
        while (static_cast<int>(batch.size()) < o.adaptiveBatch) batch.push_back(randomProbe(rng));
        const std::string stage = "adaptive sweep " + std::to_string(r) + "/" + std::to_string(o.adaptiveRounds);
        double ape = 0.0;
        int within = 0;
        for (size_t i = 0; i < batch.size(); ++i) {
            if (cancelled()) return makeError("profiling was cancelled");
            auto t = timeProbe(batch[i], o);
            report(stage, static_cast<int>(i + 1), static_cast<int>(batch.size()));
            if (!t) continue;
            const auto predicted = forest->predictMs(t->kind, t->config);
            if (predicted && t->medianMs > 0.0) {
                const double err = std::abs(*predicted - t->medianMs) / t->medianMs;
                ape += err;
                within += err <= 0.1 ? 1 : 0;
                ++round.points;
                if (err > 0.1 && static_cast<int>(refine.size()) < o.adaptiveBatch / 2)
                    for (auto& n : neighbours(batch[i], rng, 2)) refine.push_back(std::move(n));
            }
            layers.push_back(std::move(*t));
        }
        if (round.points > 0) {
            round.mape = ape / round.points;
            round.within10 = static_cast<double>(within) / round.points;
        }
        rounds.push_back(round);
    }
    return rounds;
}

}  // namespace

namespace {

// Every codec but fp32 on each distinct cut tensor of the model: the activation of a seeded
// random input at every partition (ReLU's zeros are there, so zstd meets the sparsity it
// meets in a run). An emulated slower node records F times the real duration, without the
// wait (a codec's time is not part of any layer's duty cycle).
std::vector<CodecTiming> timeCodecs(const MultiExitNet& model, const ProfileOptions& o) {
    std::vector<CodecTiming> out;
    std::set<size_t> seen;
    const double factor = std::max(1.0, o.slowdown);
    const int repeats = std::max(5, o.repeats);
    std::string payload;
    std::vector<float> decoded;
    for (int e = 0; e < model.numExits(); ++e) {
        torch::Tensor h = inputFor(model.pathInfo(e).front().input);
        for (int p = 1; p < model.pathLength(e); ++p) {
            auto next = model.runSlice(e, p - 1, p, h);
            if (!next) break;
            h = next->contiguous().to(torch::kFloat32);
            std::vector<uint32_t> dims;
            for (int64_t d = 1; d < h.dim(); ++d) dims.push_back(static_cast<uint32_t>(h.size(d)));
            const size_t elements = net::elementCount(dims);
            if (elements == 0 || !seen.insert(elements).second) continue;
            for (net::Codec codec : net::allCodecs()) {
                if (codec.identity()) continue;
                std::vector<double> enc, dec;
                for (int r = 0; r < 2 + repeats; ++r) {
                    const auto t0 = Clock::now();
                    if (!net::encodeTensor(codec, h.data_ptr<float>(), dims, payload)) break;
                    const auto t1 = Clock::now();
                    if (!net::decodeTensor(codec, reinterpret_cast<const uint8_t*>(payload.data()), payload.size(), dims, decoded))
                        break;
                    const auto t2 = Clock::now();
                    if (r < 2) continue;  // warm-up
                    enc.push_back(factor * std::chrono::duration<double, std::milli>(t1 - t0).count());
                    dec.push_back(factor * std::chrono::duration<double, std::milli>(t2 - t1).count());
                }
                if (enc.empty()) continue;
                out.push_back(CodecTiming{net::codecName(codec), static_cast<int64_t>(elements), summarize(enc).median,
                                          summarize(dec).median});
            }
        }
    }
    return out;
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
    const auto configs = o.synthetic ? baseSweep() : std::vector<Probe>{};
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
        if (auto t = timeProbe(configs[c], o)) result.layers.push_back(std::move(*t));
        report(std::string("synthetic ") + std::string(layerKindName(configs[c].layer.kind)), static_cast<int>(c + 1),
               static_cast<int>(configs.size()));
    }
    if (o.synthetic && o.adaptiveRounds > 0) {
        auto rounds = adaptiveSweep(result.layers, o, report, cancelled);
        if (!rounds) return makeError(rounds.error());
        result.rounds = std::move(*rounds);
    }
    if (cancelled()) return makeError("profiling was cancelled");
    result.codecs = timeCodecs(net, o);
    report("codecs", 1, 1);
    // Model loading against model size: the model itself and wider variants of its head.
    const std::string blob = encodeWeights(net);
    for (int64_t width : {0, 512, 1024, 2048}) {
        if (cancelled()) return makeError("profiling was cancelled");
        ModelSpec m = spec;
        if (width > 0) {
            LayerSpec wide;
            wide.kind = LayerKind::Linear;
            wide.name = "wide";
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
    QJsonArray codecs;
    for (const auto& c : r.codecs)
        codecs.append(QJsonObject{{"codec", QString::fromStdString(c.codec)},
                                  {"elements", static_cast<qint64>(c.elements)},
                                  {"encode_ms", c.encodeMs},
                                  {"decode_ms", c.decodeMs}});
    return QJsonObject{
        {"layers", layers}, {"loads", loads}, {"rounds", roundsToJson(r.rounds)}, {"codecs", codecs}, {"seconds", r.seconds}};
}

QJsonArray roundsToJson(const std::vector<SweepRound>& rounds) {
    QJsonArray out;
    for (const auto& x : rounds)
        out.append(QJsonObject{{"round", x.round},
                               {"points", x.points},
                               {"fitted_on", x.fittedOn},
                               {"mape", x.mape},
                               {"within_10pct", x.within10},
                               {"refined", x.refined}});
    return out;
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
        if (!t.config.empty()) upgradeConfig(t.config);
        if (!t.config.empty() && t.config.size() != configFeatureNames().size())
            return makeError("profile: a row has the wrong configuration size");
        r.layers.push_back(std::move(t));
    }
    for (const auto& v : o.value("rounds").toArray()) {
        const QJsonObject x = v.toObject();
        r.rounds.push_back(SweepRound{x.value("round").toInt(), x.value("points").toInt(), x.value("fitted_on").toInt(),
                                      x.value("mape").toDouble(), x.value("within_10pct").toDouble(), x.value("refined").toInt()});
    }
    for (const auto& v : o.value("loads").toArray())
        r.loads.push_back(LoadTiming{v.toObject().value("model_bytes").toInteger(), v.toObject().value("median_ms").toDouble()});
    for (const auto& v : o.value("codecs").toArray()) {
        const QJsonObject c = v.toObject();
        CodecTiming t{c.value("codec").toString().toStdString(), c.value("elements").toInteger(), c.value("encode_ms").toDouble(),
                      c.value("decode_ms").toDouble()};
        if (!net::codecFromName(t.codec) || t.elements <= 0) return makeError("profile: a codec row is malformed");
        r.codecs.push_back(std::move(t));
    }
    r.seconds = o.value("seconds").toDouble();
    return r;
}

}  // namespace edgent::core::profile
