#pragma once
// Saving and loading a MultiExitNet in the native format (JSON spec + weights file).
// Includes torch through MultiExitNet.h: not for widgets.

#include "core/model/MultiExitNet.h"

#include <memory>
#include <string>

namespace edgent::core {

// Loads and checks a model: the spec, then the weights (size, checksum, every tensor's
// name and shape); a TorchScript module (.pt) is imported first (core/model/ModelImport.h).
// The network comes back in eval() mode.
Result<std::shared_ptr<MultiExitNet>> loadModel(const std::string& jsonPath);

// Loads a model from the two files' contents (as a worker receives them over the wire).
Result<std::shared_ptr<MultiExitNet>> loadModelFromBytes(const std::string& jsonText, const std::string& weights,
                                                         const std::string& origin);

// Saves the spec to jsonPath and the weights to the same path with ".weights" in place of
// ".json", both atomically. trainingJson is a JSON object of provenance ("{}" if none).
Status saveModel(const MultiExitNet& net, const std::string& jsonPath, const std::string& trainingJson = "{}");

// The weights file format (see docs/model-format.md), exposed for tests.
std::string encodeWeights(const MultiExitNet& net);
Status decodeWeightsInto(MultiExitNet& net, const std::string& bytes, const std::string& origin);

uint32_t crc32Of(const std::string& bytes);

}  // namespace edgent::core
