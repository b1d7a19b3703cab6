#include "widgets/ProfilePanel.h"
#include "widgets/ProfilePanelParts.h"
#include "widgets/Tables.h"

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
#include <QDoubleSpinBox>
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
using namespace profile_panel;

namespace {

QTableWidgetItem* item(const QString& text, bool number = false) {
    auto* it = new QTableWidgetItem(text);
    it->setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled);
    if (number) it->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return it;
}

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
    adaptive_ = new QSpinBox(this);
    adaptive_->setObjectName("profileAdaptiveRounds");
    adaptive_->setRange(0, 50);
    adaptive_->setValue(3);
    adaptive_->setToolTip(
        tr("Rounds of adaptive sampling after the fixed sweep: each measures 40 new configurations, scores the latency "
           "forest on them first, and explores around the ones it predicted more than 10% off."));
    spread_ = new QSpinBox(this);
    spread_->setObjectName("profileSpread");
    spread_->setRange(1, 100);
    spread_->setValue(Settings{}.spread);
    spread_->setToolTip(
        tr("Spread each layer's repeats over this many passes through everything profiled (1: back to back). A core of a "
           "shared host can run at half speed for seconds; spread, such a stretch reaches only some of each layer's "
           "repeats, and the median describes the host's usual speed."));
    span_ = new QDoubleSpinBox(this);
    span_->setObjectName("profileSpan");
    span_->setRange(0.0, 600.0);
    span_->setDecimals(0);
    span_->setSuffix(tr(" s"));
    span_->setValue(10.0);
    span_->setToolTip(tr("Pace those passes over at least this many seconds on each worker (0: no pacing)."));
    cancel_ = new QPushButton(tr("Cancel"), this);
    cancel_->setObjectName("profileCancelButton");
    cancel_->setEnabled(false);
    controls->addWidget(start_);
    controls->addWidget(new QLabel(tr("repeats"), this));
    controls->addWidget(repeats_);
    controls->addWidget(synthetic_);
    controls->addWidget(new QLabel(tr("adaptive rounds"), this));
    controls->addWidget(adaptive_);
    controls->addWidget(new QLabel(tr("spread"), this));
    controls->addWidget(spread_);
    controls->addWidget(new QLabel(tr("over"), this));
    controls->addWidget(span_);
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

    connect(start_, &QPushButton::clicked, this, &ProfilePanel::requestStart);
    connect(synthetic_, &QCheckBox::toggled, adaptive_, &QSpinBox::setEnabled);
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

void ProfilePanel::requestStart() {
    Q_EMIT startRequested(repeats_->value(), synthetic_->isChecked(), synthetic_->isChecked() ? adaptive_->value() : 0,
                          spread_->value(), span_->value());
}

ProfilePanel::Settings ProfilePanel::settings() const {
    return Settings{repeats_->value(), synthetic_->isChecked(), adaptive_->value(), spread_->value(), span_->value()};
}

void ProfilePanel::setSettings(const Settings& s) {
    repeats_->setValue(s.repeats);
    synthetic_->setChecked(s.synthetic);
    adaptive_->setValue(s.adaptiveRounds);
    spread_->setValue(s.spread);
    span_->setValue(s.spanSeconds);
}

void ProfilePanel::setRunning(bool running) {
    start_->setEnabled(!running);
    repeats_->setEnabled(!running);
    synthetic_->setEnabled(!running);
    adaptive_->setEnabled(!running && synthetic_->isChecked());
    spread_->setEnabled(!running);
    span_->setEnabled(!running);
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

void ProfilePanel::choosePlot(const QString& node, LayerKind kind, int setData) {
    {
        const QSignalBlocker b1(nodeCombo_), b2(kindCombo_), b3(setCombo_);
        nodeCombo_->setCurrentIndex(nodeIndex(node));
        int k = kindCombo_->findData(static_cast<int>(kind));
        if (k < 0) {
            kindCombo_->addItem(kindName(kind), static_cast<int>(kind));
            k = kindCombo_->count() - 1;
        }
        kindCombo_->setCurrentIndex(k);
        setCombo_->setCurrentIndex(setCombo_->findData(setData));
    }
    plotCurrent();
}

bool ProfilePanel::showFit(const QString& node, LayerKind kind, FeatureSet featureSet) {
    choosePlot(node, kind, static_cast<int>(featureSet));
    return nodes_[nodeIndex(node)].fits[static_cast<int>(featureSet)].count(kind) > 0;
}

void ProfilePanel::showForest(const QString& node, LayerKind kind) { choosePlot(node, kind, kForestSet); }

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

void ProfilePanel::changeEvent(QEvent* event) {
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::StyleChange) applyPlotColours(false);
    QWidget::changeEvent(event);
}

}  // namespace edgent::widgets
