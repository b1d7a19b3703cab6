#pragma once
// Import (and export) of TorchScript modules that follow the multi-exit convention in
// docs/torchscript-convention.md: a `trunk` and an `exits` list of sequential children,
// `edgent_exit_points`, `edgent_input_shape`, and a forward(x) returning every exit's logits.

#include "core/model/MultiExitNet.h"

#include <memory>
#include <string>

namespace edgent::core {

// Reads a TorchScript archive and rebuilds it as a native MultiExitNet (spec and weights).
Result<std::shared_ptr<MultiExitNet>> importTorchScript(const std::string& path);

// Writes a net as a TorchScript archive that follows the convention; its forward(x) is
// TorchScript code built from torch ops, independent of MultiExitNet's implementation.
Status exportTorchScript(const MultiExitNet& net, const std::string& path);

// Runs a TorchScript archive's own forward(x) and returns every exit's logits (for tests).
Result<std::vector<torch::Tensor>> runTorchScriptForward(const std::string& path, const torch::Tensor& x);

}  // namespace edgent::core
