#pragma once
// The architecture of a multi-exit (BranchyNet) network, and everything about it that can
// be derived without running it: shapes, transfer bytes, Edgent's Table-1 features,
// parameter bytes and FLOPs.
//
// Torch-free on purpose: widgets and the planner include this header.

#include "core/util/Result.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgent::core {

enum class LayerKind { Conv, Relu, MaxPool, Lrn, Dropout, Flatten, Linear, BatchNorm };

std::string_view layerKindName(LayerKind kind);
Result<LayerKind> layerKindFromName(std::string_view name);
const std::vector<LayerKind>& allLayerKinds();

// A tensor shape without the batch dimension: {C, H, W} for feature maps, {N} for vectors.
struct Shape {
    std::vector<int64_t> dims;

    int64_t elements() const;
    std::string toString() const;  // "32x14x14"
    bool operator==(const Shape& other) const { return dims == other.dims; }
};

// Bytes of one float32 element; every activation crossing a partition is float32.
inline constexpr int64_t kActivationElementBytes = 4;

struct LayerSpec {
    LayerKind kind = LayerKind::Relu;
    std::string name;

    // conv: output channels, square kernel, stride, padding. pool: kernel, stride, padding.
    int64_t outChannels = 0;
    int64_t kernel = 0;
    int64_t stride = 1;
    int64_t padding = 0;
    // conv: channel groups (in and out channels both divisible by it); groups == channels in
    // is a depthwise convolution, as in MobileNet's depthwise-separable blocks
    int64_t groups = 1;
    // linear
    int64_t outFeatures = 0;
    // local response norm (AlexNet's defaults)
    int64_t lrnSize = 5;
    double lrnAlpha = 1e-4;
    double lrnBeta = 0.75;
    double lrnK = 2.0;
    // dropout
    double dropoutP = 0.5;

    // Optional declared input sizes, checked against shape inference (0 = not declared).
    int64_t inChannels = 0;
    int64_t inFeatures = 0;
};

struct ExitSpec {
    std::string name;
    int attach = 0;  // trunk index b_e: the exit's path is trunk[0:attach] + branch
    std::vector<LayerSpec> branch;
    // Optional AppealNet head, ending in one logit; q(x) = sigmoid(logit) is the probability
    // that the input must be appealed to the big model (the final exit). It reads the trunk
    // features the branch reads, or the branch's class scores (appealOnLogits). Empty: the exit
    // has no appeal head.
    std::vector<LayerSpec> appeal;
    bool appealOnLogits = false;
};

// Everything derived about one layer of one exit path.
struct LayerInfo {
    LayerKind kind = LayerKind::Relu;
    std::string name;
    bool inTrunk = true;
    int index = 0;  // index within the trunk, or within the branch
    Shape input;
    Shape output;
    int64_t outputBytes = 0;  // what a partition right after this layer transfers
    int64_t paramCount = 0;
    int64_t paramBytes = 0;
    int64_t flops = 0;
    std::vector<double> features;  // Edgent Table 1, see tableOneFeatureNames()
    std::vector<double> config;    // the layer's whole configuration, see configFeatureNames()
};

// Names of the Table-1 regression features for a layer kind, in the order of
// LayerInfo::features.
std::vector<std::string> tableOneFeatureNames(LayerKind kind);

// Names of a layer's configuration features, the same for every kind, in the order of
// LayerInfo::config: kernel, stride and padding (0 for layers without a window), channels
// in and out, spatial size in and out (a flat vector of n features is n x 1 x 1),
// multiply-accumulates (flops / 2), activation bytes in and out, parameters, and channel
// groups (1 except for grouped and depthwise convolutions). What the
// non-linear latency models (core/plan/Forest.h) are fitted on, as nn-Meter does.
std::vector<std::string> configFeatureNames();

struct ModelSpec {
    static constexpr int kFormatVersion = 1;

    std::string name;
    Shape input;  // {C, H, W}
    int64_t numClasses = 10;
    std::vector<std::string> classNames;
    float inputMean = 0.0f;  // normalisation applied to pixel/255 before the first layer
    float inputStd = 1.0f;
    std::vector<LayerSpec> trunk;
    std::vector<ExitSpec> exits;
    // Test-set accuracy per exit when known (from training or `edgent eval`), else empty.
    std::vector<double> exitAccuracy;
    std::string accuracyDataset;

    int numExits() const { return static_cast<int>(exits.size()); }
    bool hasAppeal(int exit) const { return !exits.at(static_cast<size_t>(exit)).appeal.empty(); }
    int pathLength(int exit) const;
    const LayerSpec& pathLayer(int exit, int index) const;
    // The raw input as the device's camera holds it: one uint8 per pixel and channel.
    int64_t inputBytes() const { return input.elements(); }
};

// Shape inference and derived quantities for one exit path; fails with one line when the
// shapes are inconsistent (declared sizes that do not match, a kernel larger than its input,
// a fully connected layer fed a feature map, and so on).
Result<std::vector<LayerInfo>> analyzePath(const ModelSpec& spec, int exit);

// Shape inference along an exit's appeal head (empty when it has none); the head must end in
// one value.
Result<std::vector<LayerInfo>> analyzeAppeal(const ModelSpec& spec, int exit);

// Validates the whole model: at least one exit, attach points in range, every path's and
// every appeal head's shapes.
Status validateSpec(const ModelSpec& spec);

// Tensor bytes a partition at p on exit's path transfers: the raw uint8 input when p == 0, the output of
// layer p-1 otherwise, nothing when p == n (device-only).
int64_t transferBytes(const ModelSpec& spec, const std::vector<LayerInfo>& path, int p);

// Profiles stored before grouped convolutions have one configuration feature fewer (no
// groups); this appends the missing 1 so that they stay usable.
void upgradeConfig(std::vector<double>& config);

// The built-in BranchyNet-style AlexNet with five exits, for 1x28x28 (Fashion-MNIST) or
// 3x32x32 (CIFAR-10) input.
ModelSpec alexNet5Spec(int64_t channels, int64_t height, int64_t width, int64_t numClasses);

// Two more multi-exit architectures, so that latency models can be tested on models they
// never saw: a VGG-style net of 3x3 conv-batchnorm-relu blocks with three exits, and a
// MobileNet-style net of depthwise-separable blocks (3x3 depthwise conv, 1x1 pointwise conv)
// with three exits.
ModelSpec vgg3Spec(int64_t channels, int64_t height, int64_t width, int64_t numClasses);
ModelSpec mobileNet3Spec(int64_t channels, int64_t height, int64_t width, int64_t numClasses);

// The built-in architectures by name ("alexnet5", "vgg3", "mobilenet3"); fails with one line
// listing them for any other name.
Result<ModelSpec> builtinSpec(const std::string& name, int64_t channels, int64_t height, int64_t width, int64_t numClasses);
std::vector<std::string> builtinSpecNames();

}  // namespace edgent::core
