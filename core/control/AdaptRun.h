#pragma once
// An on-device adaptation driven from the controller: `edgent adapt` and the window's Adapt
// dialog both run this. It sends `adapt` to a device worker (the model already loaded on it),
// follows its progress, fetches its report (and the adapted weights, to save them in the
// native format), and stores the adaptation with every step (core/store/AdaptStore.cpp).
// The device keeps the adapted slice: a stream started on it afterwards runs it. Torch-free.

#include "core/control/Controller.h"
#include "core/control/WorkerLink.h"
#include "core/model/ModelFile.h"
#include "core/train/Adapt.h"

#include <atomic>
#include <functional>
#include <string>

namespace edgent::core::control {

// The stream from the model's held-out validation split (training images it was never
// trained on): its last evalCount images held out to measure, up to trainCount before them to
// train on. One line when the model records no validation split or it is too small.
Status useValidationRange(AdaptOptions& options, const ModelBytes& model);

struct AdaptRunOptions {
    AdaptOptions adapt;  // its stream is set by useValidationRange
    std::string dbPath, experiment = "default";
    int64_t modelId = 0;
    std::string savePath;  // the adapted model's JSON (weights beside it); empty: not saved
    int timeoutMs = 60 * 60 * 1000;
};

struct AdaptRunOutcome {
    int64_t adaptationId = 0;
    std::string status;  // finished or cancelled
    AdaptReport report;
    std::string savedPath;
};

struct AdaptRunProgress {
    int step = 0, steps = 0;
    double loss = 0.0;
};

// Every wait is bounded (the options' timeout for the whole adaptation). *cancel stops it
// after the current step; the device then keeps the model it had.
Result<AdaptRunOutcome> runAdaptation(Controller& controller, const ModelBytes& model, AdaptRunOptions options,
                                      const std::function<void(const AdaptRunProgress&)>& progress = {},
                                      const std::atomic<bool>* cancel = nullptr);

// Each mode in turn on a started link, every one from the model as given (loaded on the
// device again before each: the one before left it adapted), until one is cancelled. With
// several modes, options.savePath is ignored. What `edgent adapt --modes` and the window's
// Adapt dialog run.
Result<std::vector<AdaptRunOutcome>> runAdaptations(WorkerLink& link, const ModelBytes& model, const std::vector<std::string>& modes,
                                                    const AdaptRunOptions& options,
                                                    const std::function<void(const std::string& mode, const AdaptRunProgress&)>& progress = {},
                                                    const std::atomic<bool>* cancel = nullptr);

}  // namespace edgent::core::control
