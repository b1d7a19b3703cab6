#pragma once
// On-device adaptation: fine-tuning the device's part of a multi-exit network (its slice of
// the trunk and the exits it answers at) on a labelled stream of shifted images
// (core/data/Shift.h), in one of three modes:
//
//   - fp32: float32 weights, plain SGD;
//   - qat:  quantisation-aware training: a float32 master copy, the forward pass on its
//           weights fake-quantised to `bits` (per layer, symmetric, scale = max|w| / (2^(b-1) − 1)),
//           the gradient applied to the master (straight-through);
//   - rct:  RCT (Huang et al., arXiv 2103.14493): only a quantised model is held, each
//           GEMM layer's weights as integers of its own bit width with one float scale. The
//           float gradient's SGD step is applied on the integer grid with stochastic rounding
//           (w ← clamp(floor(w + Δ/s + U[0,1)))), and every `checkEvery` steps each layer's
//           G_avg = mean|Δ| / s (its update against its quantisation step, over the window)
//           moves its width: one bit more when G_avg < gMin (updates underflow the step),
//           one bit fewer when G_avg > gMax (they are large), within [minBits, maxBits]. One
//           bit more halves the scale and doubles the integers; one fewer does the reverse,
//           rounding stochastically. Integers are held in int8 up to 8 bits, int16 above.
//
// Only Conv and Linear weights are quantised (the GEMMs); biases and batch-norm parameters
// stay float32 in every mode. Between steps the quantised modes hold no float copy of a
// quantised weight: the forward pass dequantises it layer by layer and frees it after the
// update, and what the trainer holds is measured (the bytes of every tensor it keeps).
//
// The GEMM energy is an estimate, not a measurement: each multiply-accumulate costs what
// Horowitz (ISSCC 2014, 45 nm) gives for its operand width, a float32 MAC 3.7 + 0.9 pJ and a
// b-bit integer MAC 0.2·(b/8)² + 0.03·(b/8) pJ (8-bit: 0.2 + 0.03 pJ, 32-bit: 3.2 + 0.12,
// close to his 3.1 + 0.1). A step's MACs are the forward pass of every device GEMM layer,
// and two more passes (input and weight gradients) for the trained ones (one for a frozen
// layer behind a trained one). fp32 counts float MACs throughout, qat an integer forward
// and a float backward, rct its layers' widths in both. LibTorch computes in float here in
// every mode: the estimate says what hardware running those widths would spend.
//
// Torch-free interface.

#include "core/data/Shift.h"
#include "core/model/ModelSpec.h"
#include "core/util/Result.h"

#include <QJsonObject>

#include <atomic>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace edgent::core {

class MultiExitNet;

struct AdaptOptions {
    std::string mode = "rct";  // fp32, qat or rct
    int exit = -1;             // the plan's exit (-1: the final one)
    int partition = -1;        // the device runs [0, partition) of its path (-1: defaultAdaptPartition)
    int firstLayer = 0, lastLayer = -1;  // trunk layers [first, last) to train (-1: the device's slice end)
    int steps = 300;
    int batch = 32;
    double learningRate = 0.05;
    int bits = 8;  // qat's width, rct's starting width
    int minBits = 2, maxBits = 16;
    int checkEvery = 10;
    double gMin = 0.02, gMax = 0.5;
    // The labelled stream and the held-out images, both from the training split (the model's
    // held-out validation range: never trained on) and both shifted by `shift`.
    std::string dataset = "fashion-mnist", dataDir;
    int64_t trainFirst = 0, trainCount = 4000;
    int64_t evalFirst = 4000, evalCount = 1000;
    ShiftSpec shift;
    int evalEvery = 50;  // steps between the accuracy curve's points (on the shifted held-out images)
    uint64_t seed = 1;
};

// The partition adapted when none is given: the deepest early exit's attach point in the
// first half of the final exit's trunk (a device that runs a few layers and answers at its
// own exits).
int defaultAdaptPartition(const ModelSpec& spec);

// Checks the options against the net as one line: an unknown mode, a width outside 2–16, a
// layer range outside the device's slice, a partition that leaves the device no exit.
Status checkAdaptOptions(const ModelSpec& spec, const AdaptOptions& options);

struct AdaptStep {
    int step = 0;  // 1-based
    double loss = 0.0;
    double batchAccuracy = 0.0;  // of the deepest device exit, on the step's batch
    double evalAccuracy = NAN;   // on the shifted held-out images, every evalEvery steps
    std::vector<int> bits;       // per quantised layer (AdaptReport::layers order)
};

struct AdaptLayer {
    std::string name;
    bool trained = false, quantised = false;
    int64_t params = 0;
    int64_t macsPerImage = 0;
    int bits = 32;  // at the end
};

struct AdaptReport {
    std::string mode;
    int exit = 0, partition = 0;
    std::vector<int> deviceExits;  // the exits the device answers at; the last is the reported one
    // The deepest device exit's accuracy on the held-out images, shifted and not.
    double shiftedBefore = 0.0, shiftedAfter = 0.0, cleanBefore = 0.0, cleanAfter = 0.0;
    // Measured: the bytes of every tensor the trainer holds for the trained layers between
    // steps (weights or integers and scales, masters, biases), and at the forward pass's
    // peak (with the dequantised weights).
    int64_t paramBytesHeld = 0, paramBytesPeak = 0;
    double gemmEnergyMj = 0.0;  // the estimate above, over every step
    int64_t gemmMacs = 0;
    std::vector<AdaptLayer> layers;  // the device's GEMM layers, trunk then exits
    std::vector<AdaptStep> steps;
    double seconds = 0.0;
    bool cancelled = false;
};

struct AdaptProgress {
    int step = 0, steps = 0;
    double loss = 0.0;
    double evalAccuracy = NAN;
};
using AdaptProgressFn = std::function<void(const AdaptProgress&)>;

// Trains `net` in place (its device layers end as the mode left them: on the quantised grid
// for qat and rct). When *cancel becomes true, stops after the current step and reports what
// it has (cancelled). Calls into torch: call from a thread with an exception boundary.
Result<AdaptReport> adaptNet(MultiExitNet& net, const AdaptOptions& options, const AdaptProgressFn& progress = {},
                             const std::atomic<bool>* cancel = nullptr);

// The energy of one multiply-accumulate at a width (32: float32), in pJ, as above.
double macEnergyPj(int bits);

// As the device worker's `adapt` request and `adapt-result` reply carry them (core/train/AdaptJson.cpp).
QJsonObject adaptOptionsToJson(const AdaptOptions& options);
Result<AdaptOptions> adaptOptionsFromJson(const QJsonObject& json);  // one line on a bad field
QJsonObject adaptReportToJson(const AdaptReport& report);
AdaptReport adaptReportFromJson(const QJsonObject& json);

}  // namespace edgent::core
