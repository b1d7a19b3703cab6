#include "core/model/ModelIO.h"

#include "core/model/ModelImport.h"

#include "core/model/ModelFile.h"

#include <QFile>
#include <QFileInfo>

#include <zlib.h>

#include <cstring>
#include <map>

namespace edgent::core {

namespace {

constexpr char kMagic[4] = {'E', 'D', 'G', 'W'};
constexpr uint32_t kWeightsVersion = 1;
constexpr uint32_t kMaxTensors = 1u << 16;
constexpr uint32_t kMaxNameBytes = 1024;
constexpr uint32_t kMaxDims = 8;
enum DType : uint32_t { kFloat32 = 0, kInt64 = 1 };

void putU32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }
void putU64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }

// Bounds-checked little-endian reader: every read checks the remaining length first.
class Reader {
public:
    Reader(const std::string& bytes, size_t end) : data_(bytes.data()), end_(end) {}
    bool u32(uint32_t& v) { return raw(&v, 4); }
    bool u64(uint64_t& v) { return raw(&v, 8); }
    bool raw(void* dst, size_t n) {
        if (end_ - pos_ < n) return false;
        std::memcpy(dst, data_ + pos_, n);
        pos_ += n;
        return true;
    }
    bool skip(size_t n) {
        if (end_ - pos_ < n) return false;
        pos_ += n;
        return true;
    }

private:
    const char* data_;
    size_t end_;
    size_t pos_ = 0;
};

std::map<std::string, torch::Tensor> namedState(const torch::nn::Module& module) {
    std::map<std::string, torch::Tensor> state;
    for (const auto& p : module.named_parameters(true)) state[p.key()] = p.value();
    for (const auto& b : module.named_buffers(true)) state[b.key()] = b.value();
    return state;
}

std::string weightsPathFor(const std::string& jsonPath) {
    const QFileInfo info(QString::fromStdString(jsonPath));
    return (info.path() + "/" + info.completeBaseName() + ".weights").toStdString();
}

}  // namespace

uint32_t crc32Of(const std::string& bytes) {
    uLong crc = crc32(0L, Z_NULL, 0);
    size_t done = 0;
    while (done < bytes.size()) {
        const size_t chunk = std::min<size_t>(bytes.size() - done, 1u << 30);
        crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + done), static_cast<uInt>(chunk));
        done += chunk;
    }
    return static_cast<uint32_t>(crc);
}

std::string encodeWeights(const MultiExitNet& net) {
    const auto state = namedState(net.module());
    std::string body;
    for (const auto& [name, tensor] : state) {
        const torch::Tensor t = tensor.detach().contiguous().cpu();
        const bool isInt = t.scalar_type() == torch::kInt64;
        const torch::Tensor data = isInt ? t : t.to(torch::kFloat32);
        putU32(body, static_cast<uint32_t>(name.size()));
        body += name;
        putU32(body, isInt ? kInt64 : kFloat32);
        putU32(body, static_cast<uint32_t>(data.dim()));
        for (int64_t d : data.sizes()) putU64(body, static_cast<uint64_t>(d));
        const uint64_t nbytes = static_cast<uint64_t>(data.numel()) * data.element_size();
        putU64(body, nbytes);
        body.append(static_cast<const char*>(data.data_ptr()), nbytes);
    }
    std::string out(kMagic, 4);
    putU32(out, kWeightsVersion);
    const uint64_t total = 4 + 4 + 8 + 4 + body.size() + 4;
    putU64(out, total);
    putU32(out, static_cast<uint32_t>(state.size()));
    out += body;
    putU32(out, crc32Of(out));
    return out;
}

Status decodeWeightsInto(MultiExitNet& net, const std::string& bytes, const std::string& origin) {
    constexpr size_t kHeader = 4 + 4 + 8 + 4;
    if (bytes.size() < kHeader + 4) return makeError(origin + " is truncated (" + std::to_string(bytes.size()) + " bytes)");
    if (std::memcmp(bytes.data(), kMagic, 4) != 0) return makeError(origin + " is not an Edgent weights file (bad magic)");
    Reader header(bytes, kHeader);
    uint32_t magic = 0, version = 0, count = 0;
    uint64_t total = 0;
    (void)header.u32(magic);
    (void)header.u32(version);
    (void)header.u64(total);
    (void)header.u32(count);
    if (version != kWeightsVersion)
        return makeError(origin + " has weights version " + std::to_string(version) + "; this build reads " +
                         std::to_string(kWeightsVersion));
    if (bytes.size() < total)
        return makeError(origin + " is truncated: " + std::to_string(bytes.size()) + " of " + std::to_string(total) + " bytes");
    if (bytes.size() > total)
        return makeError(origin + " is corrupt: " + std::to_string(bytes.size() - total) + " unexpected trailing bytes");
    uint32_t storedCrc = 0;
    std::memcpy(&storedCrc, bytes.data() + total - 4, 4);
    if (crc32Of(bytes.substr(0, total - 4)) != storedCrc) return makeError(origin + " is corrupt: checksum mismatch");
    if (count > kMaxTensors) return makeError(origin + " is corrupt: " + std::to_string(count) + " tensors");

    auto state = namedState(net.module());
    Reader r(bytes, total - 4);
    (void)r.skip(kHeader);
    std::map<std::string, torch::Tensor> loaded;
    const std::string truncated = origin + " is corrupt: a tensor record runs past the end";
    for (uint32_t i = 0; i < count; ++i) {
        uint32_t nameLen = 0, dtype = 0, ndim = 0;
        if (!r.u32(nameLen) || nameLen > kMaxNameBytes) return makeError(truncated);
        std::string name(nameLen, '\0');
        if (!r.raw(name.data(), nameLen) || !r.u32(dtype) || !r.u32(ndim) || ndim > kMaxDims) return makeError(truncated);
        std::vector<int64_t> dims(ndim);
        uint64_t elements = 1;
        for (auto& d : dims) {
            uint64_t v = 0;
            if (!r.u64(v) || v > (1ull << 32)) return makeError(truncated);
            d = static_cast<int64_t>(v);
            elements *= v;
        }
        uint64_t nbytes = 0;
        if (!r.u64(nbytes)) return makeError(truncated);
        const uint64_t elemBytes = dtype == kInt64 ? 8 : 4;
        if (dtype != kFloat32 && dtype != kInt64) return makeError(origin + ": tensor '" + name + "' has an unknown dtype");
        if (nbytes != elements * elemBytes) return makeError(origin + ": tensor '" + name + "' has inconsistent size");
        auto it = state.find(name);
        if (it == state.end()) return makeError(origin + " holds tensor '" + name + "', which the model spec does not have");
        if (it->second.sizes().vec() != dims)
            return makeError(origin + ": tensor '" + name + "' has the wrong shape for the model spec");
        torch::Tensor t = torch::empty(dims, dtype == kInt64 ? torch::kInt64 : torch::kFloat32);
        if (!r.raw(t.data_ptr(), nbytes)) return makeError(truncated);
        loaded[name] = t;
    }
    for (const auto& [name, tensor] : state)
        if (!loaded.count(name)) return makeError(origin + " lacks tensor '" + name + "'");
    torch::NoGradGuard noGrad;
    for (auto& [name, tensor] : state) tensor.copy_(loaded[name]);
    return Status::success();
}

namespace {

Result<std::shared_ptr<MultiExitNet>> buildFrom(const ModelFile& file, const std::string& bytes,
                                                const std::string& weightsOrigin) {
    if (static_cast<int64_t>(bytes.size()) != file.weightsBytes)
        return makeError(weightsOrigin + " has " + std::to_string(bytes.size()) + " bytes, the model file says " +
                         std::to_string(file.weightsBytes) + " (truncated or replaced)");
    auto net = MultiExitNet::create(file.spec);
    if (!net) return makeError(net.error());
    if (auto status = decodeWeightsInto(**net, bytes, weightsOrigin); !status) return makeError(status.error());
    if (crc32Of(bytes) != file.weightsCrc32) return makeError(weightsOrigin + " does not match its model file (crc32 differs)");
    (*net)->eval();
    return net;
}

}  // namespace

Result<std::shared_ptr<MultiExitNet>> loadModel(const std::string& jsonPath) {
    if (isTorchScriptPath(jsonPath)) {
        auto bytes = readAnyModel(jsonPath);
        if (!bytes) return makeError(bytes.error());
        return loadModelFromBytes(bytes->specText, bytes->weights, jsonPath);
    }
    auto file = readModelFile(jsonPath);
    if (!file) return makeError(file.error());
    QFile weights(QString::fromStdString(file->weightsPath));
    if (!weights.open(QIODevice::ReadOnly))
        return makeError("cannot read weights file " + file->weightsPath + ": " + weights.errorString().toStdString());
    return buildFrom(*file, weights.readAll().toStdString(), "weights file " + file->weightsPath);
}

Result<std::shared_ptr<MultiExitNet>> loadModelFromBytes(const std::string& jsonText, const std::string& weights,
                                                         const std::string& origin) {
    auto file = parseModelFile(jsonText, origin, ".");
    if (!file) return makeError(file.error());
    return buildFrom(*file, weights, origin + " weights");
}

Status saveModel(const MultiExitNet& net, const std::string& jsonPath, const std::string& trainingJson) {
    const std::string weightsPath = weightsPathFor(jsonPath);
    const std::string blob = encodeWeights(net);
    if (auto status = writeFileAtomically(weightsPath, blob); !status) return status;
    const std::string weightsName = QFileInfo(QString::fromStdString(weightsPath)).fileName().toStdString();
    return writeFileAtomically(
        jsonPath, modelFileJson(net.spec(), weightsName, static_cast<int64_t>(blob.size()), crc32Of(blob), trainingJson));
}

}  // namespace edgent::core
