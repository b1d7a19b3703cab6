#include "widgets/ProfilePanel.h"
#include "widgets/ProfilePanelParts.h"

#include "core/plan/Forest.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

// The Profile tab's scatter: measured against predicted per layer, for a Table-1 fit or for
// the forest on held-out rows, and its export for papers.

namespace edgent::widgets {

using core::LayerKind;
using core::plan::FeatureSet;
using core::plan::LinearFit;
using namespace profile_panel;

namespace {

// Point colours that read on light and dark backgrounds alike.
const QColor kModelColour(31, 119, 180);
const QColor kSyntheticColour(255, 127, 14);
constexpr int kExportWidth = 900;
constexpr int kExportHeight = 700;

}  // namespace

QString ProfilePanel::plotTitle() const { return title_->text(); }

void ProfilePanel::drawFit(int node, LayerKind kind, FeatureSet featureSet) {
    plot_->clearGraphs();
    plot_->clearItems();
    reference_ = nullptr;
    const NodeData& d = nodes_[node];
    const QString what =
        QStringLiteral("%1 %2 (%3)").arg(QString::fromLatin1(kNodeNames[node]), kindName(kind), setName(featureSet));
    const auto& fits = d.fits[static_cast<int>(featureSet)];
    const auto it = fits.find(kind);
    const bool log = logAxes_->isChecked();
    const auto ticker =
        log ? QSharedPointer<QCPAxisTicker>(new QCPAxisTickerLog) : QSharedPointer<QCPAxisTicker>(new QCPAxisTicker);
    for (QCPAxis* axis : {plot_->xAxis, plot_->yAxis}) {
        axis->setScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
        axis->setTicker(ticker);
        axis->setNumberFormat(log ? QStringLiteral("gb") : QStringLiteral("g"));
    }
    if (it == fits.end()) {
        const auto timings = std::count_if(d.layers.begin(), d.layers.end(), [kind](const auto& t) { return t.kind == kind; });
        if (!d.present)
            title_->setText(tr("No profile of the %1 yet").arg(QString::fromLatin1(kNodeNames[node])));
        else if (timings == 0)
            title_->setText(tr("No fit for %1: the profile has no layers of this kind").arg(what));
        else
            title_->setText(tr("No fit for %1: too few timings of this kind (%2)").arg(what).arg(timings));
        plot_->legend->setVisible(false);
        plot_->xAxis->setRange(log ? 0.01 : 0.0, 10.0);
        plot_->yAxis->setRange(log ? 0.01 : 0.0, 10.0);
        applyPlotColours(false);
        return;
    }
    const LinearFit& fit = it->second;
    drawScatter(node, kind, [&fit](const core::profile::LayerTiming& t) { return fit.predictMs(t.features); },
                tr("%1, measured vs predicted: R² = %2, held-out MAPE = %3 %")
                    .arg(what, QString::number(fit.r2, 'f', 3), mapeText(fit)));
}

void ProfilePanel::drawForest(int node, LayerKind kind) {
    const NodeData& d = nodes_[node];
    const QString what = QStringLiteral("%1 %2 (%3)").arg(QString::fromLatin1(kNodeNames[node]), kindName(kind), tr("forest"));
    // As edgent profile scores it (core/control/ProfileRun.h checkForests): every fourth row
    // with a configuration is held out, the forest is fitted on the others, and only the
    // held-out rows are drawn.
    std::vector<core::plan::LayerSample> fit;
    std::vector<const core::profile::LayerTiming*> held;
    int i = 0;
    for (const auto& t : d.layers) {
        if (t.config.empty()) continue;
        if (++i % 4 == 0)
            held.push_back(&t);
        else
            fit.push_back(core::plan::LayerSample{t.kind, t.config, t.medianMs, t.source == "model"});
    }
    auto forest = core::plan::LatencyForest::fit(fit);
    const bool usable = forest.ok() && forest->knows(kind);
    if (!usable) {
        plot_->clearGraphs();
        plot_->clearItems();
        reference_ = nullptr;
        plot_->legend->setVisible(false);
        title_->setText(!d.present          ? tr("No profile of the %1 yet").arg(QString::fromLatin1(kNodeNames[node]))
                        : i == 0            ? tr("This profile predates layer configurations: profile again for the forest")
                        : !forest.ok()      ? QString::fromStdString(forest.error())
                                            : tr("No forest for %1: too few timings of this kind").arg(what));
        applyPlotColours(false);
        return;
    }
    std::map<const core::profile::LayerTiming*, double> predicted;
    int within = 0, shown = 0;
    double sum = 0.0;
    for (const auto* t : held) {
        if (t->kind != kind) continue;
        const auto ms = forest->predictMs(kind, t->config, t->source == "model");
        if (!ms) continue;
        predicted[t] = *ms;
        if (t->medianMs > 0.0) {
            const double e = std::abs(*ms - t->medianMs) / t->medianMs;
            sum += e;
            within += e <= 0.10;
            ++shown;
        }
    }
    drawScatter(node, kind,
                [&predicted](const core::profile::LayerTiming& t) {
                    const auto it = predicted.find(&t);
                    return it == predicted.end() ? std::numeric_limits<double>::quiet_NaN() : it->second;
                },
                tr("%1, held-out rows: %2 of %3 within ±10 %, MAPE %4 %")
                    .arg(what)
                    .arg(within)
                    .arg(shown)
                    .arg(shown ? 100.0 * sum / shown : 0.0, 0, 'f', 1));
}

void ProfilePanel::drawScatter(int node, LayerKind kind, const std::function<double(const core::profile::LayerTiming&)>& predict,
                               QString title) {
    const NodeData& d = nodes_[node];
    plot_->clearGraphs();
    plot_->clearItems();
    reference_ = nullptr;
    const bool log = logAxes_->isChecked();
    const auto ticker =
        log ? QSharedPointer<QCPAxisTicker>(new QCPAxisTickerLog) : QSharedPointer<QCPAxisTicker>(new QCPAxisTicker);
    for (QCPAxis* axis : {plot_->xAxis, plot_->yAxis}) {
        axis->setScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
        axis->setTicker(ticker);
        axis->setNumberFormat(log ? QStringLiteral("gb") : QStringLiteral("g"));
    }
    QVector<double> mx, my, sx, sy;
    int hidden = 0;
    double lo = std::numeric_limits<double>::infinity(), hi = 0.0;
    for (const auto& t : d.layers) {
        if (t.kind != kind) continue;
        const double measured = t.medianMs, predicted = predict(t);
        if (std::isnan(predicted)) continue;  // not drawn (the forest draws held-out rows only)
        if (log && (measured <= 0.0 || predicted <= 0.0)) {
            ++hidden;
            continue;
        }
        (t.source == "synthetic" ? sx : mx) << measured;
        (t.source == "synthetic" ? sy : my) << predicted;
        for (double v : {measured, predicted}) {
            if (v > 0.0) lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    }
    auto addPoints = [&](const QVector<double>& x, const QVector<double>& y, const QColor& colour,
                         QCPScatterStyle::ScatterShape shape, const QString& name) {
        QCPGraph* g = plot_->addGraph();
        g->setData(x, y);
        g->setName(QStringLiteral("%1 (%2)").arg(name).arg(x.size()));
        g->setLineStyle(QCPGraph::lsNone);
        g->setPen(QPen(colour, 1.5));
        g->setScatterStyle(QCPScatterStyle(shape, colour, 6));
    };
    if (!std::isfinite(lo)) lo = log ? 0.01 : 0.0;
    if (hi <= lo) hi = lo > 0.0 ? lo * 10.0 : 1.0;
    const double from = log ? lo / 1.5 : 0.0, to = log ? hi * 1.5 : hi * 1.08;
    reference_ = plot_->addGraph();
    reference_->setData(QVector<double>{from, to}, QVector<double>{from, to});
    reference_->setName(QStringLiteral("y = x"));
    addPoints(mx, my, kModelColour, QCPScatterStyle::ssDisc, tr("model layers"));
    addPoints(sx, sy, kSyntheticColour, QCPScatterStyle::ssTriangle, tr("synthetic layers"));
    plot_->xAxis->setRange(from, to);
    plot_->yAxis->setRange(from, to);

    plot_->legend->setVisible(true);
    if (hidden > 0) title += tr("\n%n point(s) at or below 0 ms not shown on log axes", nullptr, hidden);
    title_->setText(title);
    applyPlotColours(false);
}

void ProfilePanel::applyPlotColours(bool forExport) {
    // On screen the plot follows the palette; exported figures are black on white for print.
    const QPalette& pal = palette();
    const QColor background = forExport ? QColor(Qt::white) : pal.color(QPalette::Base);
    const QColor text = forExport ? QColor(Qt::black) : pal.color(QPalette::Text);
    QColor grid = forExport ? QColor(210, 210, 210) : pal.color(QPalette::Mid);
    QColor subGrid = grid;
    subGrid.setAlpha(90);
    plot_->setBackground(background);
    plot_->axisRect()->setBackground(background);
    for (QCPAxis* axis : {plot_->xAxis, plot_->yAxis, plot_->xAxis2, plot_->yAxis2}) {
        axis->setBasePen(QPen(text, 1));
        axis->setTickPen(QPen(text, 1));
        axis->setSubTickPen(QPen(text, 1));
        axis->setLabelColor(text);
        axis->setTickLabelColor(text);
        axis->grid()->setPen(QPen(grid, 1, Qt::DotLine));
        axis->grid()->setSubGridPen(QPen(subGrid, 1, Qt::DotLine));
        axis->grid()->setSubGridVisible(axis->scaleType() == QCPAxis::stLogarithmic);
        axis->grid()->setZeroLinePen(Qt::NoPen);
    }
    plot_->legend->setBrush(background);
    plot_->legend->setBorderPen(QPen(grid));
    plot_->legend->setTextColor(text);
    title_->setTextColor(text);
    if (reference_) {
        QColor line = text;
        line.setAlpha(150);
        reference_->setPen(QPen(line, 1.2, Qt::DashLine));
    }
    plot_->replot();
}

bool ProfilePanel::exportPlot(const QString& path) {
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix != QLatin1String("png") && suffix != QLatin1String("pdf")) {
        setMessage(tr("Plots export to .png or .pdf, not “%1”.").arg(QFileInfo(path).fileName()));
        return false;
    }
    applyPlotColours(true);
    const bool ok = suffix == QLatin1String("png") ? plot_->savePng(path, kExportWidth, kExportHeight, 2.0)
                                                   : plot_->savePdf(path, kExportWidth, kExportHeight);
    applyPlotColours(false);
    setMessage(ok ? tr("Saved the plot to %1.").arg(path) : tr("Could not write %1.").arg(path));
    return ok;
}

void ProfilePanel::exportWithDialog(const QString& suffix) {
    const QString filter = suffix == QLatin1String("png") ? tr("PNG images (*.png)") : tr("PDF documents (*.pdf)");
    const QString name = QStringLiteral("fit-%1-%2-%3.%4")
                             .arg(nodeCombo_->currentData().toString(), kindCombo_->currentText(),
                                  setCombo_->currentData().toInt() == kForestSet ? QStringLiteral("forest")
                                  : setCombo_->currentIndex() == 0               ? QStringLiteral("table1")
                                                                                 : QStringLiteral("macs"),
                                  suffix);
    QString path = QFileDialog::getSaveFileName(this, tr("Export plot"), name, filter);
    if (path.isEmpty()) return;
    if (QFileInfo(path).suffix().toLower() != suffix) path += QLatin1Char('.') + suffix;
    exportPlot(path);
}


}  // namespace edgent::widgets
