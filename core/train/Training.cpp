#include "core/train/Training.h"

#include "core/model/ModelIO.h"
#include "core/model/ModelFile.h"
#include "core/model/ModelSpec.h"

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

std::string provenanceJson(const TrainOptions& o, const Dataset& ds, const TrainReport& r, const std::vector<double>& weights,
                           int threads, const std::string& initTraining) {
    QJsonObject t;
    t["command"] = QString::fromStdString(o.commandLine);
    t["dataset"] = QString::fromStdString(ds.name());
    t["train_images"] = static_cast<qint64>(r.trainImages);
    // The held-out images calibration uses; never trained on.
    t["validation"] = QJsonObject{{"split", "train"},
                                  {"first", static_cast<qint64>(r.validationFirst)},
                                  {"count", static_cast<qint64>(r.validationCount)}};
    t["epochs"] = o.epochs;
    t["epochs_completed"] = r.epochsCompleted;
    t["batch_size"] = o.batchSize;
    t["learning_rate"] = o.learningRate;
    t["lr_steps"] = o.lrSteps;
    t["augment"] = o.augment;
    t["optimizer"] = "adam";
    t["seed"] = static_cast<qint64>(o.seed);
    t["threads"] = threads;
    QJsonArray w;
    for (double x : weights) w.append(x);
    t["exit_weights"] = w;
    QJsonArray losses;
    for (double x : r.epochLoss) losses.append(x);
    t["epoch_loss"] = losses;
    if (o.appeal) {
        QJsonArray a;
        for (double x : r.appealLoss) a.append(x);
        t["appeal"] = QJsonObject{{"epochs", o.appealEpochs},
                                  {"beta", o.appealBeta},
                                  {"loss",
                                   "objective (1-q)*err(little) + q*err(big, frozen) + beta*q per input (0-1 errors): the "
                                   "appeal head learns its minimiser 1[err(little) - err(big) > beta] by logistic loss, "
                                   "the prediction head minimises (1-q)*CE(little)"},
                                  {"epoch_loss", a}};
    }
    if (!o.initPath.empty()) {
        t["init"] = QString::fromStdString(o.initPath);
        t["init_training"] = QJsonDocument::fromJson(QByteArray::fromStdString(initTraining)).object();
    }
    t["seconds"] = r.seconds;
    t["interrupted"] = r.interrupted;
    t["libtorch"] = TORCH_VERSION;
    return QJsonDocument(t).toJson(QJsonDocument::Compact).toStdString();
}

std::string checkpointPath(const std::string& outPath) {
    const QFileInfo info(QString::fromStdString(outPath));
    return (info.path() + "/" + info.completeBaseName() + ".checkpoint.json").toStdString();
}

// Random horizontal flips and shifts of up to 2 pixels (one shift per batch), on the
// normalised batch.
torch::Tensor augmentBatch(const torch::Tensor& x, std::mt19937_64& rng) {
    torch::Tensor out = x.clone();
    const int64_t n = x.size(0);
    std::bernoulli_distribution flip(0.5);
    std::vector<int64_t> flipped;
    for (int64_t i = 0; i < n; ++i)
        if (flip(rng)) flipped.push_back(i);
    if (!flipped.empty()) {
        const torch::Tensor idx = torch::tensor(flipped, torch::kInt64);
        out.index_copy_(0, idx, out.index_select(0, idx).flip({3}));
    }
    std::uniform_int_distribution<int> shift(-2, 2);
    const int dy = shift(rng), dx = shift(rng);
    if (dy != 0 || dx != 0) {
        const int64_t h = x.size(2), w = x.size(3);
        torch::Tensor padded = torch::constant_pad_nd(out, {2, 2, 2, 2}, 0.0);
        out = padded.slice(2, 2 + dy, 2 + dy + h).slice(3, 2 + dx, 2 + dx + w).contiguous();
    }
    return out;
}

// A model's spec with fresh AppealNet heads on exits 0-2. A head reads its
// exit's class scores (a 32-unit hidden layer, then one logit): our early branches are single
// linear layers, so the little network's last hidden features are the trunk's own, and a head
// on them appealed worse than the top softmax probability at every rate (docs/adaptive.md);
// on the scores it can learn which classes the little network confuses.
ModelSpec withAppealHeads(ModelSpec spec) {
    for (size_t e = 0; e < spec.exits.size() && e < 3; ++e) {
        ExitSpec& ex = spec.exits[e];
        ex.appeal.clear();
        auto layer = [](LayerKind kind, std::string name) {
            LayerSpec l;
            l.kind = kind;
            l.name = std::move(name);
            return l;
        };
        const std::string prefix = ex.name + "_appeal";
        ex.appealOnLogits = true;
        LayerSpec hidden = layer(LayerKind::Linear, prefix + "_fc1");
        hidden.outFeatures = 32;
        ex.appeal.push_back(hidden);
        ex.appeal.push_back(layer(LayerKind::Relu, prefix + "_relu"));
        LayerSpec out = layer(LayerKind::Linear, prefix + "_fc2");
        out.outFeatures = 1;
        ex.appeal.push_back(out);
    }
    return spec;
}

// Copies every parameter and buffer of `from` into the same-named one of `to` (a model
// whose spec only adds heads); with freshHeads, appeal heads keep their new initialisation.
void copyWeights(const MultiExitNet& from, MultiExitNet& to, bool freshHeads) {
    torch::NoGradGuard noGrad;
    auto params = to.module().named_parameters(true);
    auto buffers = to.module().named_buffers(true);
    for (const auto& p : from.module().named_parameters(true))
        if (auto* t = params.find(p.key()); t && !(freshHeads && p.key().rfind("appeal.", 0) == 0)) t->copy_(p.value());
    for (const auto& b : from.module().named_buffers(true))
        if (auto* t = buffers.find(b.key())) t->copy_(b.value());
}

// One training loop for both stages: `loop.epochs` epochs of shuffled mini-batches over the
// images, `beforeEpoch` (may be empty) at the start of each, `lossOf` for each batch's loss,
// progress after every batch, and a cancel checked between batches (report.interrupted).
// Returns the mean loss of every completed epoch.
struct EpochLoop {
    const char* stage;
    int epochs;
    int batchSize;
    bool augment;
};

std::vector<double> runEpochs(MultiExitNet& net, const torch::Tensor& images, const torch::Tensor& labels, const EpochLoop& loop,
                              torch::optim::Optimizer& optimizer, std::mt19937_64& rng, TrainReport& report,
                              const TrainProgressFn& progress, const std::atomic<bool>* cancel,
                              const std::function<void(int)>& beforeEpoch,
                              const std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>& lossOf) {
    std::vector<double> epochLoss;
    const int64_t count = images.size(0);
    std::vector<int64_t> order(static_cast<size_t>(count));
    const int64_t batches = (count + loop.batchSize - 1) / loop.batchSize;
    const auto start = Clock::now();
    int64_t imagesSeen = 0;
    const int64_t imagesTotal = count * loop.epochs;
    for (int epoch = 1; epoch <= loop.epochs && !report.interrupted; ++epoch) {
        if (beforeEpoch) beforeEpoch(epoch);
        net.train();
        std::iota(order.begin(), order.end(), 0);
        std::shuffle(order.begin(), order.end(), rng);
        const torch::Tensor perm = torch::from_blob(order.data(), {count}, torch::kInt64);
        double lossSum = 0.0;
        for (int64_t b = 0; b < batches; ++b) {
            if (cancel && cancel->load()) {
                report.interrupted = true;
                break;
            }
            const int64_t begin = b * loop.batchSize;
            const int64_t n = std::min<int64_t>(loop.batchSize, count - begin);
            const torch::Tensor idx = perm.slice(0, begin, begin + n);
            torch::Tensor x = net.preprocess(images.index_select(0, idx));
            if (loop.augment) x = augmentBatch(x, rng);
            const torch::Tensor y = labels.index_select(0, idx);
            optimizer.zero_grad();
            torch::Tensor loss = lossOf(x, y);
            loss.backward();
            optimizer.step();
            lossSum += loss.item<double>();
            imagesSeen += n;
            if (progress) {
                TrainProgress p;
                p.stage = loop.stage;
                p.epoch = epoch;
                p.epochs = loop.epochs;
                p.batch = b + 1;
                p.batches = batches;
                p.loss = lossSum / static_cast<double>(b + 1);
                const double elapsed = secondsSince(start);
                p.imagesPerSecond = elapsed > 0 ? static_cast<double>(imagesSeen) / elapsed : 0.0;
                p.etaSeconds = p.imagesPerSecond > 0 ? static_cast<double>(imagesTotal - imagesSeen) / p.imagesPerSecond : 0.0;
                progress(p);
            }
        }
        if (!report.interrupted) epochLoss.push_back(lossSum / static_cast<double>(std::max<int64_t>(batches, 1)));
    }
    return epochLoss;
}

// AppealNet's stage: with the trunk and the final (big) exit frozen, each exit with an appeal
// head trains its prediction head and its appeal head jointly. The objective per input is
//   L = (1 - q) * err(little) + q * err(big) + beta * q,   q = sigmoid(appeal logit),
// with err the 0-1 error of each network; its minimiser over q is the decision "appeal
// exactly when err(little) - err(big) > beta", which for beta in (0, 1) means "the little
// network is wrong and the big one right". Minimising L (or its cross-entropy form) directly
// is linear in q: the gradient vanishes wherever the sigmoid saturates, and the heads learned
// to appeal everything or nothing. So the appeal head learns that decision as the target of a
// logistic loss, and the prediction head minimises (1 - q) * CE(little), learning most from
// the inputs it keeps (docs/adaptive.md; the paper's own form could not be read here).
void trainAppeal(MultiExitNet& net, const torch::Tensor& images, const torch::Tensor& labels, const TrainOptions& o,
                 std::mt19937_64& rng, TrainReport& report, const TrainProgressFn& progress, const std::atomic<bool>* cancel) {
    const int finalExit = net.numExits() - 1;
    std::vector<torch::Tensor> params;
    std::vector<int> heads;
    for (int e = 0; e < finalExit; ++e)
        if (net.hasAppeal(e)) {
            heads.push_back(e);
            for (auto& t : net.branchParameters(e)) params.push_back(t);
            for (auto& t : net.appealParameters(e)) params.push_back(t);
        }
    if (heads.empty()) return;
    for (auto& p : net.module().parameters()) p.set_requires_grad(false);
    for (auto& p : params) p.set_requires_grad(true);
    torch::optim::Adam optimizer(params, torch::optim::AdamOptions(o.learningRate));
    const EpochLoop loop{"appeal", o.appealEpochs, o.batchSize, o.augment};
    report.appealLoss = runEpochs(net, images, labels, loop, optimizer, rng, report, progress, cancel, {},
                                  [&](const torch::Tensor& x, const torch::Tensor& y) {
                                      const auto out = net.forwardHeads(x);
                                      const torch::Tensor bigErr =
                                          out.logits[static_cast<size_t>(finalExit)].argmax(1).ne(y).to(torch::kFloat32);
                                      torch::Tensor loss = torch::zeros({}, torch::kFloat32);
                                      for (int e : heads) {
                                          const torch::Tensor& logits = out.logits[static_cast<size_t>(e)];
                                          const torch::Tensor little = torch::nn::functional::cross_entropy(
                                              logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
                                          const torch::Tensor z = out.appealLogits[static_cast<size_t>(e)];
                                          const torch::Tensor littleErr = logits.argmax(1).ne(y).to(torch::kFloat32);
                                          const torch::Tensor appealPays = (littleErr - bigErr > o.appealBeta).to(torch::kFloat32);
                                          loss = loss + torch::binary_cross_entropy_with_logits(z, appealPays) +
                                                 ((1.0 - torch::sigmoid(z).detach()) * little).mean();
                                      }
                                      return loss;
                                  });
    for (auto& p : net.module().parameters()) p.set_requires_grad(true);
}

}  // namespace

void setComputeThreads(int n) {
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    torch::set_num_threads(n > 0 ? n : cores);
}

Result<TrainReport> trainModel(const TrainOptions& o, const TrainProgressFn& progress, const std::atomic<bool>* cancel) {
    if (o.outPath.empty()) return makeError("training needs an output path (--out)");
    if (o.epochs < 0 || (o.epochs == 0 && !(o.appeal && !o.initPath.empty())))
        return makeError("epochs must be positive (0 only to train appeal heads on a model given with --init)");
    if (o.batchSize <= 0) return makeError("batch size must be positive");
    if (!(o.learningRate > 0.0)) return makeError("learning rate must be positive");
    if (o.appeal && o.appealEpochs <= 0) return makeError("appeal epochs must be positive");
    if (o.appeal && !(o.appealBeta >= 0.0)) return makeError("the appeal cost beta must not be negative");
    if (o.validationCount < 0) return makeError("the validation count must not be negative");
    auto ds = openDataset(o.dataset, o.dataDir);
    if (!ds) return makeError(ds.error());
    auto train = (*ds)->load(Split::Train);
    if (!train) return makeError(train.error());
    auto test = (*ds)->load(Split::Test, o.evalLimit);
    if (!test) return makeError(test.error());
    // The last validationCount images are held out; training takes from the front.
    if (o.validationCount >= train->count)
        return makeError("the validation split (" + std::to_string(o.validationCount) + " images) leaves nothing to train on");
    TrainReport report;
    report.validationCount = o.validationCount;
    report.validationFirst = train->count - o.validationCount;
    report.trainImages = o.trainLimit > 0 ? std::min(o.trainLimit, report.validationFirst) : report.validationFirst;

    std::string initTraining = "{}";
    std::shared_ptr<MultiExitNet> init;
    ModelSpec spec;
    if (!o.initPath.empty()) {
        auto loaded = loadModel(o.initPath);
        if (!loaded) return makeError(loaded.error());
        init = *loaded;
        spec = init->spec();
        if (auto file = readModelFile(o.initPath)) initTraining = file->trainingJson;
    } else {
        auto built = builtinSpec(o.arch, train->channels, train->height, train->width, 10);
        if (!built) return makeError(built.error());
        spec = std::move(built).value();
        spec.name = (*ds)->name() + "-" + o.arch;
        spec.inputMean = (*ds)->mean();
        spec.inputStd = (*ds)->stddev();
        spec.classNames = (*ds)->classNames();
    }
    if (!(Shape{{train->channels, train->height, train->width}} == spec.input))
        return makeError("the model takes " + spec.input.toString() + " input, the dataset has other images");
    if (o.appeal) spec = withAppealHeads(spec);
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
    if (init) copyWeights(*init, net, o.appeal);  // the appeal stage trains its heads from scratch

    const torch::Tensor allImages = imageView(*train, 0, report.trainImages);
    const torch::Tensor allLabels = labelView(*train, 0, report.trainImages);
    report.probeLossBefore = probeLoss(net, *train, weights);
    torch::optim::Adam optimizer(net.module().parameters(), torch::optim::AdamOptions(o.learningRate));
    std::mt19937_64 rng(o.seed);
    const auto start = Clock::now();
    const EpochLoop loop{"joint", o.epochs, o.batchSize, o.augment};
    report.epochLoss = runEpochs(
        net, allImages, allLabels, loop, optimizer, rng, report, progress, cancel,
        [&](int epoch) {
            if (!o.lrSteps) return;
            const double progressAt = static_cast<double>(epoch - 1) / o.epochs;
            const double lr = o.learningRate * (progressAt >= 0.85 ? 0.09 : progressAt >= 0.6 ? 0.3 : 1.0);
            for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
        },
        [&](const torch::Tensor& x, const torch::Tensor& y) { return jointLoss(net.forwardAll(x), y, weights); });
    report.epochsCompleted = static_cast<int>(report.epochLoss.size());
    if (o.appeal && !report.interrupted) trainAppeal(net, allImages, allLabels, o, rng, report, progress, cancel);
    net.eval();
    report.probeLossAfter = probeLoss(net, *train, weights);
    const auto correct = countCorrect(net, *test);
    for (int64_t c : correct) report.exitAccuracy.push_back(static_cast<double>(c) / static_cast<double>(test->count));
    net.setExitAccuracy(report.exitAccuracy, (*ds)->name() + " test (" + std::to_string(test->count) + " images)");
    report.seconds = secondsSince(start);
    report.savedPath = report.interrupted ? checkpointPath(o.outPath) : o.outPath;
    if (auto s = saveModel(net, report.savedPath, provenanceJson(o, **ds, report, weights, threads, initTraining)); !s)
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
