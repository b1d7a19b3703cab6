#pragma once
// Shared between `edgent plan` and `edgent run --policy`.

#include "core/model/ModelFile.h"
#include "core/plan/Planner.h"
#include "core/store/RunStore.h"

namespace edgent::app {

// The latency table of a model from the newest profile in the store; predictor is
// "regression" (Edgent) or "lookup" (measured per-layer medians).
core::Result<core::plan::LatencyTable> latencyTableFor(core::store::RunStore& db, const core::ModelFile& model,
                                                       const std::string& modelHashHex, const std::string& predictor);

}  // namespace edgent::app
