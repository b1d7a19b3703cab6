#include "widgets/RunPlots.h"

#include "widgets/FigurePlot.h"

#include <qcustomplot.h>

#include <QFileInfo>

#include <cmath>
#include <cstdio>

namespace edgent::widgets {

void drawRunFigure(QCustomPlot& plot, const RunFigure& f) {
    plot.plotLayout()->clear();
    plot.plotLayout()->addElement(0, 0, new QCPTextElement(&plot, f.title, QFont(QStringLiteral("sans"), 11, QFont::Bold)));
    auto* latency = new QCPAxisRect(&plot);
    plot.plotLayout()->addElement(1, 0, latency);
    latency->axis(QCPAxis::atLeft)->setLabel(QStringLiteral("latency (ms)"));
    latency->axis(QCPAxis::atBottom)->setLabel(QStringLiteral("inference"));
    auto* accuracy = new QCPAxisRect(&plot);
    plot.plotLayout()->addElement(2, 0, accuracy);
    accuracy->axis(QCPAxis::atLeft)->setLabel(QStringLiteral("rolling accuracy (50)"));
    auto* energy = new QCPAxisRect(&plot);
    plot.plotLayout()->addElement(3, 0, energy);
    energy->axis(QCPAxis::atLeft)->setLabel(QStringLiteral("device energy (mJ)"));
    energy->axis(QCPAxis::atBottom)->setLabel(QStringLiteral("inference"));

    QVector<double> x, device, deviceTransfer, all, total, predicted, rolling, mj;
    int correctInWindow = 0;
    const int window = 50;
    bool anyPredicted = false, anyEnergy = false;
    for (size_t i = 0; i < f.samples.size(); ++i) {
        const auto& r = f.samples[i];
        const auto& s = r.sample;
        x << static_cast<double>(s.sequence);
        device << s.deviceMs;
        deviceTransfer << s.deviceMs + s.transferMs;
        all << s.deviceMs + s.transferMs + s.edgeMs;
        total << s.totalMs;
        predicted << (std::isnan(r.predictedMs) ? qQNaN() : r.predictedMs);
        anyPredicted |= !std::isnan(r.predictedMs);
        correctInWindow += s.correct();
        if (i >= static_cast<size_t>(window)) correctInWindow -= f.samples[i - window].sample.correct();
        rolling << static_cast<double>(correctInWindow) / static_cast<double>(std::min<size_t>(i + 1, window));
        mj << (std::isnan(r.energyMj) ? qQNaN() : r.energyMj);
        anyEnergy |= !std::isnan(r.energyMj);
    }
    auto addGraph = [&](QCPAxisRect* rect, const QVector<double>& y, const QColor& color, const QString& name, bool fill) {
        QCPGraph* g = plot.addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
        g->setData(x, y, true);
        g->setName(name);
        g->setPen(QPen(color, 1.2));
        if (fill) g->setBrush(QBrush(QColor(color.red(), color.green(), color.blue(), 90)));
        return g;
    };
    // Stacked breakdown: each band filled down to the one below.
    QCPGraph* edge = addGraph(latency, all, QColor(214, 39, 40), QStringLiteral("edge"), true);
    QCPGraph* transfer = addGraph(latency, deviceTransfer, QColor(255, 127, 14), QStringLiteral("transfer"), true);
    QCPGraph* dev = addGraph(latency, device, QColor(31, 119, 180), QStringLiteral("device"), true);
    edge->setChannelFillGraph(transfer);
    transfer->setChannelFillGraph(dev);
    QCPGraph* measured = addGraph(latency, total, Qt::black, QStringLiteral("measured"), false);
    measured->setLineStyle(QCPGraph::lsNone);
    measured->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 3));
    if (anyPredicted) {
        QCPGraph* p = addGraph(latency, predicted, QColor(44, 160, 44), QStringLiteral("predicted"), false);
        p->setPen(QPen(QColor(44, 160, 44), 1.5, Qt::DashLine));
    }
    if (f.deadlineMs > 0 && !x.isEmpty()) {
        QCPGraph* d =
            addGraph(latency, QVector<double>(x.size(), f.deadlineMs), QColor(120, 120, 120), QStringLiteral("deadline"), false);
        d->setPen(QPen(QColor(120, 120, 120), 1.5, Qt::DotLine));
    }
    addGraph(accuracy, rolling, QColor(148, 103, 189), QStringLiteral("accuracy"), false);
    accuracy->axis(QCPAxis::atLeft)->setRange(0, 1.05);
    if (anyEnergy)
        addGraph(energy, mj, QColor(140, 86, 75), QStringLiteral("energy"), false);
    else {
        auto* note = new QCPItemText(&plot);
        note->setClipAxisRect(energy);
        note->position->setAxisRect(energy);
        note->position->setType(QCPItemPosition::ptAxisRectRatio);
        note->position->setCoords(0.5, 0.5);
        note->setText(QStringLiteral("no energy recorded for this run"));
    }
    // Events (slider moves, plan switches, change points) as vertical markers.
    for (const auto& e : f.events) {
        if (core::net::eventKindFromName(e.kind) == core::net::EventKind::WorkerUp) continue;
        double seqAt = -1;
        for (const auto& r : f.samples)
            if (r.sample.deviceTimeMs >= e.tMs) {
                seqAt = static_cast<double>(r.sample.sequence);
                break;
            }
        if (seqAt < 0) continue;
        auto* line = new QCPItemStraightLine(&plot);
        line->setClipAxisRect(latency);
        line->point1->setAxes(latency->axis(QCPAxis::atBottom), latency->axis(QCPAxis::atLeft));
        line->point2->setAxes(latency->axis(QCPAxis::atBottom), latency->axis(QCPAxis::atLeft));
        line->point1->setCoords(seqAt, 0);
        line->point2->setCoords(seqAt, 1);
        line->setPen(QPen(QColor(100, 100, 100, 120), 1, Qt::DashDotLine));
    }
    auto* legend = new QCPLegend;
    latency->insetLayout()->addElement(legend, Qt::AlignTop | Qt::AlignRight);
    legend->setLayer(QStringLiteral("legend"));
    for (int i = 0; i < plot.graphCount(); ++i)
        if (plot.graph(i)->keyAxis()->axisRect() == latency) plot.graph(i)->addToLegend(legend);
    for (auto* rect : {latency, accuracy, energy}) {
        rect->axis(QCPAxis::atBottom)->rescale();
        if (rect != accuracy) rect->axis(QCPAxis::atLeft)->rescale();
        auto* left = rect->axis(QCPAxis::atLeft);
        if (rect != accuracy) left->setRange(0, left->range().upper * 1.1 + 1e-9);
    }
    auto* group = new QCPMarginGroup(&plot);
    for (auto* rect : {latency, accuracy, energy}) rect->setMarginGroup(QCP::msLeft | QCP::msRight, group);
    plot.setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
}

core::Status saveRunFigure(const RunFigure& figure, const QString& path, int widthPx, int heightPx) {
    QCustomPlot plot;
    drawRunFigure(plot, figure);
    return savePlot(plot, path, widthPx, heightPx);
}

}  // namespace edgent::widgets
