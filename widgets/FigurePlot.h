#pragma once
// Draws a reproduction figure (core/repro/Figure.h) with QCustomPlot and saves it as PDF
// and PNG for a paper. Works offscreen (needs a QApplication).

#include "core/repro/Figure.h"
#include "core/util/Result.h"

#include <QString>

class QCustomPlot;

namespace edgent::widgets {

void drawFigure(QCustomPlot& plot, const core::repro::Figure& figure);

// Writes BASE.pdf (vector) and BASE.png, each atomically.
core::Status saveFigure(const core::repro::Figure& figure, const QString& base, int widthPx = 900, int heightPx = 0);

// Saves a drawn plot to .pdf or .png through a temporary file renamed into place.
core::Status savePlot(QCustomPlot& plot, const QString& path, int widthPx, int heightPx);

}  // namespace edgent::widgets
