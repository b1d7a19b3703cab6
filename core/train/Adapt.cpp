#include "core/util/Torch.h"  // first: the torch-free rule

#include "core/train/Adapt.h"

#include "core/data/Dataset.h"
#include "core/model/MultiExitNet.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace edgent::core {

namespace {

using Clock = std::chrono::steady_clock;

bool isGemm(LayerKind k) { return k == LayerKind::Conv || k == LayerKind::Linear; }
int64_t qmax(int bits) { return (int64_t{1} << (bits - 1)) - 1; }
torch::ScalarType container(int bits) { return bits <= 8 ? torch::kInt8 : torch::kInt16; }

// One layer of the device's part: a trunk layer or a device exit's branch layer.
struct DeviceLayer {
    const NetLayer* layer = nullptr;
    std::string name;
    bool trained = false;
    int backwardPasses = 0;  // GEMM passes its gradients cost per step
    int64_t macs = 0;        // per image
    torch::Tensor weight, bias;  // Conv/Linear parameters (undefined otherwise)
    // Quantised state (qat: master and its width; rct: integers, scale and width).
    torch::Tensor master, q, scale;
    int bits = 32;
    double gSum = 0.0;
    int gCount = 0;
};

struct Plan {
    int exit = 0, partition = 0, trunkEnd = 0, first = 0, last = 0;
    std::vector<int> deviceExits;  // by attach point
};

Result<Plan> planOf(const ModelSpec& spec, const AdaptOptions& o) {
    Plan p;
    p.exit = o.exit < 0 ? spec.numExits() - 1 : o.exit;
    if (p.exit >= spec.numExits())
        return makeError("exit " + std::to_string(o.exit) + " is out of range (the model has " + std::to_string(spec.numExits()) +
                         " exits)");
    const int n = spec.pathLength(p.exit);
    const int attach = spec.exits[static_cast<size_t>(p.exit)].attach;
    p.partition = o.partition < 0 ? defaultAdaptPartition(spec) : o.partition;
    if (p.partition < 1 || p.partition > n)
        return makeError("partition " + std::to_string(p.partition) + " is outside exit " + std::to_string(p.exit) +
                         "'s path (1 to " + std::to_string(n) + "): the device must run at least one layer");
    if (p.partition > attach && p.partition < n)
        return makeError("partition " + std::to_string(p.partition) + " cuts exit " + std::to_string(p.exit) +
                         "'s own branch; adapt a partition in the trunk (up to " + std::to_string(attach) + ") or the whole path (" +
                         std::to_string(n) + ")");
    p.trunkEnd = std::min(p.partition, attach);
    for (int k = 0; k < spec.numExits(); ++k) {
        const int a = spec.exits[static_cast<size_t>(k)].attach;
        if (k == p.exit ? p.partition == n : a <= p.trunkEnd) p.deviceExits.push_back(k);
    }
    std::stable_sort(p.deviceExits.begin(), p.deviceExits.end(), [&](int a, int b) {
        return spec.exits[static_cast<size_t>(a)].attach < spec.exits[static_cast<size_t>(b)].attach;
    });
    if (p.deviceExits.empty())
        return makeError("partition " + std::to_string(p.partition) + " leaves the device no exit to answer at (the earliest attaches at " +
                         std::to_string(spec.exits.front().attach) + ")");
    p.first = o.firstLayer;
    p.last = o.lastLayer < 0 ? p.trunkEnd : o.lastLayer;
    if (p.first < 0 || p.last > p.trunkEnd || p.first > p.last)
        return makeError("layers [" + std::to_string(o.firstLayer) + ", " + std::to_string(p.last) +
                         ") lie outside the device's slice [0, " + std::to_string(p.trunkEnd) + ")");
    return p;
}

torch::Tensor imagesOf(const ImageSet& set, const torch::Tensor& idx) {
    const torch::Tensor all =
        torch::from_blob(const_cast<uint8_t*>(set.pixels.data()), {set.count, set.channels, set.height, set.width}, torch::kUInt8);
    return all.index_select(0, idx);
}
torch::Tensor labelsOf(const ImageSet& set, const torch::Tensor& idx) {
    const torch::Tensor all = torch::from_blob(const_cast<uint8_t*>(set.labels.data()), {set.count}, torch::kUInt8);
    return all.index_select(0, idx).to(torch::kInt64);
}

class Trainer {
public:
    Trainer(MultiExitNet& net, const AdaptOptions& o, Plan plan) : net_(net), o_(o), p_(std::move(plan)) {
        const ModelSpec& spec = net.spec();
        for (int i = 0; i < p_.trunkEnd; ++i) {
            const bool trained = i >= p_.first && i < p_.last;
            add(net.layer(p_.exit, i), net.pathInfo(p_.exit)[static_cast<size_t>(i)], trained, trained ? 2 : (i >= p_.last ? 1 : 0));
        }
        for (int k : p_.deviceExits)
            for (int j = spec.exits[static_cast<size_t>(k)].attach; j < net.pathLength(k); ++j)
                add(net.layer(k, j), net.pathInfo(k)[static_cast<size_t>(j)], true, 2);
    }

    std::vector<DeviceLayer>& layers() { return layers_; }

    // The device exits' logits, by the plan's order.
    std::vector<torch::Tensor> forward(const torch::Tensor& x) const {
        std::vector<torch::Tensor> out(p_.deviceExits.size());
        const ModelSpec& spec = net_.spec();
        torch::Tensor h = x;
        auto branches = [&](int at) {
            for (size_t e = 0; e < p_.deviceExits.size(); ++e) {
                const int k = p_.deviceExits[e];
                if (spec.exits[static_cast<size_t>(k)].attach != at) continue;
                torch::Tensor b = h;
                for (int j = at; j < net_.pathLength(k); ++j) b = net_.layer(k, j).forward(b);
                out[e] = b;
            }
        };
        for (int i = 0; i < p_.trunkEnd; ++i) {
            branches(i);
            h = net_.layer(p_.exit, i).forward(h);
        }
        branches(p_.trunkEnd);
        return out;
    }

    // The quantised weights as float tensors for a forward pass (qat: fake-quantised master).
    void materialise() {
        torch::NoGradGuard g;
        for (DeviceLayer& l : layers_) {
            if (o_.mode == "rct" && l.q.defined()) l.weight.set_data(l.q.to(torch::kFloat32) * l.scale);
            if (o_.mode == "qat" && l.master.defined()) {
                const torch::Tensor s = l.master.abs().max().clamp_min(1e-12) / static_cast<double>(qmax(l.bits));
                l.weight.set_data((l.master / s).round().clamp(-qmax(l.bits), qmax(l.bits)) * s);
            }
        }
    }
    // Drops the float copies again: between steps a quantised mode holds its integers or master only.
    void release() {
        for (DeviceLayer& l : layers_)
            if (l.q.defined() || l.master.defined()) {
                l.weight.set_data(torch::empty({0}));
                l.weight.mutable_grad() = torch::Tensor();
            }
    }

    // Measured: the bytes of every tensor held for the trained layers.
    int64_t heldBytes() const {
        int64_t bytes = 0;
        for (const DeviceLayer& l : layers_) {
            if (!l.trained) continue;
            if (l.layer->module())
                for (const auto& t : l.layer->module()->parameters()) bytes += static_cast<int64_t>(t.nbytes());
            for (const torch::Tensor* t : {&l.master, &l.q, &l.scale})
                if (t->defined()) bytes += static_cast<int64_t>(t->nbytes());
        }
        return bytes;
    }

    double stepEnergyPj(int64_t batch) const {
        double pj = 0.0;
        for (const DeviceLayer& l : layers_) {
            if (!l.weight.defined()) continue;
            const int fwd = !l.trained || o_.mode == "fp32" ? 32 : l.bits;
            const int bwd = !l.trained || o_.mode != "rct" ? 32 : l.bits;
            pj += static_cast<double>(l.macs * batch) * (macEnergyPj(fwd) + l.backwardPasses * macEnergyPj(bwd));
        }
        return pj;
    }
    int64_t stepMacs(int64_t batch) const {
        int64_t m = 0;
        for (const DeviceLayer& l : layers_)
            if (l.weight.defined()) m += l.macs * batch * (1 + l.backwardPasses);
        return m;
    }

    // One SGD step from the gradients of the last backward pass.
    void update(double lr) {
        torch::NoGradGuard g;
        for (DeviceLayer& l : layers_) {
            if (!l.trained || !l.layer->module()) continue;
            for (auto& t : l.layer->module()->parameters()) {
                if (!t.grad().defined()) continue;
                const bool quantisedWeight = t.is_same(l.weight) && (l.q.defined() || l.master.defined());
                if (!quantisedWeight) {
                    t.sub_(t.grad() * lr);
                    t.mutable_grad() = torch::Tensor();
                }
            }
            if (l.master.defined() && l.weight.grad().defined()) l.master.sub_(l.weight.grad() * lr);
            if (l.q.defined() && l.weight.grad().defined()) {
                const torch::Tensor r = l.weight.grad() * (lr / l.scale.item<double>());
                l.gSum += r.abs().mean().item<double>();
                ++l.gCount;
                const torch::Tensor moved = (l.q.to(torch::kFloat32) - r + torch::rand_like(r)).floor();
                l.q = moved.clamp(-qmax(l.bits), qmax(l.bits)).to(container(l.bits));
            }
        }
    }

    // RCT's rule, every checkEvery steps.
    void adjustBits() {
        torch::NoGradGuard g;
        for (DeviceLayer& l : layers_) {
            if (!l.q.defined() || l.gCount == 0) continue;
            const double gAvg = l.gSum / l.gCount;
            l.gSum = 0.0;
            l.gCount = 0;
            if (gAvg < o_.gMin && l.bits < o_.maxBits) {
                ++l.bits;
                l.scale = l.scale / 2;
                l.q = (l.q.to(torch::kFloat32) * 2).clamp(-qmax(l.bits), qmax(l.bits)).to(container(l.bits));
            } else if (gAvg > o_.gMax && l.bits > o_.minBits) {
                --l.bits;
                l.scale = l.scale * 2;
                const torch::Tensor half = l.q.to(torch::kFloat32) / 2;
                l.q = (half + torch::rand_like(half)).floor().clamp(-qmax(l.bits), qmax(l.bits)).to(container(l.bits));
            }
        }
    }

    // Quantises the trained GEMM weights for the mode (before the first step).
    void quantise() {
        torch::NoGradGuard g;
        for (DeviceLayer& l : layers_) {
            if (!l.trained || !l.weight.defined() || o_.mode == "fp32") continue;
            l.bits = o_.bits;
            if (o_.mode == "qat") {
                l.master = l.weight.detach().clone();
            } else {
                l.scale = l.weight.abs().max().clamp_min(1e-12) / static_cast<double>(qmax(l.bits));
                l.q = (l.weight / l.scale).round().clamp(-qmax(l.bits), qmax(l.bits)).to(container(l.bits));
            }
        }
        release();
    }

private:
    void add(const NetLayer& layer, const LayerInfo& info, bool trained, int backwardPasses) {
        DeviceLayer l;
        l.layer = &layer;
        l.name = info.name;
        l.trained = trained;
        l.backwardPasses = backwardPasses;
        l.macs = info.flops / 2;
        if (layer.module())
            for (auto& kv : layer.module()->named_parameters(false)) {
                kv.value().set_requires_grad(trained);
                if (isGemm(layer.kind()) && kv.key() == "weight") l.weight = kv.value();
                if (isGemm(layer.kind()) && kv.key() == "bias") l.bias = kv.value();
            }
        layers_.push_back(std::move(l));
    }

    MultiExitNet& net_;
    const AdaptOptions& o_;
    Plan p_;
    std::vector<DeviceLayer> layers_;
};

}  // namespace

double macEnergyPj(int bits) {
    if (bits >= 32) return 3.7 + 0.9;
    const double r = bits / 8.0;
    return 0.2 * r * r + 0.03 * r;
}

int defaultAdaptPartition(const ModelSpec& spec) {
    const int final = spec.numExits() - 1;
    const int half = spec.exits[static_cast<size_t>(final)].attach / 2;
    int best = -1;
    for (int k = 0; k < final; ++k)
        if (spec.exits[static_cast<size_t>(k)].attach <= half) best = std::max(best, spec.exits[static_cast<size_t>(k)].attach);
    return best > 0 ? best : std::max(1, spec.exits.front().attach);
}

Status checkAdaptOptions(const ModelSpec& spec, const AdaptOptions& o) {
    if (o.mode != "fp32" && o.mode != "qat" && o.mode != "rct") return makeError("unknown mode '" + o.mode + "' (fp32, qat or rct)");
    for (int b : {o.bits, o.minBits, o.maxBits})
        if (b < 2 || b > 16) return makeError("bit width " + std::to_string(b) + " is outside 2–16");
    if (o.minBits > o.bits || o.bits > o.maxBits) return makeError("the starting width must lie within the minimum and maximum widths");
    if (o.steps < 1 || o.batch < 1 || o.checkEvery < 1 || o.evalEvery < 1) return makeError("steps, batch and intervals must be positive");
    if (!(o.learningRate > 0)) return makeError("the learning rate must be positive");
    if (o.trainCount < o.batch || o.evalCount < 1) return makeError("the stream needs at least one batch and one held-out image");
    if (auto p = planOf(spec, o); !p) return makeError(p.error());
    return Status::success();
}

Result<AdaptReport> adaptNet(MultiExitNet& net, const AdaptOptions& o, const AdaptProgressFn& progress,
                             const std::atomic<bool>* cancel) {
    if (auto s = checkAdaptOptions(net.spec(), o); !s) return makeError(s.error());
    const Plan plan = *planOf(net.spec(), o);
    const auto t0 = Clock::now();
    auto ds = openDataset(o.dataset, o.dataDir);
    if (!ds) return makeError(ds.error());
    auto trainSplit = (*ds)->load(Split::Train);
    if (!trainSplit) return makeError(trainSplit.error());
    auto slice = [&](int64_t first, int64_t count) -> Result<ImageSet> {
        if (first < 0 || first + count > trainSplit->count)
            return makeError("images [" + std::to_string(first) + ", " + std::to_string(first + count) + ") lie outside the " +
                             std::to_string(trainSplit->count) + " training images");
        ImageSet s = *trainSplit;
        s.count = count;
        s.pixels.assign(trainSplit->image(first), trainSplit->image(first) + count * trainSplit->imageBytes());
        s.labels.assign(trainSplit->labels.begin() + first, trainSplit->labels.begin() + first + count);
        return s;
    };
    auto stream = slice(o.trainFirst, o.trainCount);
    auto clean = slice(o.evalFirst, o.evalCount);
    if (!stream || !clean) return makeError(!stream ? stream.error() : clean.error());
    ImageSet shifted = *clean;
    shiftImages(*stream, o.shift, o.trainFirst);
    shiftImages(shifted, o.shift, o.evalFirst);
    trainSplit = makeError("released");

    torch::manual_seed(o.seed);
    Trainer t(net, o, plan);
    // However the function leaves, by return or by an exception in mid-step, the net keeps
    // whole float weights (a quantised mode releases them between steps), trainable
    // parameters and eval mode, so a caller can still run it or load other weights into it.
    struct Restore {
        Trainer& t;
        MultiExitNet& net;
        ~Restore() {
            try {
                t.materialise();
                for (DeviceLayer& l : t.layers())
                    if (l.layer->module())
                        for (auto& p : l.layer->module()->parameters()) p.set_requires_grad(true);
                net.eval();
            } catch (const std::exception&) {
                // LibTorch's errors (c10::Error) and a failed allocation both derive from
                // std::exception. A destructor must not throw: the exception already leaving,
                // or the result already made, is what the caller sees; the worker's restore of
                // the old weights then reports a net left in pieces (workers/WorkerAdapt.cpp).
            }
        }
    } restore{t, net};
    auto accuracy = [&](const ImageSet& set, int64_t limit) {
        torch::NoGradGuard g;
        net.eval();
        t.materialise();
        const int64_t n = limit > 0 ? std::min(limit, set.count) : set.count;
        int64_t correct = 0;
        for (int64_t b = 0; b < n; b += 500) {
            const torch::Tensor idx = torch::arange(b, std::min(n, b + 500), torch::kInt64);
            const auto logits = t.forward(net.preprocess(imagesOf(set, idx)));
            correct += logits.back().argmax(1).eq(labelsOf(set, idx)).sum().item<int64_t>();
        }
        return static_cast<double>(correct) / static_cast<double>(n);
    };
    AdaptReport r;
    r.mode = o.mode;
    r.exit = plan.exit;
    r.partition = plan.partition;
    r.deviceExits = plan.deviceExits;
    r.shiftedBefore = accuracy(shifted, 0);
    r.cleanBefore = accuracy(*clean, 0);
    t.quantise();
    for (int step = 1; step <= o.steps; ++step) {
        if (cancel && cancel->load()) {
            r.cancelled = true;
            break;
        }
        net.train(true);
        for (DeviceLayer& l : t.layers())
            if (!l.trained && l.layer->module()) l.layer->module()->eval();  // frozen batch norms keep their statistics
        const torch::Tensor idx = torch::randint(o.trainCount, {o.batch}, torch::kInt64);
        const torch::Tensor y = labelsOf(*stream, idx);
        t.materialise();
        r.paramBytesPeak = std::max(r.paramBytesPeak, t.heldBytes());
        const auto logits = t.forward(net.preprocess(imagesOf(*stream, idx)));
        torch::Tensor loss = torch::zeros({}, torch::kFloat32);
        for (const auto& l : logits) loss = loss + torch::nn::functional::cross_entropy(l, y);
        loss.backward();
        t.update(o.learningRate);
        t.release();
        r.gemmEnergyMj += t.stepEnergyPj(o.batch) * 1e-9;
        r.gemmMacs += t.stepMacs(o.batch);
        if (o.mode == "rct" && step % o.checkEvery == 0) t.adjustBits();
        AdaptStep s;
        s.step = step;
        s.loss = loss.item<double>();
        s.batchAccuracy = logits.back().argmax(1).eq(y).to(torch::kFloat32).mean().item<double>();
        if (step % o.evalEvery == 0 || step == o.steps) {
            s.evalAccuracy = accuracy(shifted, 500);
            t.release();
        }
        for (const DeviceLayer& l : t.layers())
            if (l.q.defined() || l.master.defined()) s.bits.push_back(l.bits);
        r.steps.push_back(s);
        if (progress) progress({step, o.steps, s.loss, s.evalAccuracy});
    }
    r.paramBytesHeld = t.heldBytes();
    r.shiftedAfter = accuracy(shifted, 0);  // leaves the weights materialised: the adapted net runs as it is
    r.cleanAfter = accuracy(*clean, 0);
    for (const DeviceLayer& l : t.layers()) {
        if (!l.weight.defined()) continue;
        AdaptLayer x;
        x.name = l.name;
        x.trained = l.trained;
        x.quantised = l.q.defined() || l.master.defined();
        x.params = static_cast<int64_t>(l.weight.numel() + (l.bias.defined() ? l.bias.numel() : 0));
        x.macsPerImage = l.macs;
        x.bits = x.quantised ? l.bits : 32;
        r.layers.push_back(x);
    }
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return r;
}

}  // namespace edgent::core
