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
#include <thread>

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

// Every layer's repeats are spread over `spread` passes (ProfileOptions) through the model's
// paths and the fixed sweep, paced over at least `spanSeconds`, instead of being taken back to
// back. A shared host's cores can each slow to about half speed for seconds at a time, one
// core at a time (bench/compute_drift.cpp: the thread's own CPU time doubles, whatever the
// thread does between frames). Back-to-back repeats all fell into one such stretch or all
// outside it, so a layer's median moved by up to 2x between two profiles; spread over many
// seconds, a stretch reaches only a share of each layer's repeats, the median stays on the
// host's usual speed and the 90th percentile shows the stretches that runs meet.
int roundsFor(int repeats, int spread) { return std::max(1, std::min(spread, repeats)); }

// Round r's share of `repeats` (the shares of all rounds add up to repeats).
int shareOf(int repeats, int round, int rounds) { return repeats * (round + 1) / rounds - repeats * round / rounds; }

// Sleeps until `until`, in short steps so that a cancel is seen within 50 ms; false when cancelled.
template <typename Cancelled>
bool paceUntil(Clock::time_point until, Cancelled&& cancelled) {
    while (Clock::now() < until) {
        if (cancelled()) return false;
        std::this_thread::sleep_for(std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(50)));
    }
    return !cancelled();
}

// An emulated slower node (slowdown F > 1) records F times the real duration and then waits
// as the stretched computation would. Recording the stretched wall time instead would add
// the sleep's wake-up lateness (a few tenths of a millisecond on a virtual machine) to every
// layer, which a real run pays once per slice, not once per layer.
void timeLayerInto(const NetLayer& layer, const torch::Tensor& x, int warmup, int repeats, double slowdown,
                   std::vector<double>& ms) {
    for (int i = 0; i < warmup; ++i) (void)layer.forward(x);
    const double factor = std::max(1.0, slowdown);
    for (int i = 0; i < repeats; ++i) {
        const auto t0 = Clock::now();
        torch::Tensor y = layer.forward(x);
        (void)y.data_ptr();  // CPU ops are synchronous; touch the result all the same
        ms.push_back(factor * std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        stretchComputation(t0, slowdown);
    }
}

// Times every layer of exit e's path in sequence, a whole forward pass per repeat, so each
// layer meets the caches as it does in a real inference (timing one layer in a tight loop
// keeps its weights hot and underestimates it). Appends one sample per layer and repeat.
void timePathInto(const MultiExitNet& net, int e, const torch::Tensor& input, int warmup, int repeats, double slowdown,
                  std::vector<std::vector<double>>& ms) {
    const int n = net.pathLength(e);
    ms.resize(static_cast<size_t>(n));
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
}

torch::Tensor inputFor(const Shape& s) {
    std::vector<int64_t> sizes{1};
    sizes.insert(sizes.end(), s.dims.begin(), s.dims.end());
    return torch::randn(sizes);
}

// Synthetic configurations timed in rounds, each round one pass over all of them (see
// roundsFor); a configuration that does not fit has no slot and no row.
struct ProbeSlot {
    LayerInfo info;
    std::unique_ptr<NetLayer> layer;
    torch::Tensor input;
    std::vector<double> ms;
};
using ProbeSlots = std::vector<std::optional<ProbeSlot>>;

ProbeSlots prepareProbes(const std::vector<Probe>& probes) {
    ProbeSlots slots;
    for (const Probe& probe : probes) {
        auto info = probeInfo(probe);
        if (!info) {
            slots.emplace_back();
            continue;
        }
        slots.push_back(ProbeSlot{*info, std::make_unique<NetLayer>(probe.layer, info->input), inputFor(info->input), {}});
    }
    return slots;
}

// Round r of `rounds`: each configuration's share of the repeats. `each(i)` follows
// configuration i (progress) and returns false to stop (cancelled).
bool timeProbeRound(ProbeSlots& slots, const ProfileOptions& o, int r, int rounds, const std::function<bool(size_t)>& each) {
    for (size_t i = 0; i < slots.size(); ++i) {
        if (auto& slot = slots[i])
            timeLayerInto(*slot->layer, slot->input, r == 0 ? 2 : 1, shareOf(o.syntheticRepeats, r, rounds), o.slowdown,
                          slot->ms);
        if (!each(i)) return false;
    }
    return true;
}

std::vector<std::optional<LayerTiming>> probeRows(ProbeSlots& slots, const ProfileOptions& o) {
    std::vector<std::optional<LayerTiming>> out;
    for (auto& slot : slots) {
        if (!slot || slot->ms.empty()) {
            out.emplace_back();
            continue;
        }
        const Stats s = summarize(std::move(slot->ms));
        out.push_back(LayerTiming{"synthetic", -1, -1, slot->info.kind, slot->info.features, slot->info.config, s.median,
                                  s.p10, s.p90, o.syntheticRepeats});
    }
    return out;
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
        ProbeSlots slots = prepareProbes(batch);
        const int passes = roundsFor(o.syntheticRepeats, o.spread);
        for (int p = 0; p < passes; ++p) {
            const bool going = timeProbeRound(slots, o, p, passes, [&](size_t i) {
                report(stage, p * static_cast<int>(batch.size()) + static_cast<int>(i) + 1,
                       passes * static_cast<int>(batch.size()));
                return !cancelled();
            });
            if (!going) return makeError("profiling was cancelled");
        }
        auto timed = probeRows(slots, o);
        for (size_t i = 0; i < batch.size(); ++i) {
            auto& t = timed[i];
            if (!t) continue;
            const auto predicted = forest->predictMs(t->kind, t->config, false);
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

    // Pass r times every exit path and then every synthetic configuration, each its share of
    // its repeats (see roundsFor); the passes are paced over at least o.spanSeconds.
    std::vector<std::vector<std::vector<double>>> pathMs(static_cast<size_t>(spec.numExits()));
    std::vector<torch::Tensor> pathInputs;
    for (int e = 0; e < spec.numExits(); ++e) pathInputs.push_back(inputFor(net.pathInfo(e).front().input));
    ProbeSlots probes = prepareProbes(configs);
    const int passes = roundsFor(std::max(o.repeats, o.synthetic ? o.syntheticRepeats : 0), o.spread);
    const int perPass = totalModel + static_cast<int>(configs.size());
    int done = 0;
    for (int r = 0; r < passes; ++r) {
        if (r > 0 && !paceUntil(start + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(o.spanSeconds * r / passes)),
                                cancelled))
            return makeError("profiling was cancelled");
        for (int e = 0; e < spec.numExits(); ++e) {
            if (cancelled()) return makeError("profiling was cancelled");
            timePathInto(net, e, pathInputs[static_cast<size_t>(e)], r == 0 ? o.warmup : 1, shareOf(o.repeats, r, passes),
                         o.slowdown, pathMs[static_cast<size_t>(e)]);
            done += spec.pathLength(e);
            report("model layers", done, passes * perPass);
        }
        const bool going = timeProbeRound(probes, o, r, passes, [&](size_t c) {
            report(std::string("synthetic ") + std::string(layerKindName(configs[c].layer.kind)), ++done, passes * perPass);
            return !cancelled();
        });
        if (!going) return makeError("profiling was cancelled");
    }
    for (int e = 0; e < spec.numExits(); ++e) {
        const auto& path = net.pathInfo(e);
        for (int i = 0; i < spec.pathLength(e); ++i) {
            const LayerInfo& info = path[static_cast<size_t>(i)];
            const Stats s = summarize(std::move(pathMs[static_cast<size_t>(e)][static_cast<size_t>(i)]));
            result.layers.push_back(
                LayerTiming{"model", e, i, info.kind, info.features, info.config, s.median, s.p10, s.p90, o.repeats});
        }
    }
    for (auto& t : probeRows(probes, o))
        if (t) result.layers.push_back(std::move(*t));
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
