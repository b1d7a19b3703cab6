// The built-in multi-exit architectures: AlexNet (the default model's), and a VGG-style and a
// MobileNet-style net that latency models are tested on without having seen them.

#include "core/model/ModelSpec.h"

namespace edgent::core {

namespace {

LayerSpec simple(LayerKind kind, std::string name) {
    LayerSpec l;
    l.kind = kind;
    l.name = std::move(name);
    return l;
}

LayerSpec conv(std::string name, int64_t out, int64_t k, int64_t pad, int64_t stride = 1, int64_t groups = 1) {
    LayerSpec l = simple(LayerKind::Conv, std::move(name));
    l.outChannels = out;
    l.kernel = k;
    l.stride = stride;
    l.padding = pad;
    l.groups = groups;
    return l;
}

LayerSpec pool(std::string name) {
    LayerSpec l = simple(LayerKind::MaxPool, std::move(name));
    l.kernel = 2;
    l.stride = 2;
    return l;
}

LayerSpec fc(std::string name, int64_t out) {
    LayerSpec l = simple(LayerKind::Linear, std::move(name));
    l.outFeatures = out;
    return l;
}

LayerSpec dropout(std::string name, double p) {
    LayerSpec l = simple(LayerKind::Dropout, std::move(name));
    l.dropoutP = p;
    return l;
}

// A light early exit: a pooled linear classifier on the trunk's features, so that it costs
// little and a deeper exit is clearly more accurate.
std::vector<LayerSpec> linearHead(const std::string& prefix, int64_t numClasses) {
    return {pool(prefix + "_pool"), simple(LayerKind::Flatten, prefix + "_flatten"), fc(prefix + "_fc", numClasses)};
}

ModelSpec base(std::string name, int64_t channels, int64_t height, int64_t width, int64_t numClasses) {
    ModelSpec spec;
    spec.name = std::move(name);
    spec.input = Shape{{channels, height, width}};
    spec.numClasses = numClasses;
    return spec;
}

// conv, batch norm, relu
void addConvBlock(std::vector<LayerSpec>& trunk, const std::string& name, int64_t out, int64_t k, int64_t pad,
                  int64_t stride = 1, int64_t groups = 1) {
    trunk.push_back(conv(name, out, k, pad, stride, groups));
    trunk.push_back(simple(LayerKind::BatchNorm, name + "_bn"));
    trunk.push_back(simple(LayerKind::Relu, name + "_relu"));
}

int trunkEnd(const std::vector<LayerSpec>& trunk) { return static_cast<int>(trunk.size()); }

}  // namespace

ModelSpec alexNet5Spec(int64_t channels, int64_t height, int64_t width, int64_t numClasses) {
    ModelSpec spec = base("alexnet5", channels, height, width, numClasses);
    // AlexNet's layer sequence, narrowed for small images so that a full training run fits in
    // minutes on two cores: conv-relu-lrn-pool twice, three 3x3 convs, then two dropout FCs.
    spec.trunk = {
        conv("conv1", 32, 5, 2),
        simple(LayerKind::Relu, "relu1"),
        simple(LayerKind::Lrn, "lrn1"),
        pool("pool1"),
        conv("conv2", 64, 3, 1),
        simple(LayerKind::Relu, "relu2"),
        simple(LayerKind::Lrn, "lrn2"),
        pool("pool2"),
        conv("conv3", 96, 3, 1),
        simple(LayerKind::Relu, "relu3"),
        conv("conv4", 96, 3, 1),
        simple(LayerKind::Relu, "relu4"),
        conv("conv5", 64, 3, 1),
        simple(LayerKind::Relu, "relu5"),
        pool("pool5"),
        simple(LayerKind::Flatten, "flatten"),
        fc("fc6", 256),
        simple(LayerKind::Relu, "relu6"),
        dropout("drop6", 0.3),
        fc("fc7", 256),
        simple(LayerKind::Relu, "relu7"),
        dropout("drop7", 0.3),
    };
    spec.exits = {
        ExitSpec{"exit0", 4, linearHead("exit0", numClasses), {}},
        ExitSpec{"exit1", 8, linearHead("exit1", numClasses), {}},
        ExitSpec{"exit2", 12, linearHead("exit2", numClasses), {}},
        ExitSpec{"exit3", 18, {fc("exit3_fc", numClasses)}, {}},
        ExitSpec{"exit4", 22, {fc("fc8", numClasses)}, {}},
    };
    return spec;
}

ModelSpec vgg3Spec(int64_t channels, int64_t height, int64_t width, int64_t numClasses) {
    ModelSpec spec = base("vgg3", channels, height, width, numClasses);
    // VGG's pattern, narrowed: blocks of two 3x3 conv-batchnorm-relu layers and a 2x2 pool,
    // doubling the channels after each pool, then one dropout FC.
    auto& t = spec.trunk;
    int64_t width1 = 24;
    std::vector<int> blockEnds;
    for (int b = 1; b <= 3; ++b) {
        const std::string n = "conv" + std::to_string(b);
        addConvBlock(t, n + "a", width1, 3, 1);
        addConvBlock(t, n + "b", width1, 3, 1);
        t.push_back(pool("pool" + std::to_string(b)));
        blockEnds.push_back(trunkEnd(t));
        width1 *= 2;
    }
    t.push_back(simple(LayerKind::Flatten, "flatten"));
    t.push_back(fc("fc4", 256));
    t.push_back(simple(LayerKind::Relu, "relu4"));
    t.push_back(dropout("drop4", 0.3));
    spec.exits = {
        ExitSpec{"exit0", blockEnds[0], linearHead("exit0", numClasses), {}},
        ExitSpec{"exit1", blockEnds[1], linearHead("exit1", numClasses), {}},
        ExitSpec{"exit2", trunkEnd(t), {fc("fc5", numClasses)}, {}},
    };
    return spec;
}

ModelSpec mobileNet3Spec(int64_t channels, int64_t height, int64_t width, int64_t numClasses) {
    ModelSpec spec = base("mobilenet3", channels, height, width, numClasses);
    // MobileNet's pattern, narrowed: a full 3x3 conv, then depthwise-separable blocks (a 3x3
    // depthwise conv, one group per channel, and a 1x1 pointwise conv, each with batch norm
    // and relu); a block with stride 2 halves the spatial size.
    auto& t = spec.trunk;
    addConvBlock(t, "conv0", 32, 3, 1);
    int64_t in = 32;
    int block = 1;
    std::vector<int> ends;
    for (auto [out, stride] : std::vector<std::pair<int64_t, int64_t>>{{64, 2}, {64, 1}, {128, 2}, {128, 1}}) {
        const std::string n = "block" + std::to_string(block++);
        addConvBlock(t, n + "_dw", in, 3, 1, stride, in);
        addConvBlock(t, n + "_pw", out, 1, 0);
        ends.push_back(trunkEnd(t));
        in = out;
    }
    t.push_back(pool("pool5"));
    t.push_back(simple(LayerKind::Flatten, "flatten"));
    spec.exits = {
        ExitSpec{"exit0", ends[0], linearHead("exit0", numClasses), {}},
        ExitSpec{"exit1", ends[2], linearHead("exit1", numClasses), {}},
        ExitSpec{"exit2", trunkEnd(t), {fc("fc6", numClasses)}, {}},
    };
    return spec;
}

std::vector<std::string> builtinSpecNames() { return {"alexnet5", "vgg3", "mobilenet3"}; }

Result<ModelSpec> builtinSpec(const std::string& name, int64_t channels, int64_t height, int64_t width, int64_t numClasses) {
    if (name == "alexnet5") return alexNet5Spec(channels, height, width, numClasses);
    if (name == "vgg3") return vgg3Spec(channels, height, width, numClasses);
    if (name == "mobilenet3") return mobileNet3Spec(channels, height, width, numClasses);
    std::string known;
    for (const auto& n : builtinSpecNames()) known += (known.empty() ? "" : ", ") + n;
    return makeError("unknown architecture '" + name + "' (built in: " + known + ")");
}

}  // namespace edgent::core
