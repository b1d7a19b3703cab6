#include "core/train/Training.h"

#include "core/model/ModelIO.h"
#include "core/model/ModelFile.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <chrono>
#include <numeric>
#include <random>
#include <thread>

namespace edgent::core {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A view of images [begin, begin+n) as a uint8 NCHW tensor (no copy).
torch::Tensor imageView(const ImageSet& set, int64_t begin, int64_t n) {
    return torch::from_blob(const_cast<uint8_t*>(set.image(begin)), {n, set.channels, set.height, set.width}, torch::kUInt8);
}

torch::Tensor labelView(const ImageSet& set, int64_t begin, int64_t n) {
    return torch::from_blob(const_cast<uint8_t*>(set.labels.data() + begin), {n}, torch::kUInt8).to(torch::kInt64);
}

torch::Tensor jointLoss(const std::vector<torch::Tensor>& logits, const torch::Tensor& labels,
                        const std::vector<double>& weights) {
    torch::Tensor loss = torch::zeros({}, torch::kFloat32);
    for (size_t e = 0; e < logits.size(); ++e) loss = loss + weights[e] * torch::nn::functional::cross_entropy(logits[e], labels);
    return loss;
}

double probeLoss(MultiExitNet& net, const ImageSet& set, const std::vector<double>& weights) {
    torch::NoGradGuard noGrad;
    net.eval();
    const int64_t n = std::min<int64_t>(set.count, 1000);
    const auto logits = net.forwardAll(net.preprocess(imageView(set, 0, n)));
    return jointLoss(logits, labelView(set, 0, n), weights).item<double>();
}

std::vector<int64_t> countCorrect(const MultiExitNet& net, const ImageSet& set) {
    torch::InferenceMode guard;
    std::vector<int64_t> correct(static_cast<size_t>(net.numExits()), 0);
    constexpr int64_t kBatch = 500;
    for (int64_t begin = 0; begin < set.count; begin += kBatch) {
        const int64_t n = std::min(kBatch, set.count - begin);
        const auto logits = net.forwardAll(net.preprocess(imageView(set, begin, n)));
        const torch::Tensor labels = labelView(set, begin, n);
        for (size_t e = 0; e < logits.size(); ++e) correct[e] += logits[e].argmax(1).eq(labels).sum().item<int64_t>();
    }
    return correct;
}

std::string provenanceJson(const TrainOptions& o, const Dataset& ds, const ImageSet& train, const TrainReport& r,
                           const std::vector<double>& weights, int threads) {
    QJsonObject t;
    t["command"] = QString::fromStdString(o.commandLine);
    t["dataset"] = QString::fromStdString(ds.name());
    t["train_images"] = static_cast<qint64>(train.count);
    t["epochs"] = o.epochs;
    t["epochs_completed"] = r.epochsCompleted;
    t["batch_size"] = o.batchSize;
    t["learning_rate"] = o.learningRate;
    t["optimizer"] = "adam";
    t["seed"] = static_cast<qint64>(o.seed);
    t["threads"] = threads;
    QJsonArray w;
    for (double x : weights) w.append(x);
    t["exit_weights"] = w;
    QJsonArray losses;
    for (double x : r.epochLoss) losses.append(x);
    t["epoch_loss"] = losses;
    t["seconds"] = r.seconds;
    t["interrupted"] = r.interrupted;
    t["libtorch"] = TORCH_VERSION;
    return QJsonDocument(t).toJson(QJsonDocument::Compact).toStdString();
}

std::string checkpointPath(const std::string& outPath) {
    const QFileInfo info(QString::fromStdString(outPath));
    return (info.path() + "/" + info.completeBaseName() + ".checkpoint.json").toStdString();
}

}  // namespace

void setComputeThreads(int n) {
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    torch::set_num_threads(n > 0 ? n : cores);
}

Result<TrainReport> trainModel(const TrainOptions& o, const TrainProgressFn& progress, const std::atomic<bool>* cancel) {
    if (o.outPath.empty()) return makeError("training needs an output path (--out)");
    if (o.epochs <= 0) return makeError("epochs must be positive");
    if (o.batchSize <= 0) return makeError("batch size must be positive");
    if (!(o.learningRate > 0.0)) return makeError("learning rate must be positive");
    auto ds = openDataset(o.dataset, o.dataDir);
    if (!ds) return makeError(ds.error());
    auto train = (*ds)->load(Split::Train, o.trainLimit);
    if (!train) return makeError(train.error());
    auto test = (*ds)->load(Split::Test, o.evalLimit);
    if (!test) return makeError(test.error());

    ModelSpec spec = alexNet5Spec(train->channels, train->height, train->width, 10);
    spec.name = (*ds)->name() + "-alexnet5";
    spec.inputMean = (*ds)->mean();
    spec.inputStd = (*ds)->stddev();
    spec.classNames = (*ds)->classNames();
    std::vector<double> weights = o.exitWeights;
    if (weights.empty()) weights.assign(spec.exits.size(), 1.0);
    if (weights.size() != spec.exits.size())
        return makeError("exit weights: got " + std::to_string(weights.size()) + " values for " +
                         std::to_string(spec.exits.size()) + " exits");
    for (double w : weights)
        if (!(w >= 0.0)) return makeError("exit weights must be non-negative");

    setComputeThreads(o.threads);
    const int threads = torch::get_num_threads();
    auto netResult = MultiExitNet::create(spec, o.seed);
    if (!netResult) return makeError(netResult.error());
    MultiExitNet& net = **netResult;

    TrainReport report;
    report.probeLossBefore = probeLoss(net, *train, weights);
    torch::optim::Adam optimizer(net.module().parameters(), torch::optim::AdamOptions(o.learningRate));
    std::mt19937_64 rng(o.seed);
    std::vector<int64_t> order(static_cast<size_t>(train->count));
    const torch::Tensor allImages = imageView(*train, 0, train->count);
    const torch::Tensor allLabels = labelView(*train, 0, train->count);
    const int64_t batches = (train->count + o.batchSize - 1) / o.batchSize;
    const auto start = Clock::now();
    int64_t imagesSeen = 0;
    const int64_t imagesTotal = train->count * o.epochs;

    for (int epoch = 1; epoch <= o.epochs && !report.interrupted; ++epoch) {
        net.train();
        std::iota(order.begin(), order.end(), 0);
        std::shuffle(order.begin(), order.end(), rng);
        const torch::Tensor perm = torch::from_blob(order.data(), {train->count}, torch::kInt64);
        double lossSum = 0.0;
        for (int64_t b = 0; b < batches; ++b) {
            if (cancel && cancel->load()) {
                report.interrupted = true;
                break;
            }
            const int64_t begin = b * o.batchSize;
            const int64_t n = std::min<int64_t>(o.batchSize, train->count - begin);
            const torch::Tensor idx = perm.slice(0, begin, begin + n);
            const torch::Tensor x = net.preprocess(allImages.index_select(0, idx));
            const torch::Tensor y = allLabels.index_select(0, idx);
            optimizer.zero_grad();
            torch::Tensor loss = jointLoss(net.forwardAll(x), y, weights);
            loss.backward();
            optimizer.step();
            lossSum += loss.item<double>();
            imagesSeen += n;
            if (progress) {
                TrainProgress p;
                p.epoch = epoch;
                p.epochs = o.epochs;
                p.batch = b + 1;
                p.batches = batches;
                p.loss = lossSum / static_cast<double>(b + 1);
                const double elapsed = secondsSince(start);
                p.imagesPerSecond = elapsed > 0 ? static_cast<double>(imagesSeen) / elapsed : 0.0;
                p.etaSeconds = p.imagesPerSecond > 0 ? static_cast<double>(imagesTotal - imagesSeen) / p.imagesPerSecond : 0.0;
                progress(p);
            }
        }
        if (!report.interrupted) {
            report.epochLoss.push_back(lossSum / static_cast<double>(std::max<int64_t>(batches, 1)));
            report.epochsCompleted = epoch;
        }
    }
    net.eval();
    report.probeLossAfter = probeLoss(net, *train, weights);
    const auto correct = countCorrect(net, *test);
    for (int64_t c : correct) report.exitAccuracy.push_back(static_cast<double>(c) / static_cast<double>(test->count));
    net.setExitAccuracy(report.exitAccuracy, (*ds)->name() + " test (" + std::to_string(test->count) + " images)");
    report.seconds = secondsSince(start);
    report.savedPath = report.interrupted ? checkpointPath(o.outPath) : o.outPath;
    if (auto s = saveModel(net, report.savedPath, provenanceJson(o, **ds, *train, report, weights, threads)); !s)
        return makeError(s.error());
    return report;
}

Result<EvalReport> evaluateModel(const std::string& modelPath, const std::string& dataset, const std::string& dataDir,
                                 int64_t limit, int threads) {
    setComputeThreads(threads);
    auto net = loadModel(modelPath);
    if (!net) return makeError(net.error());
    auto ds = openDataset(dataset, dataDir);
    if (!ds) return makeError(ds.error());
    auto test = (*ds)->load(Split::Test, limit);
    if (!test) return makeError(test.error());
    const ModelSpec& spec = (*net)->spec();
    const Shape imageShape{{test->channels, test->height, test->width}};
    if (!(imageShape == spec.input))
        return makeError("model " + modelPath + " takes " + spec.input.toString() + " input but " + dataset + " images are " +
                         imageShape.toString());
    const auto start = Clock::now();
    const auto correct = countCorrect(**net, *test);
    EvalReport report;
    report.modelPath = modelPath;
    report.dataset = (*ds)->name();
    report.images = test->count;
    report.seconds = secondsSince(start);
    for (int e = 0; e < spec.numExits(); ++e) {
        ExitEvaluation x;
        x.exit = e;
        x.name = spec.exits[static_cast<size_t>(e)].name;
        x.correct = correct[static_cast<size_t>(e)];
        x.count = test->count;
        x.accuracy = test->count ? static_cast<double>(x.correct) / static_cast<double>(test->count) : 0.0;
        x.pathLength = spec.pathLength(e);
        for (const auto& l : (*net)->pathInfo(e)) {
            x.flops += l.flops;
            x.paramBytes += l.paramBytes;
        }
        report.exits.push_back(x);
    }
    return report;
}

}  // namespace edgent::core
