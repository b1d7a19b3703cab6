#include "widgets/ProfilePanel.h"
#include "widgets/Tables.h"

#include "core/plan/Forest.h"
#include "core/store/RunStore.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QComboBox>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgent::widgets {

using core::LayerKind;
using core::plan::FeatureSet;
using core::plan::LinearFit;

namespace {

// Point colours that read on light and dark backgrounds alike.
const QColor kModelColour(31, 119, 180);
constexpr int kForestSet = 100;  // the feature-set combo's entry for the forest
const QColor kSyntheticColour(255, 127, 14);
const char* const kNodeNames[2] = {"device", "edge"};
constexpr int kExportWidth = 900;
constexpr int kExportHeight = 700;

QString kindName(LayerKind kind) {
    const std::string_view name = core::layerKindName(kind);
    return QString::fromUtf8(name.data(), static_cast<qsizetype>(name.size()));
}

QString setName(FeatureSet f) { return QString::fromLatin1(core::plan::featureSetName(f)); }

QString mapeText(const LinearFit& fit) {
    return std::isnan(fit.mapeHeldOut) || fit.heldOut == 0 ? QStringLiteral("n/a")
                                                           : QString::number(fit.mapeHeldOut * 100.0, 'f', 1);
}

QTableWidgetItem* item(const QString& text, bool number = false) {
    auto* it = new QTableWidgetItem(text);
    it->setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled);
    if (number) it->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return it;
}

int nodeIndex(const QString& node) { return node == QLatin1String("edge") ? 1 : 0; }

}  // namespace

ProfilePanel::ProfilePanel(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);

    auto* controls = new QHBoxLayout;
    start_ = new QPushButton(tr("Profile both workers"), this);
    start_->setObjectName("profileStartButton");
    start_->setToolTip(tr("Time every layer of the model on the device and the edge, then fit the latency regressions."));
    repeats_ = new QSpinBox(this);
    repeats_->setObjectName("profileRepeats");
    repeats_->setRange(3, 1000);
    repeats_->setValue(25);
    repeats_->setToolTip(tr("Timed repetitions per model layer; the median is kept."));
    synthetic_ = new QCheckBox(tr("synthetic sweep"), this);
    synthetic_->setObjectName("profileSynthetic");
    synthetic_->setChecked(true);
    synthetic_->setToolTip(
        tr("Also time a sweep of layer configurations per kind, so the regressions see more than the model's own layers."));
    cancel_ = new QPushButton(tr("Cancel"), this);
    cancel_->setObjectName("profileCancelButton");
    cancel_->setEnabled(false);
    controls->addWidget(start_);
    controls->addWidget(new QLabel(tr("repeats"), this));
    controls->addWidget(repeats_);
    controls->addWidget(synthetic_);
    controls->addWidget(cancel_);
    calibrate_ = new QPushButton(tr("Calibrate early exits"), this);
    calibrate_->setObjectName("calibrateButton");
    calibrate_->setToolTip(
        tr("Run every exit on the model's held-out validation images and store each exit's confidence: what the per-input "
           "policies (branchynet, appealnet, cascade, adaptive) plan with."));
    controls->addSpacing(16);
    controls->addWidget(calibrate_);
    controls->addStretch();
    layout->addLayout(controls);

    progress_ = new QProgressBar(this);
    progress_->setObjectName("profileProgress");
    progress_->setTextVisible(true);
    progress_->setVisible(false);
    layout->addWidget(progress_);
    status_ = new QLabel(this);
    status_->setObjectName("profileStatus");
    status_->setWordWrap(true);
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    status_->setVisible(false);
    layout->addWidget(status_);
    summary_ = new QLabel(this);
    summary_->setObjectName("profileSummary");
    summary_->setWordWrap(true);
    layout->addWidget(summary_);

    auto* splitter = new QSplitter(Qt::Vertical, this);
    fits_ = new QTableWidget(0, 6, splitter);
    fits_->setObjectName("fitsTable");
    fits_->setHorizontalHeaderLabels({tr("Node"), tr("Kind"), tr("Feature set"), tr("R²"), tr("Held-out MAPE %"), tr("Points")});
    fits_->verticalHeader()->hide();
    fits_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    fits_->setSelectionBehavior(QAbstractItemView::SelectRows);
    fits_->setSelectionMode(QAbstractItemView::SingleSelection);
    fits_->setAlternatingRowColors(true);
    fitColumns(fits_, 2);  // the feature set takes the slack

    auto* plotBox = new QWidget(splitter);
    auto* plotLayout = new QVBoxLayout(plotBox);
    plotLayout->setContentsMargins(0, 0, 0, 0);
    auto* choose = new QHBoxLayout;
    nodeCombo_ = new QComboBox(plotBox);
    nodeCombo_->setObjectName("fitNodeCombo");
    nodeCombo_->addItem(tr("device"), QStringLiteral("device"));
    nodeCombo_->addItem(tr("edge"), QStringLiteral("edge"));
    kindCombo_ = new QComboBox(plotBox);
    kindCombo_->setObjectName("fitKindCombo");
    setCombo_ = new QComboBox(plotBox);
    setCombo_->setObjectName("fitFeatureSetCombo");
    setCombo_->addItem(tr("Table 1"), static_cast<int>(FeatureSet::TableOne));
    setCombo_->addItem(tr("Table 1 + MACs"), static_cast<int>(FeatureSet::TableOneMacs));
    setCombo_->addItem(tr("Forest (held-out rows)"), kForestSet);
    setCombo_->setToolTip(tr("Table 1: Edgent's linear regressions; Forest: boosted trees on each layer's whole "
                             "configuration (the forest predictors), drawn on the rows it was not fitted on"));
    logAxes_ = new QCheckBox(tr("log axes"), plotBox);
    logAxes_->setObjectName("fitLogAxes");
    logAxes_->setChecked(true);
    exportPng_ = new QPushButton(tr("Export PNG…"), plotBox);
    exportPng_->setObjectName("fitExportPngButton");
    exportPdf_ = new QPushButton(tr("Export PDF…"), plotBox);
    exportPdf_->setObjectName("fitExportPdfButton");
    choose->addWidget(new QLabel(tr("node"), plotBox));
    choose->addWidget(nodeCombo_);
    choose->addWidget(new QLabel(tr("kind"), plotBox));
    choose->addWidget(kindCombo_);
    choose->addWidget(new QLabel(tr("features"), plotBox));
    choose->addWidget(setCombo_);
    choose->addWidget(logAxes_);
    choose->addStretch();
    choose->addWidget(exportPng_);
    choose->addWidget(exportPdf_);
    plotLayout->addLayout(choose);

    plot_ = new QCustomPlot(plotBox);
    plot_->setObjectName("fitPlot");
    plot_->setMinimumHeight(260);
    plot_->plotLayout()->insertRow(0);
    title_ = new QCPTextElement(plot_, QString(), QFont(font().family(), font().pointSize() + 1, QFont::Bold));
    plot_->plotLayout()->addElement(0, 0, title_);
    plot_->xAxis->setLabel(tr("measured (ms)"));
    plot_->yAxis->setLabel(tr("predicted (ms)"));
    plot_->legend->setVisible(true);
    plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plotLayout->addWidget(plot_, 1);
    splitter->addWidget(fits_);
    splitter->addWidget(plotBox);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 2);
    layout->addWidget(splitter, 1);

    connect(start_, &QPushButton::clicked, this, [this] { Q_EMIT startRequested(repeats_->value(), synthetic_->isChecked()); });
    connect(calibrate_, &QPushButton::clicked, this, &ProfilePanel::calibrateRequested);
    connect(cancel_, &QPushButton::clicked, this, &ProfilePanel::cancelRequested);
    connect(fits_, &QTableWidget::currentCellChanged, this, [this](int row, int, int, int) {
        if (row < 0 || row >= static_cast<int>(rows_.size())) return;
        const FitRow& r = rows_[static_cast<size_t>(row)];
        showFit(QString::fromLatin1(kNodeNames[r.node]), r.fit.kind, r.fit.featureSet);
    });
    for (QComboBox* combo : {nodeCombo_, kindCombo_, setCombo_})
        connect(combo, &QComboBox::currentIndexChanged, this, [this] { plotCurrent(); });
    connect(logAxes_, &QCheckBox::toggled, this, [this] { plotCurrent(); });
    connect(exportPng_, &QPushButton::clicked, this, [this] { exportWithDialog(QStringLiteral("png")); });
    connect(exportPdf_, &QPushButton::clicked, this, [this] { exportWithDialog(QStringLiteral("pdf")); });

    fillKindCombo();
    updateSummary();
    applyPlotColours(false);
    plotCurrent();
}

void ProfilePanel::setRunning(bool running) {
    start_->setEnabled(!running);
    repeats_->setEnabled(!running);
    synthetic_->setEnabled(!running);
    cancel_->setEnabled(running);
    calibrate_->setEnabled(!running);
    progress_->setVisible(running);
    if (running) {
        progress_->setRange(0, 0);  // busy until the first progress report
        progress_->setFormat(tr("starting…"));
    }
}

void ProfilePanel::setProgress(const QString& node, const QString& stage, int done, int total) {
    if (total > 0) {
        progress_->setRange(0, total);
        progress_->setValue(std::clamp(done, 0, total));
        progress_->setFormat(QStringLiteral("%1: %2 %3/%4").arg(node, stage).arg(done).arg(total));
    } else {
        progress_->setRange(0, 0);
        progress_->setFormat(QStringLiteral("%1: %2").arg(node, stage));
    }
    progress_->setToolTip(progress_->format());
}

void ProfilePanel::setMessage(const QString& text) {
    status_->setText(text);
    status_->setVisible(!text.isEmpty());
}

void ProfilePanel::setProfiles(const core::store::StoredProfile* device, const core::store::StoredProfile* edge) {
    const core::store::StoredProfile* given[2] = {device, edge};
    for (int n = 0; n < 2; ++n) {
        NodeData d;
        if (const auto* p = given[n]) {
            d.present = true;
            d.id = p->id;
            d.host = p->host;
            d.threads = p->threads;
            d.overheadMs = p->overheadMs;
            d.seconds = p->result.seconds;
            d.layers = p->result.layers;
            d.fits[static_cast<int>(FeatureSet::TableOne)] = p->regressions;
            d.fits[static_cast<int>(FeatureSet::TableOneMacs)] = p->regressionsMacs;
        }
        nodes_[n] = std::move(d);
    }
    fillFits();
    fillKindCombo();
    updateSummary();
    // Keep the fit on screen when the new profiles have it too, else show the first one.
    const int node = nodeCombo_->currentIndex();
    const auto kind = static_cast<LayerKind>(kindCombo_->currentData().toInt());
    const int set = setCombo_->currentData().toInt();
    if (kindCombo_->count() > 0 && nodes_[node].fits[set].count(kind))
        plotCurrent();
    else if (!rows_.empty())
        showFit(QString::fromLatin1(kNodeNames[rows_[0].node]), rows_[0].fit.kind, rows_[0].fit.featureSet);
    else
        plotCurrent();
}

void ProfilePanel::fillFits() {
    rows_.clear();
    for (int n = 0; n < 2; ++n)
        for (const auto kind : core::allLayerKinds())
            for (int set = 0; set < 2; ++set) {
                const auto& fits = nodes_[n].fits[set];
                if (auto it = fits.find(kind); it != fits.end()) rows_.push_back(FitRow{n, it->second});
            }
    const QSignalBlocker block(fits_);
    fits_->setRowCount(static_cast<int>(rows_.size()));
    for (int r = 0; r < static_cast<int>(rows_.size()); ++r) {
        const FitRow& row = rows_[static_cast<size_t>(r)];
        const LinearFit& f = row.fit;
        fits_->setItem(r, 0, item(QString::fromLatin1(kNodeNames[row.node])));
        fits_->setItem(r, 1, item(kindName(f.kind)));
        fits_->setItem(r, 2, item(setName(f.featureSet)));
        fits_->setItem(r, 3, item(QString::number(f.r2, 'f', 3), true));
        fits_->setItem(r, 4, item(mapeText(f), true));
        auto* points = item(QString::number(f.fitted + f.heldOut), true);
        points->setToolTip(tr("%1 fitted, %2 held out").arg(f.fitted).arg(f.heldOut));
        fits_->setItem(r, 5, points);
    }
    fitColumns(fits_, 2);  // the feature set takes the slack
}

void ProfilePanel::fillKindCombo() {
    // Every kind with a fit or a timing on either node; all kinds before any profile exists.
    std::vector<LayerKind> kinds;
    for (const auto kind : core::allLayerKinds()) {
        bool seen = false;
        for (const NodeData& d : nodes_) {
            seen |= d.fits[0].count(kind) > 0 || d.fits[1].count(kind) > 0;
            for (const auto& t : d.layers) seen |= t.kind == kind;
        }
        if (seen) kinds.push_back(kind);
    }
    if (kinds.empty()) kinds = core::allLayerKinds();
    const QVariant previous = kindCombo_->currentData();
    const QSignalBlocker block(kindCombo_);
    kindCombo_->clear();
    for (const auto kind : kinds) kindCombo_->addItem(kindName(kind), static_cast<int>(kind));
    const int keep = previous.isValid() ? kindCombo_->findData(previous) : -1;
    kindCombo_->setCurrentIndex(keep >= 0 ? keep : 0);
}

void ProfilePanel::updateSummary() {
    QStringList lines;
    for (int n = 0; n < 2; ++n) {
        const NodeData& d = nodes_[n];
        const QString node = QString::fromLatin1(kNodeNames[n]);
        if (!d.present) {
            lines << tr("%1: no profile stored for this model yet").arg(node);
            continue;
        }
        const auto model = std::count_if(d.layers.begin(), d.layers.end(), [](const auto& t) { return t.source == "model"; });
        lines << tr("%1: profile #%2 on %3 (%4 threads), %5 model and %6 synthetic layer timings in %7 s, per-message overhead "
                    "%8 ms")
                     .arg(node)
                     .arg(d.id)
                     .arg(QString::fromStdString(d.host))
                     .arg(d.threads)
                     .arg(model)
                     .arg(static_cast<qsizetype>(d.layers.size()) - model)
                     .arg(d.seconds, 0, 'f', 1)
                     .arg(d.overheadMs, 0, 'f', 3);
    }
    summary_->setText(lines.join(QLatin1Char('\n')));
}

bool ProfilePanel::showFit(const QString& node, LayerKind kind, FeatureSet featureSet) {
    const int n = nodeIndex(node);
    {
        const QSignalBlocker b1(nodeCombo_), b2(kindCombo_), b3(setCombo_);
        nodeCombo_->setCurrentIndex(n);
        int k = kindCombo_->findData(static_cast<int>(kind));
        if (k < 0) {
            kindCombo_->addItem(kindName(kind), static_cast<int>(kind));
            k = kindCombo_->count() - 1;
        }
        kindCombo_->setCurrentIndex(k);
        setCombo_->setCurrentIndex(setCombo_->findData(static_cast<int>(featureSet)));
    }
    plotCurrent();
    return nodes_[n].fits[static_cast<int>(featureSet)].count(kind) > 0;
}

void ProfilePanel::showForest(const QString& node, LayerKind kind) {
    {
        const QSignalBlocker b1(nodeCombo_), b2(kindCombo_), b3(setCombo_);
        nodeCombo_->setCurrentIndex(nodeIndex(node));
        int k = kindCombo_->findData(static_cast<int>(kind));
        if (k < 0) {
            kindCombo_->addItem(kindName(kind), static_cast<int>(kind));
            k = kindCombo_->count() - 1;
        }
        kindCombo_->setCurrentIndex(k);
        setCombo_->setCurrentIndex(setCombo_->findData(kForestSet));
    }
    plotCurrent();
}

QString ProfilePanel::plotTitle() const { return title_->text(); }

void ProfilePanel::plotCurrent() {
    const int node = std::max(0, nodeCombo_->currentIndex());
    const auto kind = static_cast<LayerKind>(kindCombo_->currentData().toInt());
    if (setCombo_->currentData().toInt() == kForestSet) {
        const QSignalBlocker block(fits_);
        fits_->clearSelection();
        fits_->setCurrentCell(-1, -1);
        drawForest(node, kind);
        return;
    }
    const auto set = static_cast<FeatureSet>(setCombo_->currentData().toInt());
    // Mirror the choice in the table.
    int match = -1;
    for (size_t r = 0; r < rows_.size(); ++r)
        if (rows_[r].node == node && rows_[r].fit.kind == kind && rows_[r].fit.featureSet == set) match = static_cast<int>(r);
    {
        const QSignalBlocker block(fits_);
        if (match >= 0) {
            fits_->setCurrentCell(match, 0);
            fits_->selectRow(match);
        } else {
            fits_->clearSelection();
            fits_->setCurrentCell(-1, -1);
        }
    }
    drawFit(node, kind, set);
}

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
            fit.push_back(core::plan::LayerSample{t.kind, t.config, t.medianMs});
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
        const auto ms = forest->predictMs(kind, t->config);
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

void ProfilePanel::changeEvent(QEvent* event) {
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::StyleChange) applyPlotColours(false);
    QWidget::changeEvent(event);
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
                                  setCombo_->currentIndex() == 0 ? QStringLiteral("table1") : QStringLiteral("macs"), suffix);
    QString path = QFileDialog::getSaveFileName(this, tr("Export plot"), name, filter);
    if (path.isEmpty()) return;
    if (QFileInfo(path).suffix().toLower() != suffix) path += QLatin1Char('.') + suffix;
    exportPlot(path);
}

}  // namespace edgent::widgets
