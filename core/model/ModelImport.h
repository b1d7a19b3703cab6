#pragma once
// One entry point for every model file the tools open: the native format (a JSON spec and
// its weights file) or a TorchScript module that follows docs/torchscript-convention.md,
// converted to the native form in memory. Torch-free header (the window includes it).

#include "core/model/ModelFile.h"

#include <string>

namespace edgent::core {

// By extension: .pt / .ptl / .torchscript are TorchScript, anything else the native JSON.
bool isTorchScriptPath(const std::string& path);
Result<ModelBytes> readAnyModel(const std::string& path);

}  // namespace edgent::core
