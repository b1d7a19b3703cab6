#pragma once
// Shared between `edgent plan`, `edgent run --policy` and `edgent sweep`.

#include "core/control/ProfileRun.h"

namespace edgent::app {

using core::control::latencyTableFor;

}  // namespace edgent::app
