#pragma once
// The one way core includes LibTorch. Torch's headers use `signals`, `slots` and `foreach` as
// identifiers, which Qt defines as macros unless QT_NO_KEYWORDS is set; QCustomPlot's header
// needs those macros. So a translation unit includes either torch (through this header, with
// QT_NO_KEYWORDS) or QCustomPlot, never both (docs/architecture.md).

#if !defined(QT_NO_KEYWORDS)
#error "this file includes LibTorch: compile it with QT_NO_KEYWORDS, and never together with QCustomPlot or Qt's keywords (docs/architecture.md)"
#endif
#if defined(signals) || defined(slots) || defined(foreach)
#error "Qt's signals/slots/foreach macros are defined here; LibTorch's headers break under them (docs/architecture.md)"
#endif

#include <torch/torch.h>
