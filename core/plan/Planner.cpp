#include "core/plan/Planner.h"

#include "core/net/Frame.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace edgent::core::plan {

namespace {

struct PolicyName {
    Policy policy;
    const char* name;
};
constexpr PolicyName kPolicies[] = {{Policy::Edgent, "edgent"},
                                    {Policy::DeviceOnly, "device-only"},
                                    {Policy::EdgeOnly, "edge-only"},
                                    {Policy::PartitionOnly, "partition-only"},
                                    {Policy::ExitOnly, "exit-only"},
                                    {Policy::Branchynet, "branchynet"},
                                    {Policy::Appealnet, "appealnet"},
                                    {Policy::Cascade, "cascade"},
                                    {Policy::Adaptive, "adaptive"}};

}  // namespace

const char* policyName(Policy p) {
    for (const auto& x : kPolicies)
        if (x.policy == p) return x.name;
    return "unknown";
}

Result<Policy> policyFromName(const std::string& name) {
    for (const auto& x : kPolicies)
        if (name == x.name) return x.policy;
    std::string all;
    for (const auto& x : kPolicies) all += (all.empty() ? "" : ", ") + std::string(x.name);
    return makeError("unknown policy '" + name + "' (" + all + ")");
}

bool isAdaptive(Policy p) {
    return p == Policy::Branchynet || p == Policy::Appealnet || p == Policy::Cascade || p == Policy::Adaptive;
}

std::vector<std::string> policyNames() {
    std::vector<std::string> names;
    for (const auto& x : kPolicies) names.push_back(x.name);
    return names;
}

void LatencyTable::finish(const ModelSpec& spec) {
    const int exits = spec.numExits();
    devicePrefix_.assign(static_cast<size_t>(exits), {});
    edgeSuffix_.assign(static_cast<size_t>(exits), {});
    wireBytes_.assign(static_cast<size_t>(exits), {});
    for (int e = 0; e < exits; ++e) {
        const auto path = analyzePath(spec, e).value();
        const size_t n = path.size();
        auto& pre = devicePrefix_[static_cast<size_t>(e)];
        auto& suf = edgeSuffix_[static_cast<size_t>(e)];
        auto& bytes = wireBytes_[static_cast<size_t>(e)];
        pre.assign(n + 1, 0.0);
        suf.assign(n + 1, 0.0);
        bytes.assign(n + 1, 0);
        for (size_t i = 0; i < n; ++i) pre[i + 1] = pre[i] + deviceMs_[static_cast<size_t>(e)][i];
        for (size_t i = n; i-- > 0;) suf[i] = suf[i + 1] + edgeMs_[static_cast<size_t>(e)][i];
        for (size_t p = 0; p < n; ++p) {
            const int64_t tensor = transferBytes(spec, path, static_cast<int>(p));
            const size_t dims = p == 0 ? spec.input.dims.size() : path[p - 1].output.dims.size();
            bytes[p] = tensor + static_cast<int64_t>(net::kFrameHeaderBytes + 4 * dims);
        }
    }
}

Result<LatencyTable> LatencyTable::fromLayerTimes(const ModelSpec& spec, const std::vector<std::vector<double>>& deviceMs,
                                                  const std::vector<std::vector<double>>& edgeMs, double overheadMs) {
    if (deviceMs.size() != spec.exits.size() || edgeMs.size() != spec.exits.size())
        return makeError("layer times do not cover every exit of the model");
    for (int e = 0; e < spec.numExits(); ++e)
        if (deviceMs[static_cast<size_t>(e)].size() != static_cast<size_t>(spec.pathLength(e)) ||
            edgeMs[static_cast<size_t>(e)].size() != static_cast<size_t>(spec.pathLength(e)))
            return makeError("layer times of exit " + std::to_string(e) + " do not match its path");
    LatencyTable t;
    t.deviceMs_ = deviceMs;
    t.edgeMs_ = edgeMs;
    t.overheadMs_ = overheadMs;
    t.finish(spec);
    return t;
}

Result<LatencyTable> LatencyTable::fromRegressions(const ModelSpec& spec, const std::map<LayerKind, LinearFit>& device,
                                                   const std::map<LayerKind, LinearFit>& edge, double overheadMs) {
    std::vector<std::vector<double>> d, g;
    for (int e = 0; e < spec.numExits(); ++e) {
        auto path = analyzePath(spec, e);
        if (!path) return makeError(path.error());
        d.emplace_back();
        g.emplace_back();
        for (const LayerInfo& l : *path) {
            auto fd = device.find(l.kind);
            auto fe = edge.find(l.kind);
            if (fd == device.end() || fe == edge.end())
                return makeError("layer " + l.name + " on the " + (fd == device.end() ? "device" : "edge") +
                                 ": no regression knows " + std::string(layerKindName(l.kind)) +
                                 " layers (none were profiled there)");
            d.back().push_back(fd->second.predictMs(l.features));
            g.back().push_back(fe->second.predictMs(l.features));
        }
    }
    return fromLayerTimes(spec, d, g, overheadMs);
}

void LatencyTable::setSliceMs(double deviceMs, double edgeMs) {
    for (auto& pre : devicePrefix_)
        for (size_t p = 1; p < pre.size(); ++p) pre[p] += deviceMs - deviceSliceMs_;
    for (auto& suf : edgeSuffix_)
        for (size_t p = 0; p + 1 < suf.size(); ++p) suf[p] += edgeMs - edgeSliceMs_;
    deviceSliceMs_ = deviceMs;
    edgeSliceMs_ = edgeMs;
}

LatencyTable LatencyTable::withDeviceScaled(double scale) const {
    LatencyTable t = *this;
    // A prefix is its layers plus the slice cost, all on the device: it scales whole.
    for (auto* rows : {&t.deviceMs_, &t.devicePrefix_})
        for (auto& row : *rows)
            for (double& ms : row) ms *= scale;
    for (auto& c : t.codecs_)
        for (auto& row : c.encodeMs)
            for (double& ms : row) ms *= scale;  // NaN (not calibrated) stays NaN
    t.deviceSliceMs_ *= scale;
    return t;
}

double LatencyTable::predictMs(int exit, int p, double bandwidthBps, int codec) const {
    const size_t e = static_cast<size_t>(exit), q = static_cast<size_t>(p);
    if (codec > 0) {
        const CodecCosts& c = codecs_[static_cast<size_t>(codec - 1)];
        const double wire = c.bytes[e][q] * 8.0 / bandwidthBps * 1000.0 + overheadMs_;
        return devicePrefix_[e][q] + c.encodeMs[e][q] + wire + c.decodeMs[e][q] + edgeSuffix_[e][q];
    }
    const int64_t bytes = wireBytes_[e][q];
    const double wire = bytes > 0 ? static_cast<double>(bytes) * 8.0 / bandwidthBps * 1000.0 + overheadMs_ : 0.0;
    return devicePrefix_[e][q] + wire + edgeSuffix_[e][q];
}

void LatencyTable::addCodec(CodecCosts costs) {
    for (auto& c : codecs_)
        if (c.codec == costs.codec) {
            c = std::move(costs);
            return;
        }
    codecs_.push_back(std::move(costs));
}

int LatencyTable::codecOption(net::Codec codec) const {
    if (codec.identity()) return 0;
    for (size_t i = 0; i < codecs_.size(); ++i)
        if (codecs_[i].codec == codec) return static_cast<int>(i) + 1;
    return -1;
}

bool LatencyTable::codecApplies(int codec, int exit, int p) const {
    if (codec == 0) return true;
    if (p < 0 || p >= pathLength(exit)) return false;
    const CodecCosts& c = codecs_[static_cast<size_t>(codec - 1)];
    const size_t e = static_cast<size_t>(exit), q = static_cast<size_t>(p);
    return e < c.bytes.size() && q < c.bytes[e].size() && std::isfinite(c.bytes[e][q]) && std::isfinite(c.encodeMs[e][q]) &&
           std::isfinite(c.decodeMs[e][q]) && std::isfinite(c.accuracyDrop[e][q]);
}

double LatencyTable::accuracyDrop(int codec, int exit, int p) const {
    return codec == 0 ? 0.0 : codecs_[static_cast<size_t>(codec - 1)].accuracyDrop[static_cast<size_t>(exit)][static_cast<size_t>(p)];
}

double LatencyTable::codecBytes(int codec, int exit, int p) const {
    return codec == 0 ? static_cast<double>(wireBytes(exit, p))
                      : codecs_[static_cast<size_t>(codec - 1)].bytes[static_cast<size_t>(exit)][static_cast<size_t>(p)];
}

std::string describePlan(const PlanResult& p) {
    std::string s = "exit " + std::to_string(p.exit) + ", partition " + std::to_string(p.partition);
    if (!p.codec.identity()) s += ", " + net::codecName(p.codec);
    if (!p.early.active()) return s;
    s += ", early exit" + std::string(p.early.exits.size() > 1 ? "s " : " ");
    for (size_t i = 0; i < p.early.exits.size(); ++i) s += (i ? "," : "") + std::to_string(p.early.exits[i]);
    char t[32];
    std::snprintf(t, sizeof t, "%.4g", p.early.thresholds.front());
    const char* op = p.early.rule == ConfidenceRule::MaxSoftmax ? " >= " : " < ";
    return s + " at " + confidenceRuleName(p.early.rule) + op + t;
}

bool sameConfiguration(const PlanResult& a, const PlanResult& b) {
    if (a.exit != b.exit || a.partition != b.partition || a.codec != b.codec || a.early.active() != b.early.active()) return false;
    if (!a.early.active()) return true;
    return a.early.rule == b.early.rule && a.early.exits == b.early.exits && a.early.thresholds == b.early.thresholds;
}

PlanResult choosePlan(const LatencyTable& t, const std::vector<double>& accuracy, double bandwidthBps, double deadlineMs,
                      Policy policy, int codec) {
    const int exits = t.numExits();
    const int last = exits - 1;
    auto acc = [&](int e) { return static_cast<size_t>(e) < accuracy.size() ? accuracy[static_cast<size_t>(e)] : 0.0; };
    auto make = [&](int e, int p, int c = 0) {
        PlanResult r;
        r.policy = policy;
        r.exit = e;
        r.partition = p;
        r.codec = t.codecAt(c);
        r.predictedMs = t.predictMs(e, p, bandwidthBps, c);
        r.accuracy = acc(e) - t.accuracyDrop(c, e, p);
        r.feasible = r.predictedMs <= deadlineMs;
        return r;
    };
    // The codec options that may carry partition p of exit e: with `codec` pinned, that codec
    // wherever it applies (a cut tensor; the raw input when it has a lossless stage) and fp32
    // elsewhere; unpinned, every option.
    auto allowed = [&](int c, int e, int p) {
        if (!t.codecApplies(c, e, p)) return false;
        if (codec < 0) return true;
        return t.codecApplies(codec, e, p) ? c == codec : c == 0;
    };
    auto fastestPartition = [&](int e) {
        PlanResult best;
        bool any = false;
        for (int p = 0; p <= t.pathLength(e); ++p)
            for (int c = 0; c < t.numCodecs(); ++c)
                if (allowed(c, e, p)) {
                    const PlanResult r = make(e, p, c);
                    if (!any || r.predictedMs < best.predictedMs) best = r, any = true;
                }
        return best;
    };
    // The most accurate feasible (partition, codec) of exit e, ties to the faster; else its
    // fastest option.
    auto bestOf = [&](int e) {
        PlanResult best;
        bool found = false;
        for (int p = 0; p <= t.pathLength(e); ++p)
            for (int c = 0; c < t.numCodecs(); ++c) {
                if (!allowed(c, e, p)) continue;
                const PlanResult r = make(e, p, c);
                if (!r.feasible) continue;
                if (!found || r.accuracy > best.accuracy || (r.accuracy == best.accuracy && r.predictedMs < best.predictedMs))
                    best = r, found = true;
            }
        return found ? best : fastestPartition(e);
    };
    switch (policy) {
    case Policy::Branchynet:  // adaptive policies plan with makePlan(); choosePlan gives their static fallback
    case Policy::Appealnet:
    case Policy::Cascade:
    case Policy::Adaptive:
    case Policy::DeviceOnly: return make(last, t.pathLength(last));
    case Policy::EdgeOnly: return make(last, 0);
    case Policy::PartitionOnly: return fastestPartition(last);
    case Policy::ExitOnly: {
        int bestExit = -1;
        for (int e = 0; e < exits; ++e)
            if (t.predictMs(e, t.pathLength(e), bandwidthBps) <= deadlineMs && (bestExit < 0 || acc(e) > acc(bestExit)))
                bestExit = e;
        if (bestExit >= 0) return make(bestExit, t.pathLength(bestExit));
        int fastest = 0;
        for (int e = 1; e < exits; ++e)
            if (t.predictMs(e, t.pathLength(e), bandwidthBps) < t.predictMs(fastest, t.pathLength(fastest), bandwidthBps))
                fastest = e;
        return make(fastest, t.pathLength(fastest));
    }
    case Policy::Edgent: {
        // The most accurate exit that has a feasible partition; ties go to the faster plan.
        PlanResult best;
        bool found = false;
        PlanResult fastest;
        bool any = false;
        for (int e = 0; e < exits; ++e) {
            const PlanResult r = bestOf(e);
            if (!any || r.predictedMs < fastest.predictedMs) fastest = r, any = true;
            if (!r.feasible) continue;
            if (!found || r.accuracy > best.accuracy || (r.accuracy == best.accuracy && r.predictedMs < best.predictedMs))
                best = r, found = true;
        }
        return found ? best : fastest;
    }
    }
    return make(last, 0);
}

}  // namespace edgent::core::plan
