#include "core/model/MultiExitNet.h"

namespace edgent::core {

NetLayer::NetLayer(const LayerSpec& spec, const Shape& input) : kind_(spec.kind) {
    namespace nn = torch::nn;
    switch (spec.kind) {
    case LayerKind::Conv:
        conv_ =
            nn::Conv2d(nn::Conv2dOptions(input.dims[0], spec.outChannels, spec.kernel).stride(spec.stride).padding(spec.padding));
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

std::vector<torch::Tensor> MultiExitNet::forwardAll(const torch::Tensor& x) const {
    // Walk the trunk once, branching off at every attach point.
    std::vector<torch::Tensor> out(static_cast<size_t>(numExits()));
    torch::Tensor h = x;
    const int trunkUsed = static_cast<int>(trunk_.size());
    for (int i = 0; i <= trunkUsed; ++i) {
        for (int e = 0; e < numExits(); ++e) {
            if (spec_.exits[static_cast<size_t>(e)].attach != i) continue;
            torch::Tensor b = h;
            for (const NetLayer& l : branches_[static_cast<size_t>(e)]) b = l.forward(b);
            out[static_cast<size_t>(e)] = b;
        }
        if (i < trunkUsed) h = trunk_[static_cast<size_t>(i)].forward(h);
    }
    return out;
}

torch::Tensor MultiExitNet::preprocess(const torch::Tensor& imagesU8) const {
    return imagesU8.to(torch::kFloat32).div_(255.0f).sub_(spec_.inputMean).div_(spec_.inputStd);
}

void MultiExitNet::setExitAccuracy(std::vector<double> accuracy, std::string dataset) {
    spec_.exitAccuracy = std::move(accuracy);
    spec_.accuracyDataset = std::move(dataset);
}

}  // namespace edgent::core
