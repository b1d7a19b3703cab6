#pragma once
// Joint training of every exit, and per-exit evaluation. Torch-free interface: the CLI and
// the GUI call these without including LibTorch.

#include "core/data/Dataset.h"
#include "core/util/Result.h"

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace edgent::core {

struct TrainOptions {
    std::string dataset = "fashion-mnist";
    std::string dataDir;  // empty: the dataset's default
    std::string outPath;  // model JSON to write
    std::string arch = "alexnet5";  // a built-in architecture (builtinSpecNames()) for a fresh model
    int epochs = 5;
    int64_t trainLimit = 0;  // 0: the whole training split
    int64_t evalLimit = 0;   // test images for the accuracy stored in the model; 0: all
    int batchSize = 64;
    double learningRate = 1e-3;
    uint64_t seed = 1;
    std::vector<double> exitWeights;  // joint loss = sum_e w_e * CE_e; empty: all 1
    int threads = 0;                  // 0: one per core
    std::string commandLine;          // recorded in the model's provenance
    // The last validationCount training images are held out: never trained on, recorded in
    // the model's provenance, and what `edgent calibrate` calibrates on (never the test split).
    int64_t validationCount = 5000;
    bool augment = false;  // random horizontal flips and shifts of up to 2 pixels, per batch
    // Learning rate steps down to 0.3x after 60% of the epochs and to 0.09x after 85%.
    bool lrSteps = false;
    // AppealNet: give exits 0-2 an appeal head and train them after the joint training.
    bool appeal = false;
    int appealEpochs = 3;
    double appealBeta = 0.1;  // the cost of appealing one input, as a fraction of one error (0-1)
    // Start from this model instead of a fresh one. With appeal and epochs 0, only the
    // heads are trained (the trunk and the final exit stay as they are).
    std::string initPath;
};

struct TrainProgress {
    std::string stage = "joint";  // joint, then appeal
    int epoch = 0;  // 1-based
    int epochs = 0;
    int64_t batch = 0;  // 1-based within the epoch
    int64_t batches = 0;
    double loss = 0.0;  // running mean of the joint loss over this epoch
    double imagesPerSecond = 0.0;
    double etaSeconds = 0.0;
};

struct TrainReport {
    std::string savedPath;
    bool interrupted = false;  // cancelled: savedPath is a checkpoint
    int epochsCompleted = 0;
    double seconds = 0.0;
    // Joint loss over a fixed probe of training images (the first 1000), in eval mode,
    // before and after training: a direct check that training learned something.
    double probeLossBefore = 0.0;
    double probeLossAfter = 0.0;
    std::vector<double> epochLoss;
    std::vector<double> exitAccuracy;  // on the test split (evalLimit images)
    std::vector<double> appealLoss;    // per epoch of the appeal stage
    int64_t trainImages = 0, validationFirst = 0, validationCount = 0;
};

using TrainProgressFn = std::function<void(const TrainProgress&)>;

// Trains the built-in 5-exit AlexNet on the dataset and saves it to options.outPath.
// When *cancel becomes true, stops after the current batch and saves a checkpoint next to
// outPath ("<name>.checkpoint.json").
Result<TrainReport> trainModel(const TrainOptions& options, const TrainProgressFn& progress = {},
                               const std::atomic<bool>* cancel = nullptr);

struct ExitEvaluation {
    int exit = 0;
    std::string name;
    int64_t correct = 0;
    int64_t count = 0;
    double accuracy = 0.0;
    int pathLength = 0;
    int64_t flops = 0;       // per image, along the exit's whole path
    int64_t paramBytes = 0;  // of the layers on the path
};

struct EvalReport {
    std::string modelPath;
    std::string dataset;
    int64_t images = 0;
    double seconds = 0.0;
    std::vector<ExitEvaluation> exits;
};

// Per-exit accuracy of a saved model on a dataset's test split.
Result<EvalReport> evaluateModel(const std::string& modelPath, const std::string& dataset, const std::string& dataDir = {},
                                 int64_t limit = 0, int threads = 0);

// Sets LibTorch's intra-op threads: n > 0 as given, otherwise one per core.
void setComputeThreads(int n);

}  // namespace edgent::core
