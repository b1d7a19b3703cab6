#include "widgets/FigurePlot.h"

#include <qcustomplot.h>

#include <QFileInfo>

#include <cstdio>

namespace edgent::widgets {

namespace {

const QColor kPalette[] = {QColor(31, 119, 180), QColor(214, 39, 40),  QColor(44, 160, 44),  QColor(255, 127, 14),
                           QColor(148, 103, 189), QColor(140, 86, 75), QColor(23, 190, 207), QColor(127, 127, 127)};

QString q(const std::string& s) { return QString::fromStdString(s); }

QVector<double> vec(const std::vector<double>& v) { return QVector<double>(v.begin(), v.end()); }

}  // namespace

void drawFigure(QCustomPlot& plot, const core::repro::Figure& f) {
    using core::repro::SeriesStyle;
    plot.plotLayout()->clear();
    plot.setAutoAddPlottableToLegend(false);
    int row = 0;
    plot.plotLayout()->addElement(row++, 0, new QCPTextElement(&plot, q(f.title), QFont(QStringLiteral("sans"), 11, QFont::Bold)));
    auto* group = new QCPMarginGroup(&plot);
    for (size_t pi = 0; pi < f.panels.size(); ++pi) {
        const core::repro::Panel& panel = f.panels[pi];
        auto* rect = new QCPAxisRect(&plot);
        plot.plotLayout()->addElement(row++, 0, rect);
        rect->setMarginGroup(QCP::msLeft | QCP::msRight, group);
        QCPAxis* xAxis = rect->axis(QCPAxis::atBottom);
        QCPAxis* yAxis = rect->axis(QCPAxis::atLeft);
        yAxis->setLabel(q(panel.yLabel));
        if (pi + 1 == f.panels.size()) xAxis->setLabel(q(f.xLabel));
        if (f.logX) {
            // Ticks at the measured points: a log axis over one or two decades has too few.
            xAxis->setScaleType(QCPAxis::stLogarithmic);
            QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
            for (const core::repro::Series& s : panel.series)
                for (double v : s.x) ticker->addTick(v, QString::number(v, 'g', 6));
            xAxis->setTicker(ticker);
        }
        if (panel.integerTicks) {
            QSharedPointer<QCPAxisTickerFixed> ticker(new QCPAxisTickerFixed);
            ticker->setTickStep(1.0);
            ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
            yAxis->setTicker(ticker);
        }
        // The legend sits in its own row under the panel, so that it never hides the data.
        auto* legend = new QCPLegend;
        plot.plotLayout()->addElement(row++, 0, legend);
        legend->setLayer(QStringLiteral("legend"));
        legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
        legend->setWrap(3);
        legend->setBorderPen(Qt::NoPen);
        legend->setFont(QFont(QStringLiteral("sans"), 8));
        legend->setMargins(QMargins(2, 0, 2, 0));
        plot.plotLayout()->setRowStretchFactor(plot.plotLayout()->rowCount() - 1, 0.001);
        int bars = 0;
        double spacing = 0.0;
        for (const core::repro::Series& s : panel.series)
            if (s.style == SeriesStyle::Bars) {
                ++bars;
                for (size_t i = 1; i < s.x.size(); ++i)
                    if (spacing <= 0 || s.x[i] - s.x[i - 1] < spacing) spacing = s.x[i] - s.x[i - 1];
            }
        const double barWidth = bars ? 0.8 * (spacing > 0 ? spacing : 1.0) / bars : 0.0;
        int colour = 0, bar = 0;
        bool marksInLegend = false;
        for (const core::repro::Series& s : panel.series) {
            const QColor c = kPalette[colour++ % std::size(kPalette)];
            std::vector<double> x = s.x, markX = s.markX;
            if (s.style == SeriesStyle::Bars) {
                // Grouped bars: each series shifted within its slot.
                const double shift = (bar++ - (bars - 1) / 2.0) * barWidth;
                for (double& v : x) v += shift;
                for (double& v : markX) v += shift;
                auto* b = new QCPBars(xAxis, yAxis);
                b->setData(vec(x), vec(s.y), true);
                b->setWidth(barWidth);
                b->setName(q(s.name));
                b->setPen(QPen(c.darker(130), 1.0));
                b->setBrush(QBrush(c));
                legend->addItem(new QCPPlottableLegendItem(legend, b));
            } else {
                QCPGraph* g = plot.addGraph(xAxis, yAxis);
                g->setData(vec(x), vec(s.y), true);
                g->setName(q(s.name));
                g->setPen(QPen(c, 1.6, s.dashed ? Qt::DashLine : Qt::SolidLine));
                if (s.style == SeriesStyle::Step) g->setLineStyle(QCPGraph::lsStepLeft);
                if (s.style == SeriesStyle::Points) g->setLineStyle(QCPGraph::lsNone);
                if (s.style != SeriesStyle::Step) g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, c, 5));
                g->addToLegend(legend);
            }
            if (!markX.empty()) {
                // One legend entry for the marks of every series; the colour says whose they are.
                QCPGraph* m = plot.addGraph(xAxis, yAxis);
                m->setData(vec(markX), vec(s.markY), true);
                m->setName(q(s.markName.empty() ? std::string("marked") : s.markName));
                m->setLineStyle(QCPGraph::lsNone);
                m->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCross, QPen(c, 2.0), QBrush(), 9));
                if (!marksInLegend) {
                    m->addToLegend(legend);
                    marksInLegend = true;
                }
            }
        }
        xAxis->rescale(true);
        QCPRange xr = xAxis->range();
        if (bars) xr = QCPRange(xr.lower - barWidth, xr.upper + barWidth);
        if (f.logX)
            xAxis->setRange(xr.lower / 1.15, xr.upper * 1.15);
        else
            xAxis->setRange(xr.lower - 0.04 * xr.size(), xr.upper + 0.04 * xr.size());
        if (!std::isnan(panel.yMin) && !std::isnan(panel.yMax)) {
            yAxis->setRange(panel.yMin, panel.yMax);
        } else {
            yAxis->rescale(true);
            const QCPRange yr = yAxis->range();
            const double pad = std::max(0.08 * yr.size(), panel.integerTicks ? 0.5 : 1e-9);
            // Non-negative data keeps its axis at zero (no negative layers or latencies).
            yAxis->setRange(yr.lower >= 0 ? -pad / 2 : yr.lower - pad, std::max(yr.upper + pad, panel.integerTicks ? 1.5 : 0.0));
        }
    }
    if (!f.footnote.empty())
        plot.plotLayout()->addElement(row++, 0, new QCPTextElement(&plot, q(f.footnote), QFont(QStringLiteral("sans"), 8)));
}

core::Status savePlot(QCustomPlot& plot, const QString& path, int widthPx, int heightPx) {
    plot.resize(widthPx, heightPx);
    plot.replot();
    const QString suffix = QFileInfo(path).suffix().toLower();
    const QString tmp = path + ".partial." + suffix;
    bool ok = false;
    if (suffix == "pdf")
        ok = plot.savePdf(tmp, widthPx, heightPx);
    else if (suffix == "png")
        ok = plot.savePng(tmp, widthPx, heightPx, 2.0);
    else
        return core::makeError("plots export to .pdf or .png, not ." + suffix.toStdString());
    if (!ok) {
        QFile::remove(tmp);
        return core::makeError("cannot write " + path.toStdString());
    }
    if (std::rename(tmp.toLocal8Bit().constData(), path.toLocal8Bit().constData()) != 0) {
        QFile::remove(tmp);
        return core::makeError("cannot write " + path.toStdString());
    }
    return core::Status::success();
}

core::Status saveFigure(const core::repro::Figure& figure, const QString& base, int widthPx, int heightPx) {
    if (heightPx <= 0) heightPx = 110 + 300 * static_cast<int>(std::max<size_t>(1, figure.panels.size()));
    QCustomPlot plot;
    drawFigure(plot, figure);
    for (const char* suffix : {".pdf", ".png"})
        if (auto s = savePlot(plot, base + QLatin1String(suffix), widthPx, heightPx); !s) return s;
    return core::Status::success();
}

}  // namespace edgent::widgets
