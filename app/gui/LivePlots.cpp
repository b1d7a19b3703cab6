#include "app/gui/LivePlots.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>

#include <cmath>

namespace edgent::gui {

namespace {

constexpr size_t kWindow = 100;    // rolling accuracy over this many inferences
constexpr double kFollowS = 30.0;  // seconds shown while following the run
constexpr int kMaxMarkers = 300;

QColor tone(int i, int alpha = 255) {
    // Colour-blind-safe (Okabe-Ito), readable on light and dark palettes.
    static const QColor c[] = {QColor(0, 114, 178),   QColor(230, 159, 0), QColor(0, 158, 115),
                               QColor(204, 121, 167), QColor(213, 94, 0),  QColor(86, 180, 233)};
    QColor x = c[i % 6];
    x.setAlpha(alpha);
    return x;
}

// Appends to a step plot, keeping only the points where the value changes and the latest
// one: a step plot of 10^6 inferences with a handful of switches holds a handful of points.
void appendStep(QCPGraph* g, double t, double v) {
    auto d = g->data();
    const int n = d->size();
    if (n >= 2 && (d->constEnd() - 1)->value == v && (d->constEnd() - 2)->value == v) d->remove((d->constEnd() - 1)->key);
    d->add(QCPGraphData(t, v));
}

}  // namespace

LivePlots::LivePlots(QWidget* parent) : QWidget(parent), window_(kWindow, 0), sentWindow_(kWindow, 0) {
    auto* layout = new QVBoxLayout(this);
    auto* bar = new QHBoxLayout;
    readout_ = new QLabel(tr("No run yet."), this);
    readout_->setObjectName("liveReadout");
    readout_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);  // long text never widens the window
    followBox_ = new QCheckBox(tr("Follow"), this);
    followBox_->setChecked(true);
    auto* png = new QPushButton(tr("Export PNG…"), this);
    auto* pdf = new QPushButton(tr("Export PDF…"), this);
    bar->addWidget(readout_, 1);
    bar->addWidget(followBox_);
    bar->addWidget(png);
    bar->addWidget(pdf);
    layout->addLayout(bar);

    plot_ = new QCustomPlot(this);
    plot_->setObjectName("livePlot");
    plot_->setMinimumHeight(420);
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot_->setNoAntialiasingOnDrag(true);
    plot_->setAutoAddPlottableToLegend(false);
    // Speed over polish while a run streams: no antialiasing of data, fast polylines.
    plot_->setNotAntialiasedElements(QCP::aePlottables | QCP::aeFills | QCP::aeScatters | QCP::aeItems);
    plot_->setPlottingHints(QCP::phFastPolylines | QCP::phCacheLabels);
    plot_->plotLayout()->clear();
    const QPalette pal = palette();
    plot_->setBackground(pal.color(QPalette::Base));

    auto makeRect = [&](const QString& yLabel) {
        auto* r = new QCPAxisRect(plot_);
        r->axis(QCPAxis::atLeft)->setLabel(yLabel);
        r->setRangeDrag(Qt::Horizontal);
        r->setRangeZoom(Qt::Horizontal);
        for (auto* a : r->axes()) {
            a->setBasePen(QPen(pal.color(QPalette::Text)));
            a->setTickPen(QPen(pal.color(QPalette::Text)));
            a->setSubTickPen(QPen(pal.color(QPalette::Text)));
            a->setTickLabelColor(pal.color(QPalette::Text));
            a->setLabelColor(pal.color(QPalette::Text));
            a->grid()->setPen(QPen(pal.color(QPalette::Mid), 0, Qt::DotLine));
        }
        return r;
    };
    latencyRect_ = makeRect(tr("latency (ms)"));
    accuracyRect_ = makeRect(tr("rolling (%)"));
    energyRect_ = makeRect(tr("energy (mJ)"));
    configRect_ = makeRect(tr("exit / partition"));
    plot_->plotLayout()->addElement(0, 0, latencyRect_);
    plot_->plotLayout()->addElement(1, 0, accuracyRect_);
    plot_->plotLayout()->addElement(2, 0, energyRect_);
    plot_->plotLayout()->addElement(3, 0, configRect_);
    plot_->plotLayout()->setRowStretchFactors({3.0, 1.2, 1.2, 1.2});
    configRect_->axis(QCPAxis::atBottom)->setLabel(tr("time since the run started (s)"));
    // One time axis for all four.
    auto* group = new QCPMarginGroup(plot_);
    for (auto* r : {latencyRect_, accuracyRect_, energyRect_, configRect_}) {
        r->setMarginGroup(QCP::msLeft | QCP::msRight, group);
        connect(r->axis(QCPAxis::atBottom), qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this,
                [this](const QCPRange& range) {
                    for (auto* o : {latencyRect_, accuracyRect_, energyRect_, configRect_})
                        if (o->axis(QCPAxis::atBottom)->range() != range) o->axis(QCPAxis::atBottom)->setRange(range);
                });
    }
    auto graph = [&](QCPAxisRect* r, const QColor& c, const QString& name) {
        auto* g = plot_->addGraph(r->axis(QCPAxis::atBottom), r->axis(QCPAxis::atLeft));
        g->setPen(QPen(c, 1.2));
        g->setName(name);
        g->setAdaptiveSampling(true);
        return g;
    };
    // Breakdown of every inference as a bar (device, then transfer, then edge stacked on it):
    // bars keep a bimodal run readable, where early exits (fast, on the device) and offloaded
    // inputs (slow) alternate and a filled area would zigzag between the two.
    stacked_ = graph(latencyRect_, tone(2, 170), tr("edge"));
    stacked_->setLineStyle(QCPGraph::lsImpulse);
    deviceTransfer_ = graph(latencyRect_, tone(1, 190), tr("transfer"));
    deviceTransfer_->setLineStyle(QCPGraph::lsImpulse);
    device_ = graph(latencyRect_, tone(0, 210), tr("device"));
    device_->setLineStyle(QCPGraph::lsImpulse);
    total_ = graph(latencyRect_, pal.color(QPalette::Text), tr("measured"));
    total_->setLineStyle(QCPGraph::lsNone);
    total_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 2.5));
    predicted_ = graph(latencyRect_, tone(4), tr("predicted"));
    predicted_->setPen(QPen(tone(4), 1.6, Qt::DashLine));
    predicted_->setLineStyle(QCPGraph::lsStepLeft);
    latencyRect_->insetLayout()->addElement(new QCPLegend, Qt::AlignTop | Qt::AlignRight);
    auto* legend = qobject_cast<QCPLegend*>(latencyRect_->insetLayout()->elementAt(0));
    legend->setLayer(QStringLiteral("legend"));
    legend->setBrush(pal.color(QPalette::Base));
    legend->setTextColor(pal.color(QPalette::Text));
    for (auto* g : {total_, predicted_, device_, deviceTransfer_, stacked_}) g->addToLegend(legend);
    accuracy_ = graph(accuracyRect_, tone(2), tr("accuracy"));
    offload_ = graph(accuracyRect_, tone(1), tr("offloaded to the edge"));
    accuracyRect_->axis(QCPAxis::atLeft)->setRange(0, 105);
    accuracyRect_->insetLayout()->addElement(new QCPLegend, Qt::AlignBottom | Qt::AlignRight);
    auto* rollingLegend = qobject_cast<QCPLegend*>(accuracyRect_->insetLayout()->elementAt(0));
    rollingLegend->setBrush(pal.color(QPalette::Base));
    rollingLegend->setTextColor(pal.color(QPalette::Text));
    accuracy_->addToLegend(rollingLegend);
    offload_->addToLegend(rollingLegend);
    energy_ = graph(energyRect_, tone(3), tr("energy"));
    energy_->setLineStyle(QCPGraph::lsNone);
    energy_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 2.5));
    exit_ = graph(configRect_, tone(5), tr("exit"));
    exit_->setLineStyle(QCPGraph::lsStepLeft);
    partition_ = graph(configRect_, tone(4), tr("partition"));
    partition_->setLineStyle(QCPGraph::lsStepLeft);
    exitTaken_ = graph(configRect_, tone(2), tr("exit taken"));
    exitTaken_->setLineStyle(QCPGraph::lsNone);
    exitTaken_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 3.0));
    configRect_->insetLayout()->addElement(new QCPLegend, Qt::AlignTop | Qt::AlignRight);
    auto* configLegend = qobject_cast<QCPLegend*>(configRect_->insetLayout()->elementAt(0));
    configLegend->setBrush(pal.color(QPalette::Base));
    configLegend->setTextColor(pal.color(QPalette::Text));
    exit_->addToLegend(configLegend);
    partition_->addToLegend(configLegend);
    exitTaken_->addToLegend(configLegend);
    layout->addWidget(plot_, 1);

    // Dragging or zooming stops following; double-click follows again.
    connect(plot_, &QCustomPlot::mousePress, this, [this] { followBox_->setChecked(false); });
    connect(plot_, &QCustomPlot::mouseWheel, this, [this] { followBox_->setChecked(false); });
    connect(plot_, &QCustomPlot::mouseDoubleClick, this, [this] {
        followBox_->setChecked(true);
        replotNow();
    });
    auto ask = [this](const QString& filter) {
        const QString f = QFileDialog::getSaveFileName(this, tr("Export plots"), QString(), filter);
        if (!f.isEmpty()) Q_EMIT exported(f, exportTo(f));
    };
    connect(png, &QPushButton::clicked, this, [ask] { ask(tr("PNG image (*.png)")); });
    connect(pdf, &QPushButton::clicked, this, [ask] { ask(tr("PDF document (*.pdf)")); });
    auto* timer = new QTimer(this);
    timer->setInterval(33);
    connect(timer, &QTimer::timeout, this, &LivePlots::refresh);
    timer->start();
}

void LivePlots::clear() {
    for (auto* g :
         {total_, predicted_, device_, deviceTransfer_, stacked_, accuracy_, offload_, energy_, exit_, partition_, exitTaken_})
        g->data()->clear();
    std::fill(sentWindow_.begin(), sentWindow_.end(), 0);
    windowSent_ = 0;
    exitCounts_.clear();
    plot_->clearItems();
    markers_ = 0;
    points_ = 0;
    lastT_ = 0.0;
    partitionMax_ = 1;
    std::fill(window_.begin(), window_.end(), 0);
    windowNext_ = 0;
    windowCorrect_ = 0;
    setDeadlineMs(deadlineMs_);
    readout_->setText(tr("Waiting for samples…"));
    dirty_ = true;
}

void LivePlots::setDeadlineMs(double ms) {
    deadlineMs_ = ms;
    static const char* kTag = "deadline";
    for (int i = plot_->itemCount() - 1; i >= 0; --i)
        if (plot_->item(i)->property(kTag).toBool()) plot_->removeItem(i);
    if (ms <= 0) return;
    auto* line = new QCPItemStraightLine(plot_);
    line->setProperty(kTag, true);
    line->setClipAxisRect(latencyRect_);
    line->point1->setAxes(latencyRect_->axis(QCPAxis::atBottom), latencyRect_->axis(QCPAxis::atLeft));
    line->point2->setAxes(latencyRect_->axis(QCPAxis::atBottom), latencyRect_->axis(QCPAxis::atLeft));
    line->point1->setCoords(0, ms);
    line->point2->setCoords(1, ms);
    line->setPen(QPen(QColor(207, 34, 46), 1.5, Qt::DashDotLine));
    dirty_ = true;
}

void LivePlots::addSamples(const std::vector<LiveSample>& samples) {
    for (const LiveSample& x : samples) {
        const auto& s = x.row.sample;
        const double t = x.tSeconds;
        device_->addData(t, s.deviceMs);
        deviceTransfer_->addData(t, s.deviceMs + s.transferMs);
        stacked_->addData(t, s.deviceMs + s.transferMs + s.edgeMs);
        total_->addData(t, s.totalMs);
        if (!std::isnan(x.row.predictedMs)) appendStep(predicted_, t, x.row.predictedMs);
        windowCorrect_ += s.correct() - window_[windowNext_];
        window_[windowNext_] = s.correct() ? 1 : 0;
        windowNext_ = (windowNext_ + 1) % kWindow;
        const auto seen = static_cast<double>(std::min<int64_t>(points_ + 1, static_cast<int64_t>(kWindow)));
        accuracy_->addData(t, 100.0 * windowCorrect_ / seen);
        windowSent_ += (s.sentToEdge ? 1 : 0) - sentWindow_[windowNext_ == 0 ? kWindow - 1 : windowNext_ - 1];
        sentWindow_[windowNext_ == 0 ? kWindow - 1 : windowNext_ - 1] = s.sentToEdge ? 1 : 0;
        offload_->addData(t, 100.0 * windowSent_ / seen);
        const int taken = s.exitTaken >= 0 ? s.exitTaken : s.exit;
        if (taken != s.exit || s.exitTaken >= 0) exitTaken_->addData(t, taken);
        if (taken >= 0 && taken < 64) {
            if (exitCounts_.size() <= static_cast<size_t>(taken)) exitCounts_.resize(static_cast<size_t>(taken) + 1, 0);
            ++exitCounts_[static_cast<size_t>(taken)];
        }
        if (!std::isnan(x.row.energyMj)) energy_->addData(t, x.row.energyMj);
        appendStep(exit_, t, s.exit);
        appendStep(partition_, t, s.partition);
        partitionMax_ = std::max(partitionMax_, s.partition);
        lastT_ = std::max(lastT_, t);
        ++points_;
    }
    if (!samples.empty()) {
        const auto& last = samples.back();
        const auto& s = last.row.sample;
        QString exits;
        for (size_t e = 0; e < exitCounts_.size(); ++e)
            if (exitCounts_[e] > 0)
                exits += (exits.isEmpty() ? QString() : QStringLiteral(", ")) +
                         tr("%1: %2%").arg(e).arg(100.0 * static_cast<double>(exitCounts_[e]) / static_cast<double>(points_), 0,
                                                  'f', 0);
        readout_->setText(tr("%1 inferences · last: exit %2, partition %3, %4 ms (device %5 + transfer %6 + edge %7) · "
                             "rolling accuracy %8% · exits taken %9")
                              .arg(points_)
                              .arg(s.exitTaken >= 0 ? s.exitTaken : s.exit)
                              .arg(s.partition)
                              .arg(s.totalMs, 0, 'f', 2)
                              .arg(s.deviceMs, 0, 'f', 2)
                              .arg(s.transferMs, 0, 'f', 2)
                              .arg(s.edgeMs, 0, 'f', 2)
                              .arg(accuracy_->data()->isEmpty() ? 0.0 : (accuracy_->data()->constEnd() - 1)->value, 0, 'f', 1)
                              .arg(exits));
    }
    dirty_ = true;
}

void LivePlots::addMarker(double t, core::net::EventKind kind, const QString& label) {
    using core::net::EventKind;
    if (markers_ >= kMaxMarkers) return;
    ++markers_;
    const QColor c = kind == EventKind::ChangePoint ? QColor(204, 121, 167)
                     : kind == EventKind::Plan      ? QColor(0, 158, 115)
                                                    : QColor(128, 128, 128);
    // Each kind labels its own row, so a slider move and the plan it causes stay readable.
    const double row = kind == EventKind::Plan ? 0.02 : kind == EventKind::ChangePoint ? 0.12 : 0.07;
    for (auto* r : {latencyRect_, configRect_}) {
        auto* line = new QCPItemStraightLine(plot_);
        line->setClipAxisRect(r);
        line->point1->setAxes(r->axis(QCPAxis::atBottom), r->axis(QCPAxis::atLeft));
        line->point2->setAxes(r->axis(QCPAxis::atBottom), r->axis(QCPAxis::atLeft));
        line->point1->setCoords(t, 0);
        line->point2->setCoords(t, 1);
        line->setPen(QPen(c, 1, Qt::DotLine));
    }
    auto* text = new QCPItemText(plot_);
    text->setClipAxisRect(latencyRect_);
    text->position->setAxes(latencyRect_->axis(QCPAxis::atBottom), latencyRect_->axis(QCPAxis::atLeft));
    text->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
    text->position->setCoords(t, row);
    text->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
    text->setText(label);
    text->setColor(c);
    text->setFont(QFont(font().family(), std::max(7, font().pointSize() - 2)));
    dirty_ = true;
}

namespace {

// The largest value a graph shows between two times (its data are sorted by time).
double visibleMax(QCPGraph* g, double from, double to) {
    double m = 0.0;
    const auto data = g->data();
    for (auto it = data->findBegin(from); it != data->findEnd(to); ++it) m = std::max(m, it->value);
    return m;
}

}  // namespace

void LivePlots::follow() {
    if (!followBox_->isChecked()) return;
    const double hi = std::max(lastT_, 1.0);
    const double lo = std::max(0.0, hi - kFollowS);
    latencyRect_->axis(QCPAxis::atBottom)->setRange(lo, hi + 0.5);
    // The value axes fit what is in view: one slow inference (a cold first pass, a hiccup)
    // scrolls out instead of flattening the rest of the run.
    const double latency = std::max({visibleMax(total_, lo, hi), visibleMax(predicted_, lo, hi), deadlineMs_, 1.0});
    latencyRect_->axis(QCPAxis::atLeft)->setRange(0, latency * 1.1);
    energyRect_->axis(QCPAxis::atLeft)->setRange(0, std::max(visibleMax(energy_, lo, hi), 1e-3) * 1.1);
    configRect_->axis(QCPAxis::atLeft)->setRange(-0.5, partitionMax_ + 1.5);
}

void LivePlots::refresh() {
    if (!dirty_ || !isVisible()) return;
    dirty_ = false;
    follow();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void LivePlots::replotNow() {
    dirty_ = false;
    follow();
    plot_->replot(QCustomPlot::rpImmediateRefresh);
}

void LivePlots::setFollowing(bool on) { followBox_->setChecked(on); }

void LivePlots::showRange(double fromS, double toS) {
    latencyRect_->axis(QCPAxis::atBottom)->setRange(fromS, toS);  // the others follow it
}

bool LivePlots::exportTo(const QString& path) {
    follow();
    const int w = std::max(plot_->width(), 1000), h = std::max(plot_->height(), 800);
    if (path.endsWith(QLatin1String(".pdf"), Qt::CaseInsensitive)) return plot_->savePdf(path, w, h);
    return plot_->savePng(path, w, h, 2.0);
}

}  // namespace edgent::gui
