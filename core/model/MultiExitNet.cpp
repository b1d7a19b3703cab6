#include "core/model/MultiExitNet.h"

namespace edgent::core {

NetLayer::NetLayer(const LayerSpec& spec, const Shape& input) : kind_(spec.kind) {
    namespace nn = torch::nn;
    switch (spec.kind) {
    case LayerKind::Conv:
        conv_ =
            nn::Conv2d(nn::Conv2dOptions(input.dims[0], spec.outChannels, spec.kernel).stride(spec.stride).padding(spec.padding).groups(spec.groups));
        module_ = conv_.ptr();
        break;
    case LayerKind::Linear:
        linear_ = nn::Linear(input.dims[0], spec.outFeatures);
        module_ = linear_.ptr();
        break;
    case LayerKind::MaxPool:
        pool_ = nn::MaxPool2d(nn::MaxPool2dOptions(spec.kernel).stride(spec.stride).padding(spec.padding));
        module_ = pool_.ptr();
        break;
    case LayerKind::Lrn:
        lrn_ = nn::LocalResponseNorm(
            nn::LocalResponseNormOptions(spec.lrnSize).alpha(spec.lrnAlpha).beta(spec.lrnBeta).k(spec.lrnK));
        module_ = lrn_.ptr();
        break;
    case LayerKind::Dropout:
        dropout_ = nn::Dropout(nn::DropoutOptions(spec.dropoutP));
        module_ = dropout_.ptr();
        break;
    case LayerKind::BatchNorm:
        batchNorm_ = nn::BatchNorm2d(input.dims[0]);
        module_ = batchNorm_.ptr();
        break;
    case LayerKind::Relu:
    case LayerKind::Flatten: break;
    }
    // Inference first: a layer starts in eval mode (dropout the identity, batch norm on its
    // running statistics), as a loaded model runs; training switches the whole net to train().
    if (module_) module_->eval();
}

torch::Tensor NetLayer::forward(const torch::Tensor& x) const {
    switch (kind_) {
    case LayerKind::Conv: return conv_->forward(x);
    case LayerKind::Linear: return linear_->forward(x);
    case LayerKind::MaxPool: return pool_->forward(x);
    case LayerKind::Lrn: return lrn_->forward(x);
    case LayerKind::Dropout: return dropout_->forward(x);
    case LayerKind::BatchNorm: return batchNorm_->forward(x);
    case LayerKind::Relu: return torch::relu(x);
    case LayerKind::Flatten: return x.flatten(1);
    }
    return x;
}

Result<std::shared_ptr<MultiExitNet>> MultiExitNet::create(const ModelSpec& spec, uint64_t seed) {
    if (auto status = validateSpec(spec); !status) return makeError(status.error());
    torch::manual_seed(seed);
    std::shared_ptr<MultiExitNet> net(new MultiExitNet());
    net->spec_ = spec;
    net->root_ = std::make_shared<torch::nn::Module>("MultiExitNet");
    for (int e = 0; e < spec.numExits(); ++e) net->paths_.push_back(analyzePath(spec, e).value());

    // Trunk layers need their input shapes; the deepest-attaching exit's path covers the
    // longest trunk prefix, and trunk layers past every attach point are never run.
    int trunkUsed = 0;
    int deepest = 0;
    for (int e = 0; e < spec.numExits(); ++e) {
        if (spec.exits[static_cast<size_t>(e)].attach >= trunkUsed) {
            trunkUsed = spec.exits[static_cast<size_t>(e)].attach;
            deepest = e;
        }
    }
    auto trunkList = std::make_shared<torch::nn::ModuleListImpl>();
    const auto& deepPath = net->paths_[static_cast<size_t>(deepest)];
    for (int i = 0; i < trunkUsed; ++i) {
        net->trunk_.emplace_back(spec.trunk[static_cast<size_t>(i)], deepPath[static_cast<size_t>(i)].input);
        auto m = net->trunk_.back().module();
        trunkList->push_back(m ? m : std::make_shared<torch::nn::IdentityImpl>());
    }
    net->root_->register_module("trunk", trunkList);

    auto exitList = std::make_shared<torch::nn::ModuleListImpl>();
    for (int e = 0; e < spec.numExits(); ++e) {
        const ExitSpec& ex = spec.exits[static_cast<size_t>(e)];
        const auto& path = net->paths_[static_cast<size_t>(e)];
        std::vector<NetLayer> branch;
        auto branchList = std::make_shared<torch::nn::ModuleListImpl>();
        for (size_t j = 0; j < ex.branch.size(); ++j) {
            branch.emplace_back(ex.branch[j], path[static_cast<size_t>(ex.attach) + j].input);
            auto m = branch.back().module();
            branchList->push_back(m ? m : std::make_shared<torch::nn::IdentityImpl>());
        }
        exitList->push_back(branchList);
        net->branches_.push_back(std::move(branch));
    }
    net->root_->register_module("exits", exitList);

    // Appeal heads are registered only when a model has one, so models without keep the
    // weights layout they always had.
    bool anyAppeal = false;
    auto appealList = std::make_shared<torch::nn::ModuleListImpl>();
    for (int e = 0; e < spec.numExits(); ++e) {
        const ExitSpec& ex = spec.exits[static_cast<size_t>(e)];
        const auto head = analyzeAppeal(spec, e).value();
        std::vector<NetLayer> layers;
        auto list = std::make_shared<torch::nn::ModuleListImpl>();
        for (size_t j = 0; j < ex.appeal.size(); ++j) {
            layers.emplace_back(ex.appeal[j], head[j].input);
            auto m = layers.back().module();
            list->push_back(m ? m : std::make_shared<torch::nn::IdentityImpl>());
        }
        anyAppeal |= !layers.empty();
        appealList->push_back(list);
        net->appeal_.push_back(std::move(layers));
    }
    if (anyAppeal) net->root_->register_module("appeal", appealList);
    return net;
}

const NetLayer& MultiExitNet::layer(int exit, int i) const {
    const int attach = spec_.exits.at(static_cast<size_t>(exit)).attach;
    if (i < attach) return trunk_.at(static_cast<size_t>(i));
    return branches_.at(static_cast<size_t>(exit)).at(static_cast<size_t>(i - attach));
}

Result<torch::Tensor> MultiExitNet::runSlice(int exit, int a, int b, const torch::Tensor& x) const {
    if (exit < 0 || exit >= numExits())
        return makeError("exit " + std::to_string(exit) + " is out of range (the model has " + std::to_string(numExits()) +
                         " exits)");
    const int n = pathLength(exit);
    if (a < 0 || b > n || a > b)
        return makeError("slice [" + std::to_string(a) + ", " + std::to_string(b) + ") is out of range for exit " +
                         std::to_string(exit) + " (path of " + std::to_string(n) + " layers)");
    if (a == b) return x;
    const Shape& expected = paths_[static_cast<size_t>(exit)][static_cast<size_t>(a)].input;
    const auto sizes = x.sizes();
    bool shapeOk = static_cast<size_t>(x.dim()) == expected.dims.size() + 1;
    for (size_t d = 0; shapeOk && d < expected.dims.size(); ++d) shapeOk = sizes[d + 1] == expected.dims[d];
    if (!shapeOk) {
        std::string got;
        for (int64_t d = 1; d < x.dim(); ++d) got += (d > 1 ? "x" : "") + std::to_string(sizes[static_cast<size_t>(d)]);
        return makeError("layer " + std::to_string(a) + " of exit " + std::to_string(exit) + " expects " + expected.toString() +
                         " per item, got " + (got.empty() ? "()" : got));
    }
    torch::Tensor y = x;
    for (int i = a; i < b; ++i) y = layer(exit, i).forward(y);
    return y;
}

Result<torch::Tensor> MultiExitNet::forwardExit(int exit, const torch::Tensor& x) const {
    if (exit < 0 || exit >= numExits())
        return makeError("exit " + std::to_string(exit) + " is out of range (the model has " + std::to_string(numExits()) +
                         " exits)");
    return runSlice(exit, 0, pathLength(exit), x);
}

std::vector<torch::Tensor> MultiExitNet::forwardAll(const torch::Tensor& x) const { return forwardHeads(x, false).logits; }

namespace {

ExitScores scoresOf(const torch::Tensor& logits, double appealLogit) {
    const torch::Tensor row = logits.reshape({-1}).to(torch::kFloat32).contiguous();
    const float* p = row.data_ptr<float>();
    return scoresFromLogits(std::vector<float>(p, p + row.numel()), appealLogit);
}

}  // namespace

Result<MultiExitNet::DevicePart> MultiExitNet::devicePart(int finalExit, int partition, const EarlyExits& early,
                                                          const torch::Tensor& x) const {
    if (finalExit < 0 || finalExit >= numExits()) return makeError("exit " + std::to_string(finalExit) + " is out of range");
    const int n = pathLength(finalExit);
    if (partition < 0 || partition > n)
        return makeError("partition " + std::to_string(partition) + " is out of range for exit " + std::to_string(finalExit));
    const int attachE = spec_.exits[static_cast<size_t>(finalExit)].attach;
    DevicePart out;
    torch::Tensor h = x;
    int pos = 0;
    // Trunk positions are positions along the final exit's path up to its attach point.
    auto advanceTo = [&](int target) -> Status {
        if (partition > 0 && partition <= target && pos < partition) {
            auto r = runSlice(finalExit, pos, partition, h);
            if (!r) return makeError(r.error());
            h = *r;
            pos = partition;
            out.cut = h;
        }
        if (target > pos) {
            auto r = runSlice(finalExit, pos, target, h);
            if (!r) return makeError(r.error());
            h = *r;
            pos = target;
        }
        return Status::success();
    };
    if (early.active()) {
        for (size_t i = 0; i < early.exits.size(); ++i) {
            const int k = early.exits[i];
            const int attach = spec_.exits.at(static_cast<size_t>(k)).attach;
            if (attach > attachE) return makeError("early exit " + std::to_string(k) + " attaches past the final exit's trunk");
            if (auto s = advanceTo(attach); !s) return makeError(s.error());
            auto logits = runSlice(k, attach, pathLength(k), h);
            if (!logits) return makeError(logits.error());
            double appeal = NAN;
            if (early.rule == ConfidenceRule::Appeal) {
                auto a = appealLogit(k, h, *logits);
                if (!a) return makeError(a.error());
                appeal = a->item<double>();
            }
            const ExitScores scores = scoresOf(*logits, appeal);
            if (confident(early.rule, scores, early.thresholds.at(i))) {
                out.exitTaken = k;
                out.logits = *logits;
                out.scores = scores;
                out.cut = torch::Tensor();
                return out;
            }
        }
    }
    if (partition == n) {
        auto logits = runSlice(finalExit, pos, n, h);
        if (!logits) return makeError(logits.error());
        out.exitTaken = finalExit;
        out.logits = *logits;
        out.scores = scoresOf(*logits, NAN);
        out.cut = torch::Tensor();
        return out;
    }
    if (partition > pos) {
        auto r = runSlice(finalExit, pos, partition, h);
        if (!r) return makeError(r.error());
        out.cut = *r;
    }
    if (out.cut.defined()) out.cut = out.cut.contiguous();
    return out;
}

MultiExitNet::Heads MultiExitNet::forwardHeads(const torch::Tensor& x, bool withAppeal) const {
    // Walk the trunk once, branching off at every attach point.
    Heads out;
    out.logits.resize(static_cast<size_t>(numExits()));
    out.appealLogits.resize(static_cast<size_t>(numExits()));
    torch::Tensor h = x;
    const int trunkUsed = static_cast<int>(trunk_.size());
    for (int i = 0; i <= trunkUsed; ++i) {
        for (int e = 0; e < numExits(); ++e) {
            if (spec_.exits[static_cast<size_t>(e)].attach != i) continue;
            torch::Tensor b = h;
            for (const NetLayer& l : branches_[static_cast<size_t>(e)]) b = l.forward(b);
            out.logits[static_cast<size_t>(e)] = b;
            if (withAppeal && !appeal_[static_cast<size_t>(e)].empty()) {
                torch::Tensor a = spec_.exits[static_cast<size_t>(e)].appealOnLogits ? b : h;
                for (const NetLayer& l : appeal_[static_cast<size_t>(e)]) a = l.forward(a);
                out.appealLogits[static_cast<size_t>(e)] = a.flatten();
            }
        }
        if (i < trunkUsed) h = trunk_[static_cast<size_t>(i)].forward(h);
    }
    return out;
}

Result<torch::Tensor> MultiExitNet::appealLogit(int exit, const torch::Tensor& trunkFeatures,
                                                const torch::Tensor& logits) const {
    if (exit < 0 || exit >= numExits() || appeal_[static_cast<size_t>(exit)].empty())
        return makeError("exit " + std::to_string(exit) + " has no appeal head");
    torch::Tensor a = spec_.exits[static_cast<size_t>(exit)].appealOnLogits ? logits : trunkFeatures;
    for (const NetLayer& l : appeal_[static_cast<size_t>(exit)]) a = l.forward(a);
    return a.flatten();
}

namespace {

std::vector<torch::Tensor> parametersOf(const std::vector<NetLayer>& layers) {
    std::vector<torch::Tensor> out;
    for (const NetLayer& l : layers)
        if (auto m = l.module())
            for (const auto& p : m->parameters()) out.push_back(p);
    return out;
}

}  // namespace

std::vector<torch::Tensor> MultiExitNet::branchParameters(int exit) const {
    return parametersOf(branches_.at(static_cast<size_t>(exit)));
}

std::vector<torch::Tensor> MultiExitNet::appealParameters(int exit) const {
    return parametersOf(appeal_.at(static_cast<size_t>(exit)));
}

torch::Tensor MultiExitNet::preprocess(const torch::Tensor& imagesU8) const {
    return imagesU8.to(torch::kFloat32).div_(255.0f).sub_(spec_.inputMean).div_(spec_.inputStd);
}

void MultiExitNet::setExitAccuracy(std::vector<double> accuracy, std::string dataset) {
    spec_.exitAccuracy = std::move(accuracy);
    spec_.accuracyDataset = std::move(dataset);
}

}  // namespace edgent::core
