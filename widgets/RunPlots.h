#pragma once
// Paper figures of one run, drawn with QCustomPlot: per-inference latency with its
// device/transfer/edge breakdown (and the prediction when known), rolling accuracy, and
// energy per inference. Works offscreen (needs a QApplication).

#include "core/store/RunStore.h"

#include <QString>

class QCustomPlot;

namespace edgent::widgets {

struct RunFigure {
    QString title;
    std::vector<core::store::SampleRow> samples;
    std::vector<core::store::EventRow> events;
    double deadlineMs = 0.0;  // drawn as a line when > 0
};

// Fills `plot` (a fresh QCustomPlot) with the three stacked panels.
void drawRunFigure(QCustomPlot& plot, const RunFigure& figure);

// Renders the figure to .pdf (vector) or .png (2x, 300 dpi-ish) atomically.
core::Status saveRunFigure(const RunFigure& figure, const QString& path, int widthPx = 1000, int heightPx = 900);

}  // namespace edgent::widgets
