#pragma once
// Internal to core/repro: each figure's experiment (Edgent's, BranchyNet's and AppealNet's), data, drawing and statements.

#include "core/repro/Page.h"

namespace edgent::core::repro {

Result<FigureOutput> edgentFig6(Session& session);
Result<FigureOutput> edgentFig7(Session& session);
Result<FigureOutput> edgentFig8(Session& session);
Result<FigureOutput> edgentFig9(Session& session);
Result<FigureOutput> edgentDynamic(Session& session);
Result<FigureOutput> branchynetTable1(Session& session);
Result<FigureOutput> appealnetFigure(Session& session);

}  // namespace edgent::core::repro
