#include "core/train/Calibration.h"

#include "core/data/Dataset.h"
#include "core/model/ModelFile.h"
#include "core/model/ModelIO.h"
#include "core/model/ModelImport.h"
#include "core/train/Training.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace edgent::core {

namespace {

// The held-out range a model's training recorded: {first, count} within the training split.
Result<std::pair<int64_t, int64_t>> validationRange(const std::string& modelPath) {
    auto bytes = readAnyModel(modelPath);
    if (!bytes) return makeError(bytes.error());
    const QJsonObject training = QJsonDocument::fromJson(QByteArray::fromStdString(bytes->file.trainingJson)).object();
    const QJsonObject v = training.value("validation").toObject();
    if (!v.value("first").isDouble() || !v.value("count").isDouble())
        return makeError("the model " + modelPath +
                         " records no held-out validation split (train it with edgent train --validation N); calibrating "
                         "on the test split would tune thresholds on the images that measure them");
    return std::pair<int64_t, int64_t>(v.value("first").toInteger(), v.value("count").toInteger());
}

}  // namespace

Result<CalibrationSplit> loadCalibrationSplit(const std::string& modelPath, const CalibrateOptions& o) {
    if (o.split != "validation" && o.split != "test")
        return makeError("unknown split '" + o.split + "' (validation or test)");
    auto ds = openDataset(o.dataset, o.dataDir);
    if (!ds) return makeError(ds.error());
    CalibrationSplit out;
    out.dataset = (*ds)->name();
    ImageSet& set = out.images;
    if (o.split == "validation") {
        auto range = validationRange(modelPath);
        if (!range) return makeError(range.error());
        auto train = (*ds)->load(Split::Train);
        if (!train) return makeError(train.error());
        const int64_t first = range->first;
        int64_t count = range->second;
        if (first < 0 || first + count > train->count)
            return makeError("the model's validation split [" + std::to_string(first) + ", " + std::to_string(first + count) +
                             ") lies outside the " + std::to_string(train->count) + " training images");
        if (o.limit > 0) count = std::min(count, o.limit);
        out.first = first;
        set.channels = train->channels;
        set.height = train->height;
        set.width = train->width;
        set.count = count;
        set.pixels.assign(train->image(first), train->image(first) + count * train->imageBytes());
        set.labels.assign(train->labels.begin() + first, train->labels.begin() + first + count);
    } else {
        auto test = (*ds)->load(Split::Test, o.limit);
        if (!test) return makeError(test.error());
        set = std::move(*test);
    }
    if (set.count < kMinCalibrationImages)
        return makeError("the " + o.split + " split has " + std::to_string(set.count) + " images; calibration needs at least " +
                         std::to_string(kMinCalibrationImages));
    return out;
}

Result<CalibrationSet> calibrateModel(const std::string& modelPath, const CalibrateOptions& o, const std::atomic<bool>* cancel) {
    auto split = loadCalibrationSplit(modelPath, o);
    if (!split) return makeError(split.error());
    const ImageSet& set = split->images;
    const int64_t first = split->first;

    setComputeThreads(o.threads);
    auto net = loadModel(modelPath);
    if (!net) return makeError(net.error());
    const ModelSpec& spec = (*net)->spec();
    if (!(Shape{{set.channels, set.height, set.width}} == spec.input))
        return makeError("the model takes " + spec.input.toString() + " input, the dataset has other images");

    CalibrationSet out;
    out.dataset = split->dataset;
    out.split = o.split;
    out.first = first;
    out.numExits = spec.numExits();
    out.samples = set.count;
    out.labels.assign(set.labels.begin(), set.labels.end());
    const size_t cells = static_cast<size_t>(set.count * out.numExits);
    out.predictions.resize(cells);
    out.entropy.resize(cells);
    out.maxSoftmax.resize(cells);
    out.appeal.assign(cells, NAN);

    torch::InferenceMode guard;
    constexpr int64_t kBatch = 500;
    for (int64_t begin = 0; begin < set.count; begin += kBatch) {
        if (cancel && cancel->load()) return makeError("calibration was cancelled");
        const int64_t n = std::min(kBatch, set.count - begin);
        const torch::Tensor images =
            torch::from_blob(const_cast<uint8_t*>(set.image(begin)), {n, set.channels, set.height, set.width}, torch::kUInt8);
        const auto heads = (*net)->forwardHeads((*net)->preprocess(images));
        for (int e = 0; e < out.numExits; ++e) {
            const torch::Tensor logp = torch::log_softmax(heads.logits[static_cast<size_t>(e)], 1);
            const torch::Tensor p = logp.exp();
            const torch::Tensor entropy = -(p * logp).sum(1);
            const auto [top, arg] = p.max(1);
            const torch::Tensor q = heads.appealLogits[static_cast<size_t>(e)].defined()
                                        ? torch::sigmoid(heads.appealLogits[static_cast<size_t>(e)])
                                        : torch::Tensor();
            const auto* ent = entropy.contiguous().data_ptr<float>();
            const auto* tp = top.contiguous().data_ptr<float>();
            const auto* am = arg.contiguous().data_ptr<int64_t>();
            for (int64_t i = 0; i < n; ++i) {
                const size_t c = out.at(begin + i, e);
                out.entropy[c] = std::max(0.0f, ent[i]);
                out.maxSoftmax[c] = tp[i];
                out.predictions[c] = static_cast<int>(am[i]);
                if (q.defined()) out.appeal[c] = q[i].item<float>();
            }
        }
    }
    return out;
}

}  // namespace edgent::core
