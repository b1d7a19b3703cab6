#include "core/model/TorchScriptImport.h"

#include "core/model/ModelIO.h"
#include "core/model/ModelImport.h"

#include "core/util/Torch.h"

#include <torch/script.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

namespace edgent::core {

namespace {

using torch::jit::Module;

// Reads a hyperparameter stored as an attribute or as a class constant (Python's scripted
// nn modules keep kernel_size, stride, ... in __constants__). Tuples/lists must be square.
Result<int64_t> intParam(const Module& m, const std::string& name, const std::string& where,
                         std::optional<int64_t> fallback = {}) {
    c10::IValue v;
    if (m.hasattr(name))
        v = m.attr(name);
    else if (m.type()->hasConstant(name))
        v = m.type()->getConstant(name);
    else if (fallback)
        return *fallback;
    else
        return makeError(where + ": missing '" + name + "'");
    if (v.isInt()) return v.toInt();
    std::vector<int64_t> values;
    if (v.isIntList())
        values = v.toIntVector();
    else if (v.isTuple())
        for (const auto& e : v.toTupleRef().elements()) {
            if (!e.isInt()) return makeError(where + ": '" + name + "' must hold integers");
            values.push_back(e.toInt());
        }
    else if (v.isNone() && fallback)
        return *fallback;
    else
        return makeError(where + ": '" + name + "' must be an integer or a pair");
    if (values.empty() || std::adjacent_find(values.begin(), values.end(), std::not_equal_to<>()) != values.end())
        return makeError(where + ": '" + name + "' must be square (equal in both dimensions)");
    return values.front();
}

Result<double> doubleParam(const Module& m, const std::string& name, const std::string& where, double fallback) {
    c10::IValue v;
    if (m.hasattr(name))
        v = m.attr(name);
    else if (m.type()->hasConstant(name))
        v = m.type()->getConstant(name);
    else
        return fallback;
    if (v.isDouble()) return v.toDouble();
    if (v.isInt()) return static_cast<double>(v.toInt());
    return makeError(where + ": '" + name + "' must be a number");
}

std::string kindOf(const Module& m) {
    const auto qualified = m.type()->name();
    return qualified ? qualified->name() : std::string();
}

// Children in numeric order of their names ("0", "1", ...).
Result<std::vector<Module>> orderedChildren(const Module& parent, const std::string& where) {
    std::vector<std::pair<long, Module>> kids;
    for (const auto& child : parent.named_children()) {
        char* end = nullptr;
        const long idx = std::strtol(child.name.c_str(), &end, 10);
        if (child.name.empty() || *end != '\0') return makeError(where + ": child '" + child.name + "' is not numbered");
        kids.emplace_back(idx, child.value);
    }
    std::sort(kids.begin(), kids.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<Module> out;
    for (size_t i = 0; i < kids.size(); ++i) {
        if (kids[i].first != static_cast<long>(i)) return makeError(where + ": children are not numbered 0..n-1");
        out.push_back(kids[i].second);
    }
    return out;
}

Result<LayerSpec> layerFromModule(const Module& m, const std::string& where) {
    const std::string kind = kindOf(m);
    LayerSpec l;
    l.name = where;
    auto need = [&](Result<int64_t> r, int64_t& out) -> bool {
        if (!r) return false;
        out = *r;
        return true;
    };
    if (kind == "Conv2d") {
        l.kind = LayerKind::Conv;
        auto oc = intParam(m, "out_channels", where), k = intParam(m, "kernel_size", where), s = intParam(m, "stride", where, 1),
             p = intParam(m, "padding", where, 0);
        for (auto* r : {&oc, &k, &s, &p})
            if (!*r) return makeError(r->error());
        if (auto d = intParam(m, "dilation", where, 1); !d || *d != 1)
            return makeError(where + ": dilated convolutions are not supported");
        auto g = intParam(m, "groups", where, 1);
        if (!g) return makeError(g.error());
        need(oc, l.outChannels), need(k, l.kernel), need(s, l.stride), need(p, l.padding), need(g, l.groups);
    } else if (kind == "MaxPool2d") {
        l.kind = LayerKind::MaxPool;
        auto k = intParam(m, "kernel_size", where);
        if (!k) return makeError(k.error());
        auto s = intParam(m, "stride", where, *k), p = intParam(m, "padding", where, 0);
        if (!s || !p) return makeError(!s ? s.error() : p.error());
        need(k, l.kernel), need(s, l.stride), need(p, l.padding);
    } else if (kind == "ReLU") {
        l.kind = LayerKind::Relu;
    } else if (kind == "LocalResponseNorm") {
        l.kind = LayerKind::Lrn;
        auto size = intParam(m, "size", where);
        auto a = doubleParam(m, "alpha", where, 1e-4), b = doubleParam(m, "beta", where, 0.75),
             k = doubleParam(m, "k", where, 1.0);
        if (!size || !a || !b || !k) return makeError(!size ? size.error() : where + ": bad alpha, beta or k");
        l.lrnSize = *size, l.lrnAlpha = *a, l.lrnBeta = *b, l.lrnK = *k;
    } else if (kind == "Dropout") {
        l.kind = LayerKind::Dropout;
        auto p = doubleParam(m, "p", where, 0.5);
        if (!p) return makeError(p.error());
        l.dropoutP = *p;
    } else if (kind == "Flatten") {
        l.kind = LayerKind::Flatten;
    } else if (kind == "Linear") {
        l.kind = LayerKind::Linear;
        if (!m.hasattr("weight")) return makeError(where + ": Linear without a weight");
        l.outFeatures = m.attr("weight").toTensor().size(0);
    } else if (kind == "BatchNorm2d") {
        l.kind = LayerKind::BatchNorm;
    } else {
        return makeError(where + ": unsupported module type '" + kind + "'");
    }
    return l;
}

Status copyTensor(torch::nn::Module& target, const std::string& targetName, const Module& source, const std::string& sourceName,
                  const std::string& where) {
    torch::Tensor* dst = target.named_parameters(true).find(targetName);
    if (!dst) dst = target.named_buffers(true).find(targetName);
    if (!dst) return Status::success();  // nothing to fill (e.g. parameter-free layer)
    if (!source.hasattr(sourceName)) return makeError(where + ": missing tensor '" + sourceName + "'");
    const c10::IValue v = source.attr(sourceName);
    if (!v.isTensor()) return makeError(where + ": '" + sourceName + "' is not a tensor");
    const torch::Tensor t = v.toTensor();
    if (t.sizes() != dst->sizes())
        return makeError(where + ": '" + sourceName + "' has shape " + c10::str(t.sizes()) + ", expected " +
                         c10::str(dst->sizes()));
    torch::NoGradGuard noGrad;
    dst->copy_(t.to(dst->scalar_type()));
    return Status::success();
}

Status copyLayerWeights(torch::nn::Module& root, const std::string& prefix, const Module& m, const std::string& where) {
    for (const char* name : {"weight", "bias", "running_mean", "running_var"})
        if (auto s = copyTensor(root, prefix + name, m, name, where); !s) return s;
    return Status::success();
}

std::string fmt(double v) {
    std::ostringstream out;
    out.precision(17);
    out << v;
    std::string s = out.str();
    if (s.find_first_of(".eE") == std::string::npos) s += ".0";
    return s;
}

// TorchScript source for one layer's forward, from torch ops alone.
std::string layerForwardCode(const LayerSpec& l) {
    std::ostringstream c;
    c << "def forward(self, x):\n";
    switch (l.kind) {
    case LayerKind::Conv:
        c << "    return torch.conv2d(x, self.weight, self.bias, [" << l.stride << ", " << l.stride << "], [" << l.padding << ", "
          << l.padding << "], [1, 1], " << l.groups << ")\n";
        break;
    case LayerKind::Relu: c << "    return torch.relu(x)\n"; break;
    case LayerKind::MaxPool:
        c << "    return torch.max_pool2d(x, [" << l.kernel << ", " << l.kernel << "], [" << l.stride << ", " << l.stride
          << "], [" << l.padding << ", " << l.padding << "])\n";
        break;
    case LayerKind::Lrn:
        // torch.nn.functional.local_response_norm, written out for 4-D input
        c << "    div = x.mul(x).unsqueeze(1)\n"
          << "    div = torch.constant_pad_nd(div, [0, 0, 0, 0, " << l.lrnSize / 2 << ", " << (l.lrnSize - 1) / 2 << "])\n"
          << "    div = torch.avg_pool3d(div, [" << l.lrnSize << ", 1, 1], [1, 1, 1]).squeeze(1)\n"
          << "    div = div.mul(" << fmt(l.lrnAlpha) << ").add(" << fmt(l.lrnK) << ").pow(" << fmt(l.lrnBeta) << ")\n"
          << "    return x / div\n";
        break;
    case LayerKind::Dropout: c << "    return x\n"; break;
    case LayerKind::Flatten: c << "    return torch.flatten(x, 1)\n"; break;
    case LayerKind::Linear: c << "    return torch.linear(x, self.weight, self.bias)\n"; break;
    case LayerKind::BatchNorm:
        c << "    return torch.batch_norm(x, self.weight, self.bias, self.running_mean, self.running_var, False, 0.1, 1e-05, "
             "False)\n";
        break;
    }
    return c.str();
}

const char* typeNameOf(LayerKind kind) {
    switch (kind) {
    case LayerKind::Conv: return "Conv2d";
    case LayerKind::Relu: return "ReLU";
    case LayerKind::MaxPool: return "MaxPool2d";
    case LayerKind::Lrn: return "LocalResponseNorm";
    case LayerKind::Dropout: return "Dropout";
    case LayerKind::Flatten: return "Flatten";
    case LayerKind::Linear: return "Linear";
    case LayerKind::BatchNorm: return "BatchNorm2d";
    }
    return "Unknown";
}

Module layerModule(const LayerSpec& l, const std::string& ns, const torch::nn::Module& root, const std::string& prefix,
                   const std::shared_ptr<torch::jit::CompilationUnit>& cu) {
    Module m(c10::QualifiedName(ns + "." + typeNameOf(l.kind)), cu);
    auto intAttr = [&](const char* name, int64_t v) { m.register_attribute(name, c10::IntType::get(), v); };
    auto floatAttr = [&](const char* name, double v) { m.register_attribute(name, c10::FloatType::get(), v); };
    switch (l.kind) {
    case LayerKind::Conv:
        intAttr("out_channels", l.outChannels), intAttr("kernel_size", l.kernel), intAttr("stride", l.stride),
            intAttr("padding", l.padding), intAttr("groups", l.groups);
        break;
    case LayerKind::MaxPool: intAttr("kernel_size", l.kernel), intAttr("stride", l.stride), intAttr("padding", l.padding); break;
    case LayerKind::Lrn:
        intAttr("size", l.lrnSize), floatAttr("alpha", l.lrnAlpha), floatAttr("beta", l.lrnBeta), floatAttr("k", l.lrnK);
        break;
    case LayerKind::Dropout: floatAttr("p", l.dropoutP); break;
    default: break;
    }
    for (const char* name : {"weight", "bias"})
        if (const torch::Tensor* t = root.named_parameters(true).find(prefix + name))
            m.register_parameter(name, t->detach().clone(), false);
    for (const char* name : {"running_mean", "running_var"})
        if (const torch::Tensor* t = root.named_buffers(true).find(prefix + name)) m.register_buffer(name, t->detach().clone());
    m.define(layerForwardCode(l));
    return m;
}

}  // namespace

Result<std::shared_ptr<MultiExitNet>> importTorchScript(const std::string& path) {
    Module root;
    try {
        root = torch::jit::load(path);
    } catch (const c10::Error& e) {
        std::string what = e.what_without_backtrace();
        what = what.substr(0, what.find('\n'));
        return makeError("cannot load TorchScript archive " + path + ": " + what);
    }
    const std::string origin = "TorchScript " + path;
    for (const char* attr : {"trunk", "exits", "edgent_exit_points", "edgent_input_shape"})
        if (!root.hasattr(attr)) return makeError(origin + " does not follow the multi-exit convention: no '" + attr + "'");
    ModelSpec spec;
    spec.name = "torchscript";
    const auto shape = root.attr("edgent_input_shape");
    if (!shape.isIntList() || shape.toIntVector().size() != 3)
        return makeError(origin + ": edgent_input_shape must be [C, H, W]");
    spec.input = Shape{shape.toIntVector()};
    if (root.hasattr("edgent_input_mean")) spec.inputMean = static_cast<float>(root.attr("edgent_input_mean").toDouble());
    if (root.hasattr("edgent_input_std")) spec.inputStd = static_cast<float>(root.attr("edgent_input_std").toDouble());
    const auto points = root.attr("edgent_exit_points");
    if (!points.isIntList()) return makeError(origin + ": edgent_exit_points must be a list of ints");
    const std::vector<int64_t> attach = points.toIntVector();

    auto trunkModules = orderedChildren(root.attr("trunk").toModule(), origin + ": trunk");
    if (!trunkModules) return makeError(trunkModules.error());
    for (size_t i = 0; i < trunkModules->size(); ++i) {
        auto l = layerFromModule((*trunkModules)[i], "trunk." + std::to_string(i));
        if (!l) return makeError(origin + ": " + l.error());
        spec.trunk.push_back(*l);
    }
    auto exitModules = orderedChildren(root.attr("exits").toModule(), origin + ": exits");
    if (!exitModules) return makeError(exitModules.error());
    if (exitModules->size() != attach.size())
        return makeError(origin + ": " + std::to_string(exitModules->size()) + " exits but " + std::to_string(attach.size()) +
                         " exit points");
    std::vector<std::vector<Module>> branchModules;
    for (size_t e = 0; e < exitModules->size(); ++e) {
        ExitSpec ex;
        ex.name = "exit" + std::to_string(e);
        ex.attach = static_cast<int>(attach[e]);
        auto branch = orderedChildren((*exitModules)[e], origin + ": exits." + std::to_string(e));
        if (!branch) return makeError(branch.error());
        for (size_t j = 0; j < branch->size(); ++j) {
            auto l = layerFromModule((*branch)[j], "exits." + std::to_string(e) + "." + std::to_string(j));
            if (!l) return makeError(origin + ": " + l.error());
            ex.branch.push_back(*l);
        }
        branchModules.push_back(std::move(branch).value());
        spec.exits.push_back(std::move(ex));
    }
    // Optional AppealNet heads: `appeal`, one numbered child per exit (empty for none).
    std::vector<std::vector<Module>> appealModules(spec.exits.size());
    if (root.hasattr("appeal")) {
        auto heads = orderedChildren(root.attr("appeal").toModule(), origin + ": appeal");
        if (!heads) return makeError(heads.error());
        if (heads->size() != spec.exits.size())
            return makeError(origin + ": " + std::to_string(heads->size()) + " appeal entries for " +
                             std::to_string(spec.exits.size()) + " exits");
        for (size_t e = 0; e < heads->size(); ++e) {
            auto layers = orderedChildren((*heads)[e], origin + ": appeal." + std::to_string(e));
            if (!layers) return makeError(layers.error());
            for (size_t j = 0; j < layers->size(); ++j) {
                auto l = layerFromModule((*layers)[j], "appeal." + std::to_string(e) + "." + std::to_string(j));
                if (!l) return makeError(origin + ": " + l.error());
                spec.exits[e].appeal.push_back(*l);
            }
            appealModules[e] = std::move(layers).value();
        }
        if (root.hasattr("edgent_appeal_on_logits")) {
            const auto onLogits = root.attr("edgent_appeal_on_logits");
            if (!onLogits.isIntList() || onLogits.toIntVector().size() != spec.exits.size())
                return makeError(origin + ": edgent_appeal_on_logits must list 0 or 1 for every exit");
            for (size_t e = 0; e < spec.exits.size(); ++e) spec.exits[e].appealOnLogits = onLogits.toIntVector()[e] != 0;
        }
    }
    // The class count is what the exits produce.
    if (!spec.exits.empty() && !spec.exits.front().branch.empty() && spec.exits.front().branch.back().kind == LayerKind::Linear)
        spec.numClasses = spec.exits.front().branch.back().outFeatures;
    auto net = MultiExitNet::create(spec);
    if (!net) return makeError(origin + ": " + net.error());
    torch::nn::Module& target = (*net)->module();
    for (size_t i = 0; i < trunkModules->size(); ++i) {
        const std::string prefix = "trunk." + std::to_string(i) + ".";
        if (auto s = copyLayerWeights(target, prefix, (*trunkModules)[i], origin + ": trunk." + std::to_string(i)); !s)
            return makeError(s.error());
    }
    for (size_t e = 0; e < branchModules.size(); ++e)
        for (size_t j = 0; j < branchModules[e].size(); ++j) {
            const std::string prefix = "exits." + std::to_string(e) + "." + std::to_string(j) + ".";
            if (auto s = copyLayerWeights(target, prefix, branchModules[e][j], origin + ": " + prefix); !s)
                return makeError(s.error());
        }
    for (size_t e = 0; e < appealModules.size(); ++e)
        for (size_t j = 0; j < appealModules[e].size(); ++j) {
            const std::string prefix = "appeal." + std::to_string(e) + "." + std::to_string(j) + ".";
            if (auto s = copyLayerWeights(target, prefix, appealModules[e][j], origin + ": " + prefix); !s)
                return makeError(s.error());
        }
    (*net)->eval();
    return net;
}

Status exportTorchScript(const MultiExitNet& net, const std::string& path) {
    const ModelSpec& spec = net.spec();
    auto cu = std::make_shared<torch::jit::CompilationUnit>();
    try {
        Module root(c10::QualifiedName("__torch__.edgent.MultiExitNet"), cu);
        Module trunk(c10::QualifiedName("__torch__.edgent.Trunk"), cu);
        int trunkUsed = 0;
        for (const auto& ex : spec.exits) trunkUsed = std::max(trunkUsed, ex.attach);
        for (int i = 0; i < trunkUsed; ++i) {
            const LayerSpec& l = spec.trunk[static_cast<size_t>(i)];
            trunk.register_module(std::to_string(i), layerModule(l, "__torch__.edgent.trunk" + std::to_string(i), net.module(),
                                                                 "trunk." + std::to_string(i) + ".", cu));
        }
        Module exits(c10::QualifiedName("__torch__.edgent.Exits"), cu);
        for (int e = 0; e < spec.numExits(); ++e) {
            const ExitSpec& ex = spec.exits[static_cast<size_t>(e)];
            Module branch(c10::QualifiedName("__torch__.edgent.Exit" + std::to_string(e)), cu);
            for (size_t j = 0; j < ex.branch.size(); ++j)
                branch.register_module(
                    std::to_string(j),
                    layerModule(ex.branch[j], "__torch__.edgent.exit" + std::to_string(e) + "_" + std::to_string(j), net.module(),
                                "exits." + std::to_string(e) + "." + std::to_string(j) + ".", cu));
            exits.register_module(std::to_string(e), branch);
        }
        root.register_module("trunk", trunk);
        root.register_module("exits", exits);
        bool anyAppeal = false;
        for (const auto& ex : spec.exits) anyAppeal |= !ex.appeal.empty();
        if (anyAppeal) {
            Module heads(c10::QualifiedName("__torch__.edgent.AppealHeads"), cu);
            for (int e = 0; e < spec.numExits(); ++e) {
                const ExitSpec& ex = spec.exits[static_cast<size_t>(e)];
                Module head(c10::QualifiedName("__torch__.edgent.Appeal" + std::to_string(e)), cu);
                for (size_t j = 0; j < ex.appeal.size(); ++j)
                    head.register_module(
                        std::to_string(j),
                        layerModule(ex.appeal[j], "__torch__.edgent.appeal" + std::to_string(e) + "_" + std::to_string(j),
                                    net.module(), "appeal." + std::to_string(e) + "." + std::to_string(j) + ".", cu));
                heads.register_module(std::to_string(e), head);
            }
            root.register_module("appeal", heads);
            std::vector<int64_t> onLogits;
            for (const auto& ex : spec.exits) onLogits.push_back(ex.appealOnLogits ? 1 : 0);
            root.register_attribute("edgent_appeal_on_logits", c10::ListType::ofInts(), c10::IValue(onLogits));
        }
        std::vector<int64_t> points;
        for (const auto& ex : spec.exits) points.push_back(ex.attach);
        root.register_attribute("edgent_exit_points", c10::ListType::ofInts(), c10::IValue(points));
        root.register_attribute("edgent_input_shape", c10::ListType::ofInts(), c10::IValue(spec.input.dims));
        root.register_attribute("edgent_input_mean", c10::FloatType::get(), static_cast<double>(spec.inputMean));
        root.register_attribute("edgent_input_std", c10::FloatType::get(), static_cast<double>(spec.inputStd));

        // forward(x): walk the trunk once, branching off at each exit point.
        std::ostringstream code;
        code << "def forward(self, x):\n    h = x\n";
        for (int i = 0; i <= trunkUsed; ++i) {
            for (int e = 0; e < spec.numExits(); ++e) {
                const ExitSpec& ex = spec.exits[static_cast<size_t>(e)];
                if (ex.attach != i) continue;
                code << "    b = h\n";
                for (size_t j = 0; j < ex.branch.size(); ++j)
                    code << "    b = getattr(getattr(self.exits, \"" << e << "\"), \"" << j << "\").forward(b)\n";
                code << "    o" << e << " = b\n";
            }
            if (i < trunkUsed) code << "    h = getattr(self.trunk, \"" << i << "\").forward(h)\n";
        }
        code << "    return [";
        for (int e = 0; e < spec.numExits(); ++e) code << (e ? ", " : "") << "o" << e;
        code << "]\n";
        root.define(code.str());
        root.save(path);
    } catch (const c10::Error& e) {
        std::string what = e.what_without_backtrace();
        return makeError("cannot write TorchScript archive " + path + ": " + what.substr(0, what.find('\n')));
    }
    return Status::success();
}

Result<std::vector<torch::Tensor>> runTorchScriptForward(const std::string& path, const torch::Tensor& x) {
    try {
        Module m = torch::jit::load(path);
        const c10::IValue out = m.forward({x});
        std::vector<torch::Tensor> logits;
        for (const auto& v : out.toListRef()) logits.push_back(v.toTensor());
        return logits;
    } catch (const c10::Error& e) {
        std::string what = e.what_without_backtrace();
        return makeError("cannot run TorchScript archive " + path + ": " + what.substr(0, what.find('\n')));
    }
}

}  // namespace edgent::core

// ---------------------------------------------------------------------------- readAnyModel

namespace edgent::core {

bool isTorchScriptPath(const std::string& path) {
    const std::string ext = std::filesystem::path(path).extension().string();
    return ext == ".pt" || ext == ".ptl" || ext == ".torchscript";
}

Result<ModelBytes> readAnyModel(const std::string& path) {
    if (!isTorchScriptPath(path)) return readModelBytes(path);
    auto net = importTorchScript(path);
    if (!net) return makeError(net.error());
    ModelBytes out;
    out.weights = encodeWeights(**net);
    const std::string stem = std::filesystem::path(path).stem().string();
    out.specText = modelFileJson((*net)->spec(), stem + ".weights", static_cast<int64_t>(out.weights.size()),
                                 crc32Of(out.weights), "{\"imported_from\":\"torchscript\"}");
    auto file = parseModelFile(out.specText, path, std::filesystem::path(path).parent_path().string());
    if (!file) return makeError(file.error());
    out.file = std::move(*file);
    return out;
}

}  // namespace edgent::core
