#pragma once
// Calibration of per-input early exits: every exit's confidence scores (entropy, top softmax
// probability, appeal probability) and prediction for every image of a split, from which
// the fraction of inputs leaving at each exit and the accuracy follow for any rule and
// threshold (core/plan/Adaptive.h).
//
// Thresholds are chosen on the validation split: training images the model was never
// trained on (`edgent train` holds the last 5,000 out and records them in the model). The
// test split may be calibrated too, but only to report results, never to plan.
// Torch-free interface.

#include "core/data/Dataset.h"
#include "core/model/Confidence.h"
#include "core/util/Result.h"

#include <atomic>
#include <string>
#include <vector>

namespace edgent::core {

struct CalibrateOptions {
    std::string dataset = "fashion-mnist";
    std::string dataDir;
    std::string split = "validation";  // validation (held-out training images) or test
    int64_t limit = 0;                 // > 0: only the first `limit` images of the split
    int threads = 0;
};

// The smallest split worth calibrating on: with fewer images an exit fraction's standard
// error exceeds about 2 points.
inline constexpr int64_t kMinCalibrationImages = 500;

// The images of the split a calibration runs on.
struct CalibrationSplit {
    std::string dataset;
    int64_t first = 0;  // validation: the first held-out training image
    ImageSet images;
};
// Loads the split: the held-out validation images the model records, or the test split.
// Fails with one line as calibrateModel does.
Result<CalibrationSplit> loadCalibrationSplit(const std::string& modelPath, const CalibrateOptions& options);

// Runs every exit of the model on the split. Fails with one line when the model records no
// held-out validation split, or when the split is smaller than kMinCalibrationImages.
Result<CalibrationSet> calibrateModel(const std::string& modelPath, const CalibrateOptions& options,
                                      const std::atomic<bool>* cancel = nullptr);

}  // namespace edgent::core
