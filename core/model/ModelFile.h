#pragma once
// The native model format: a JSON spec that a person can read (format "edgent-model",
// format_version 1) next to a binary weights file. See docs/model-format.md.
//
// Torch-free: reading a spec (for the model view, the planner) needs no LibTorch.

#include "core/model/ModelSpec.h"

#include <string>

namespace edgent::core {

struct ModelFile {
    std::string path;  // the JSON file
    ModelSpec spec;
    std::string weightsPath;  // absolute, resolved against the JSON file's folder
    int64_t weightsBytes = 0;
    uint32_t weightsCrc32 = 0;
    std::string trainingJson;  // free-form provenance object ("{}" when absent), compact JSON
};

// Parses and validates a model JSON file (without touching the weights).
Result<ModelFile> readModelFile(const std::string& jsonPath);

// Parses a model file's text; the weights path is resolved against baseDir.
Result<ModelFile> parseModelFile(const std::string& jsonText, const std::string& origin, const std::string& baseDir);

// Parses a spec from JSON text; `origin` names the source in error messages.
Result<ModelSpec> parseModelSpec(const std::string& jsonText, const std::string& origin);

// The JSON text of a model file; weightsFile is stored relative to the JSON file.
std::string modelFileJson(const ModelSpec& spec, const std::string& weightsFile, int64_t weightsBytes, uint32_t weightsCrc32,
                          const std::string& trainingJson);

// The spec alone as compact JSON (for hashing, the run store and TorchScript metadata).
std::string specJson(const ModelSpec& spec);

// A model file as it is on disk: parsed, plus the bytes of both files (what workers are sent
// and what the model hash covers).
struct ModelBytes {
    ModelFile file;
    std::string specText;
    std::string weights;
};
Result<ModelBytes> readModelBytes(const std::string& jsonPath);

// A whole file's bytes, or one line saying why not.
Result<std::string> readFileBytes(const std::string& path);

// Writes a file atomically (QSaveFile): afterwards it is either the old file or the new one.
Status writeFileAtomically(const std::string& path, const std::string& bytes);

// The shipped default model, found next to the executable's install or source tree.
std::string defaultModelPath();

}  // namespace edgent::core
