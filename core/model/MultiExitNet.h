#pragma once
// A multi-exit network in LibTorch, built from a ModelSpec. Runs any slice [a, b) of any
// exit path, or every exit at once for training.
//
// This header includes torch: keep it out of anything widgets include.
// Thread safety: const member functions may be called from several threads at once only
// in inference mode (no gradient) and after eval(); training is single-threaded.

#include "core/util/Torch.h"  // first: it enforces the torch-free rule before anything else is read

#include "core/model/Confidence.h"
#include "core/model/ModelSpec.h"

#include <memory>
#include <vector>

namespace edgent::core {

// One layer: the kind decides which holder is set. A switch keeps the per-layer call cheap.
class NetLayer {
public:
    NetLayer(const LayerSpec& spec, const Shape& input);

    LayerKind kind() const { return kind_; }
    torch::Tensor forward(const torch::Tensor& x) const;
    std::shared_ptr<torch::nn::Module> module() const { return module_; }

private:
    LayerKind kind_;
    std::shared_ptr<torch::nn::Module> module_;  // null for parameter-free kinds without state
    // mutable: the holders' forward() is non-const although inference does not change them
    mutable torch::nn::Conv2d conv_{nullptr};
    mutable torch::nn::Linear linear_{nullptr};
    mutable torch::nn::MaxPool2d pool_{nullptr};
    mutable torch::nn::LocalResponseNorm lrn_{nullptr};
    mutable torch::nn::Dropout dropout_{nullptr};
    mutable torch::nn::BatchNorm2d batchNorm_{nullptr};
};

class MultiExitNet {
public:
    // Builds the network with freshly initialised weights; seeds torch's RNG with `seed`.
    static Result<std::shared_ptr<MultiExitNet>> create(const ModelSpec& spec, uint64_t seed = 1);

    const ModelSpec& spec() const { return spec_; }
    int numExits() const { return spec_.numExits(); }
    int pathLength(int exit) const { return spec_.pathLength(exit); }
    const std::vector<LayerInfo>& pathInfo(int exit) const { return paths_.at(static_cast<size_t>(exit)); }

    // Runs layers [a, b) of exit's path. a == b returns x unchanged. Fails on a range error
    // or when x does not have the shape layer a expects.
    Result<torch::Tensor> runSlice(int exit, int a, int b, const torch::Tensor& x) const;

    // The full path of one exit (no checks beyond the slice's).
    Result<torch::Tensor> forwardExit(int exit, const torch::Tensor& x) const;

    // All exits' logits in one pass that shares the trunk, for training and evaluation.
    std::vector<torch::Tensor> forwardAll(const torch::Tensor& x) const;

    // Every exit's logits and, where the exit has one, its appeal head's logit (undefined
    // tensors elsewhere), in one pass that shares the trunk.
    struct Heads {
        std::vector<torch::Tensor> logits;
        std::vector<torch::Tensor> appealLogits;
    };
    Heads forwardHeads(const torch::Tensor& x, bool withAppeal = true) const;  // without: appealLogits stay undefined

    bool hasAppeal(int exit) const { return spec_.hasAppeal(exit); }

    // The device's part of one input under per-input early exits (one item, preprocessed):
    // walks the trunk, runs each early exit's branch in turn and stops at the first it is
    // confident at; otherwise keeps the tensor at the partition of the final exit's path (or
    // runs that path to its end when the partition is its length). Without early exits this is
    // runSlice(finalExit, 0, partition).
    struct DevicePart {
        int exitTaken = -1;    // the exit that answered on the device, or -1: the input goes to the edge
        torch::Tensor logits;  // that exit's logits
        ExitScores scores;     // and what the rules read there
        torch::Tensor cut;     // the tensor to send at the partition (undefined at partition 0: the raw input)
    };
    Result<DevicePart> devicePart(int finalExit, int partition, const EarlyExits& early, const torch::Tensor& x) const;
    // The appeal head of an exit: one logit per item (q = sigmoid), from the trunk features at
    // its attach point or the exit's logits, as its spec says. Fails when it has no head.
    Result<torch::Tensor> appealLogit(int exit, const torch::Tensor& trunkFeatures, const torch::Tensor& logits) const;
    // The parameters of one exit's branch and of its appeal head (for fine-tuning the heads
    // on a frozen trunk).
    std::vector<torch::Tensor> branchParameters(int exit) const;
    std::vector<torch::Tensor> appealParameters(int exit) const;

    // The layer at position i of exit's path (i in [0, pathLength)).
    const NetLayer& layer(int exit, int i) const;

    torch::nn::Module& module() { return *root_; }
    const torch::nn::Module& module() const { return *root_; }
    void train(bool on = true) { root_->train(on); }
    void eval() { root_->eval(); }

    // Converts uint8 CHW images to the normalised float input the first layer expects.
    torch::Tensor preprocess(const torch::Tensor& imagesU8) const;

    // Updates the accuracy recorded in the spec (for saving after evaluation).
    void setExitAccuracy(std::vector<double> accuracy, std::string dataset);

private:
    MultiExitNet() = default;

    ModelSpec spec_;
    std::vector<std::vector<LayerInfo>> paths_;
    std::shared_ptr<torch::nn::Module> root_;
    std::vector<NetLayer> trunk_;
    std::vector<std::vector<NetLayer>> branches_;
    std::vector<std::vector<NetLayer>> appeal_;  // per exit; empty without a head
};

}  // namespace edgent::core
