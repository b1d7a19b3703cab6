#pragma once
// Internal to core/repro: each figure's experiment, data, drawing and statements.

#include "core/repro/Page.h"

namespace edgent::core::repro {

Result<FigureOutput> edgentFig6(Session& session);
Result<FigureOutput> edgentFig7(Session& session);
Result<FigureOutput> edgentFig8(Session& session);
Result<FigureOutput> edgentFig9(Session& session);
Result<FigureOutput> edgentDynamic(Session& session);

}  // namespace edgent::core::repro
