#include "core/model/ModelSpec.h"

#include <array>
#include <sstream>

namespace edgent::core {

namespace {

struct KindName {
    LayerKind kind;
    std::string_view name;
};

constexpr std::array<KindName, 8> kKindNames{{
    {LayerKind::Conv, "conv"},
    {LayerKind::Relu, "relu"},
    {LayerKind::MaxPool, "maxpool"},
    {LayerKind::Lrn, "lrn"},
    {LayerKind::Dropout, "dropout"},
    {LayerKind::Flatten, "flatten"},
    {LayerKind::Linear, "fc"},
    {LayerKind::BatchNorm, "batchnorm"},
}};

std::string describe(const LayerSpec& layer, bool inTrunk, int index) {
    std::ostringstream out;
    out << (inTrunk ? "trunk[" : "branch[") << index << "] '" << layer.name << "' (" << layerKindName(layer.kind) << ")";
    return out.str();
}

// Output size of a sliding window along one axis, or 0 when the window does not fit.
int64_t windowOut(int64_t in, int64_t kernel, int64_t stride, int64_t padding) {
    const int64_t span = in + 2 * padding - kernel;
    if (span < 0 || stride <= 0) return 0;
    return span / stride + 1;
}

Result<LayerInfo> inferLayer(const LayerSpec& layer, const Shape& in, bool inTrunk, int index) {
    LayerInfo info;
    info.kind = layer.kind;
    info.name = layer.name;
    info.inTrunk = inTrunk;
    info.index = index;
    info.input = in;
    const std::string where = describe(layer, inTrunk, index);
    auto fail = [&](const std::string& what) { return makeError("layer " + where + ": " + what); };
    const double inElems = static_cast<double>(in.elements());

    auto needFeatureMap = [&]() -> bool { return in.dims.size() == 3; };

    switch (layer.kind) {
    case LayerKind::Conv: {
        if (!needFeatureMap()) return fail("expects a CxHxW feature map, got " + in.toString());
        const int64_t c = in.dims[0], h = in.dims[1], w = in.dims[2];
        if (layer.inChannels != 0 && layer.inChannels != c)
            return fail("in_channels " + std::to_string(layer.inChannels) + " does not match the " + std::to_string(c) +
                        " incoming channels");
        if (layer.outChannels <= 0 || layer.kernel <= 0 || layer.stride <= 0 || layer.padding < 0)
            return fail("out_channels, kernel and stride must be positive and padding non-negative");
        if (layer.groups <= 0 || c % layer.groups != 0 || layer.outChannels % layer.groups != 0)
            return fail("groups " + std::to_string(layer.groups) + " must divide both the " + std::to_string(c) +
                        " incoming and the " + std::to_string(layer.outChannels) + " outgoing channels");
        const int64_t ho = windowOut(h, layer.kernel, layer.stride, layer.padding);
        const int64_t wo = windowOut(w, layer.kernel, layer.stride, layer.padding);
        if (ho <= 0 || wo <= 0)
            return fail("kernel " + std::to_string(layer.kernel) + " does not fit the " + in.toString() + " input");
        info.output = Shape{{layer.outChannels, ho, wo}};
        const int64_t cPerGroup = c / layer.groups;
        info.paramCount = layer.outChannels * cPerGroup * layer.kernel * layer.kernel + layer.outChannels;
        info.flops = 2 * cPerGroup * layer.kernel * layer.kernel * layer.outChannels * ho * wo;
        const double ratio = static_cast<double>(layer.kernel) / static_cast<double>(layer.stride);
        info.features = {inElems, ratio * ratio * static_cast<double>(layer.outChannels)};
        break;
    }
    case LayerKind::MaxPool: {
        if (!needFeatureMap()) return fail("expects a CxHxW feature map, got " + in.toString());
        if (layer.kernel <= 0 || layer.stride <= 0 || layer.padding < 0)
            return fail("kernel and stride must be positive and padding non-negative");
        if (2 * layer.padding > layer.kernel) return fail("padding must be at most half the kernel");
        const int64_t ho = windowOut(in.dims[1], layer.kernel, layer.stride, layer.padding);
        const int64_t wo = windowOut(in.dims[2], layer.kernel, layer.stride, layer.padding);
        if (ho <= 0 || wo <= 0)
            return fail("kernel " + std::to_string(layer.kernel) + " does not fit the " + in.toString() + " input");
        info.output = Shape{{in.dims[0], ho, wo}};
        info.flops = layer.kernel * layer.kernel * info.output.elements();
        info.features = {inElems, static_cast<double>(info.output.elements())};
        break;
    }
    case LayerKind::Relu:
        info.output = in;
        info.flops = in.elements();
        info.features = {inElems};
        break;
    case LayerKind::Lrn:
        if (!needFeatureMap()) return fail("expects a CxHxW feature map, got " + in.toString());
        if (layer.lrnSize <= 0) return fail("size must be positive");
        info.output = in;
        // a square, a windowed sum of `size` terms, a power and a division per element
        info.flops = in.elements() * (layer.lrnSize + 3);
        info.features = {inElems};
        break;
    case LayerKind::Dropout:
        if (layer.dropoutP < 0.0 || layer.dropoutP >= 1.0) return fail("p must be in [0, 1)");
        info.output = in;
        info.flops = 0;  // identity at inference
        info.features = {inElems};
        break;
    case LayerKind::Flatten:
        info.output = Shape{{in.elements()}};
        info.flops = 0;
        info.features = {inElems};
        break;
    case LayerKind::Linear: {
        if (in.dims.size() != 1) return fail("expects a flat vector, got " + in.toString() + " (add a flatten layer)");
        const int64_t n = in.dims[0];
        if (layer.inFeatures != 0 && layer.inFeatures != n)
            return fail("in_features " + std::to_string(layer.inFeatures) + " does not match the " + std::to_string(n) +
                        " incoming features");
        if (layer.outFeatures <= 0) return fail("out_features must be positive");
        info.output = Shape{{layer.outFeatures}};
        info.paramCount = n * layer.outFeatures + layer.outFeatures;
        info.flops = 2 * n * layer.outFeatures;
        info.features = {inElems, static_cast<double>(layer.outFeatures)};
        break;
    }
    case LayerKind::BatchNorm:
        if (!needFeatureMap()) return fail("expects a CxHxW feature map, got " + in.toString());
        if (layer.inChannels != 0 && layer.inChannels != in.dims[0])
            return fail("in_channels " + std::to_string(layer.inChannels) + " does not match the " + std::to_string(in.dims[0]) +
                        " incoming channels");
        info.output = in;
        info.paramCount = 4 * in.dims[0];  // weight, bias, running mean and variance
        info.flops = 2 * in.elements();
        info.features = {inElems};
        break;
    }
    info.outputBytes = info.output.elements() * kActivationElementBytes;
    info.paramBytes = info.paramCount * 4;
    // The configuration a latency model sees (configFeatureNames()): the same for every kind,
    // 1 for a spatial size a flat vector does not have.
    auto dim = [](const Shape& s, size_t i) { return s.dims.size() == 3 ? static_cast<double>(s.dims[i]) : i == 0 ? static_cast<double>(s.elements()) : 1.0; };
    const bool windowed = layer.kind == LayerKind::Conv || layer.kind == LayerKind::MaxPool;
    info.config = {windowed ? static_cast<double>(layer.kernel) : 0.0,
                   windowed ? static_cast<double>(layer.stride) : 0.0,
                   windowed ? static_cast<double>(layer.padding) : 0.0,
                   dim(in, 0),
                   dim(info.output, 0),
                   dim(in, 1),
                   dim(in, 2),
                   dim(info.output, 1),
                   dim(info.output, 2),
                   static_cast<double>(info.flops) / 2.0,
                   inElems * kActivationElementBytes,
                   static_cast<double>(info.outputBytes),
                   static_cast<double>(info.paramCount),
                   layer.kind == LayerKind::Conv ? static_cast<double>(layer.groups) : 1.0};
    return info;
}

}  // namespace

std::string_view layerKindName(LayerKind kind) {
    for (const auto& k : kKindNames)
        if (k.kind == kind) return k.name;
    return "unknown";
}

Result<LayerKind> layerKindFromName(std::string_view name) {
    for (const auto& k : kKindNames)
        if (k.name == name) return k.kind;
    std::string known;
    for (const auto& k : kKindNames) known += (known.empty() ? "" : ", ") + std::string(k.name);
    return makeError("unknown layer kind '" + std::string(name) + "' (known: " + known + ")");
}

const std::vector<LayerKind>& allLayerKinds() {
    static const std::vector<LayerKind> kinds = [] {
        std::vector<LayerKind> v;
        for (const auto& k : kKindNames) v.push_back(k.kind);
        return v;
    }();
    return kinds;
}

int64_t Shape::elements() const {
    if (dims.empty()) return 0;
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
}

std::string Shape::toString() const {
    std::string s;
    for (size_t i = 0; i < dims.size(); ++i) s += (i ? "x" : "") + std::to_string(dims[i]);
    return s.empty() ? "()" : s;
}

std::vector<std::string> tableOneFeatureNames(LayerKind kind) {
    switch (kind) {
    case LayerKind::Conv: return {"input_size", "filter_stride_sq_x_filters"};
    case LayerKind::MaxPool:
    case LayerKind::Linear: return {"input_size", "output_size"};
    case LayerKind::Relu:
    case LayerKind::Lrn:
    case LayerKind::Dropout:
    case LayerKind::Flatten:
    case LayerKind::BatchNorm: return {"input_size"};
    }
    return {};
}

std::vector<std::string> configFeatureNames() {
    return {"kernel",     "stride",     "padding",   "channels_in", "channels_out", "height_in", "width_in",
            "height_out", "width_out",  "macs",      "bytes_in",    "bytes_out",    "params",      "groups"};
}

void upgradeConfig(std::vector<double>& config) {
    if (config.size() + 1 == configFeatureNames().size()) config.push_back(1.0);
}

int ModelSpec::pathLength(int exit) const {
    const ExitSpec& e = exits.at(static_cast<size_t>(exit));
    return e.attach + static_cast<int>(e.branch.size());
}

const LayerSpec& ModelSpec::pathLayer(int exit, int index) const {
    const ExitSpec& e = exits.at(static_cast<size_t>(exit));
    if (index < e.attach) return trunk.at(static_cast<size_t>(index));
    return e.branch.at(static_cast<size_t>(index - e.attach));
}

Result<std::vector<LayerInfo>> analyzePath(const ModelSpec& spec, int exit) {
    if (exit < 0 || exit >= spec.numExits())
        return makeError("exit " + std::to_string(exit) + " is out of range (the model has " + std::to_string(spec.numExits()) +
                         " exits)");
    const ExitSpec& e = spec.exits[static_cast<size_t>(exit)];
    if (e.attach < 0 || e.attach > static_cast<int>(spec.trunk.size()))
        return makeError("exit '" + e.name + "' attaches at trunk index " + std::to_string(e.attach) + ", outside the trunk of " +
                         std::to_string(spec.trunk.size()) + " layers");
    std::vector<LayerInfo> path;
    Shape shape = spec.input;
    const int n = spec.pathLength(exit);
    path.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        const bool inTrunk = i < e.attach;
        auto info = inferLayer(spec.pathLayer(exit, i), shape, inTrunk, inTrunk ? i : i - e.attach);
        if (!info) return makeError("exit '" + e.name + "': " + info.error());
        shape = info->output;
        path.push_back(std::move(info).value());
    }
    if (!(shape == Shape{{spec.numClasses}}))
        return makeError("exit '" + e.name + "' ends with shape " + shape.toString() + ", expected " +
                         std::to_string(spec.numClasses) + " class scores");
    return path;
}

Result<std::vector<LayerInfo>> analyzeAppeal(const ModelSpec& spec, int exit) {
    auto path = analyzePath(spec, exit);
    if (!path) return makeError(path.error());
    const ExitSpec& e = spec.exits[static_cast<size_t>(exit)];
    std::vector<LayerInfo> head;
    if (e.appeal.empty()) return head;
    Shape shape = e.appealOnLogits ? Shape{{spec.numClasses}}
                                   : e.attach == 0 ? spec.input
                                                   : (*path)[static_cast<size_t>(e.attach) - 1].output;
    for (size_t j = 0; j < e.appeal.size(); ++j) {
        auto info = inferLayer(e.appeal[j], shape, false, static_cast<int>(j));
        if (!info) return makeError("exit '" + e.name + "' appeal head: " + info.error());
        shape = info->output;
        head.push_back(std::move(info).value());
    }
    if (!(shape == Shape{{1}}))
        return makeError("exit '" + e.name + "' appeal head ends with shape " + shape.toString() + ", expected one value");
    return head;
}

Status validateSpec(const ModelSpec& spec) {
    if (spec.input.dims.size() != 3 || spec.input.elements() <= 0)
        return makeError("input shape must be CxHxW with positive sizes, got " + spec.input.toString());
    if (spec.numClasses <= 0) return makeError("num_classes must be positive");
    if (spec.exits.empty()) return makeError("the model has no exits");
    if (!spec.exitAccuracy.empty() && spec.exitAccuracy.size() != spec.exits.size())
        return makeError("exit_accuracy lists " + std::to_string(spec.exitAccuracy.size()) + " values for " +
                         std::to_string(spec.exits.size()) + " exits");
    for (int e = 0; e < spec.numExits(); ++e) {
        auto head = analyzeAppeal(spec, e);  // analyses the exit's path first
        if (!head) return makeError(head.error());
    }
    return Status::success();
}

int64_t transferBytes(const ModelSpec& spec, const std::vector<LayerInfo>& path, int p) {
    if (p <= 0) return spec.inputBytes();
    if (p >= static_cast<int>(path.size())) return 0;
    return path[static_cast<size_t>(p - 1)].outputBytes;
}

}  // namespace edgent::core
