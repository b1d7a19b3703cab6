#pragma once
// Calibration of the cut tensor's codecs (core/net/Codec.h): for every exit, every partition
// that sends a cut tensor and every codec, the accuracy on a split with the tensor encoded
// and decoded on its way, and the bytes its frames take on the wire (mean and 95th
// percentile: with zstd the size depends on the content).
//
// Plans use a validation calibration (held-out training images) only; a test calibration
// reports the accuracy a codec costs, for papers. Torch-free interface.

#include "core/net/Codec.h"
#include "core/train/Calibration.h"
#include "core/util/Result.h"

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace edgent::core {

struct CodecCalibrationRow {
    int exit = 0;
    int partition = 0;  // 0: the raw input (the lossless stage only); 1 .. path length - 1: a cut tensor
    net::Codec codec;
    double accuracy = 0.0;  // with the tensor encoded and decoded
    double bytesMean = 0.0, bytesP95 = 0.0;  // the frame on the wire, header included
};

struct CodecCalibration {
    std::string dataset, split;
    int64_t first = 0, samples = 0;
    std::vector<CodecCalibrationRow> rows;
    // The row of (exit, partition, codec), or nullptr.
    const CodecCalibrationRow* find(int exit, int partition, net::Codec codec) const;
};

// Runs the model on the split once per exit and partition, and once more per lossy codec;
// the lossless stage changes bytes, not values. `progress(done, total)` after each exit and
// partition.
Result<CodecCalibration> calibrateCodecs(const std::string& modelPath, const CalibrateOptions& options,
                                         const std::function<void(int, int)>& progress = {},
                                         const std::atomic<bool>* cancel = nullptr);

}  // namespace edgent::core
