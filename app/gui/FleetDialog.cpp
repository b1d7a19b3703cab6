#include "app/gui/FleetDialog.h"
#include "app/gui/FleetProjectionDialog.h"
#include "app/gui/Named.h"

#include "core/control/ProfileRun.h"
#include "core/energy/PowerModel.h"
#include "core/store/Export.h"
#include "core/store/RunStore.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace edgent::gui {

using namespace edgent::core;

FleetDialog::FleetDialog(std::shared_ptr<const ModelBytes> model, QString dbPath, QWidget* parent)
    : QDialog(parent), model_(std::move(model)), dbPath_(std::move(dbPath)) {
    setWindowTitle(tr("Fleet of devices sharing edges"));
    QSettings s;
    devices_ = named(new QSpinBox(this), "fleetDevices");
    devices_->setRange(1, 16);
    devices_->setValue(s.value("fleet/devices", 4).toInt());
    edges_ = named(new QSpinBox(this), "fleetEdges");
    edges_->setRange(1, control::kMaxFleetEdges);
    edges_->setValue(s.value("fleet/edges", 1).toInt());
    edges_->setToolTip(tr("Local edge workers to spawn: device i is served by edge i mod N, a device added later by the "
                          "edge serving the fewest, and each edge's devices are planned against it alone."));
    planning_ = named(new QComboBox(this), "fleetPlanning");
    planning_->addItem(tr("joint (against the edge's capacity)"), QStringLiteral("joint"));
    planning_->addItem(tr("paced (against the queue devices at this rate form)"), QStringLiteral("paced"));
    planning_->addItem(tr("independent (each device alone)"), QStringLiteral("independent"));
    planning_->setCurrentIndex(std::max(0, planning_->findData(s.value("fleet/planning", "joint").toString())));
    bandwidth_ = named(new QDoubleSpinBox(this), "fleetBandwidth");
    bandwidth_->setRange(0.05, 1000.0);
    bandwidth_->setSuffix(tr(" Mbit/s"));
    bandwidth_->setValue(s.value("fleet/bandwidthMbps", 4.0).toDouble());
    deadline_ = named(new QDoubleSpinBox(this), "fleetDeadline");
    deadline_->setRange(1.0, 10000.0);
    deadline_->setSuffix(tr(" ms"));
    deadline_->setValue(s.value("fleet/deadlineMs", 20.0).toDouble());
    rate_ = named(new QDoubleSpinBox(this), "fleetRate");
    rate_->setRange(0.0, 1000.0);
    rate_->setSpecialValueText(tr("back-to-back"));
    rate_->setSuffix(tr(" per second"));
    rate_->setValue(s.value("fleet/rateHz", 20.0).toDouble());
    count_ = named(new QSpinBox(this), "fleetCount");
    count_->setRange(0, 1000000);
    count_->setSpecialValueText(tr("until stopped"));
    count_->setValue(s.value("fleet/count", 200).toInt());
    slowdown_ = named(new QDoubleSpinBox(this), "fleetSlowdown");
    slowdown_->setRange(1.0, 1000.0);
    slowdown_->setDecimals(1);
    slowdown_->setValue(s.value("fleet/slowdown", 4.0).toDouble());
    slowdown_->setToolTip(tr("Emulated device slowdown; the devices sleep it out so that they can share this host's "
                             "cores. Profile the device the same way (edgent profile --slowdown-wait sleep)."));
    deviceList_ = named(new QLineEdit(s.value("fleet/deviceList").toString(), this), "fleetDeviceList");
    deviceList_->setPlaceholderText(tr("spawn local devices"));
    deviceList_->setToolTip(tr("Running device workers to drive, their control endpoints comma-separated (e.g. "
                               "tcp://10.0.0.2:5555,tcp://10.0.0.3:5555); empty: spawn the number above on this host."));
    edge_ = named(new QLineEdit(s.value("fleet/edge").toString(), this), "fleetEdge");
    edge_->setPlaceholderText(tr("spawn local edges"));
    edge_->setToolTip(tr("Running edge workers' control endpoints, comma-separated; needed with a device list."));
    shapedOutside_ = named(new QCheckBox(tr("links shaped outside (tc): plan at the bandwidth, shape nothing"), this),
                           "fleetShapedOutside");
    shapedOutside_->setChecked(s.value("fleet/shapedOutside", false).toBool());
    auto* form = new QFormLayout;
    form->addRow(tr("Devices"), devices_);
    form->addRow(tr("Edges"), edges_);
    form->addRow(tr("Planning"), planning_);
    form->addRow(tr("Bandwidth per device"), bandwidth_);
    form->addRow(tr("Deadline"), deadline_);
    form->addRow(tr("Input rate per device"), rate_);
    form->addRow(tr("Inputs per device"), count_);
    form->addRow(tr("Device slowdown"), slowdown_);
    form->addRow(tr("Devices at"), deviceList_);
    form->addRow(tr("Edge at"), edge_);
    form->addRow(QString(), shapedOutside_);

    start_ = named(new QPushButton(tr("Start"), this), "fleetStart");
    stop_ = named(new QPushButton(tr("Stop"), this), "fleetStop");
    add_ = named(new QPushButton(tr("Add device"), this), "fleetAdd");
    remove_ = named(new QPushButton(tr("Remove selected"), this), "fleetRemove");
    save_ = named(new QPushButton(tr("Save plot…"), this), "fleetSavePlot");
    project_ = named(new QPushButton(tr("Project…"), this), "fleetProject");
    project_->setToolTip(tr("Plan the fleet that ended anew at larger sizes, from its measured service model "
                            "(edgent fleet-sim --replan)."));
    export_ = named(new QPushButton(tr("Export samples…"), this), "fleetExport");
    export_->setToolTip(tr("The fleet that ended: the selected devices' samples, or every device's, in one CSV."));
    connect(export_, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export samples"), QString(), tr("CSV (*.csv)"));
        if (!path.isEmpty()) exportSamples(path);
    });
    connect(project_, &QPushButton::clicked, this, [this] {
        if (auto* d = openProjection()) d->show();
    });
    connect(start_, &QPushButton::clicked, this, &FleetDialog::start);
    connect(stop_, &QPushButton::clicked, this, &FleetDialog::stop);
    connect(add_, &QPushButton::clicked, this, &FleetDialog::addDevice);
    connect(remove_, &QPushButton::clicked, this, &FleetDialog::removeSelected);
    connect(save_, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save plot"), QString(), tr("PDF (*.pdf);;PNG (*.png)"));
        if (!path.isEmpty() && !savePlot(path)) fail(tr("could not write %1").arg(path));
    });
    auto* buttons = new QHBoxLayout;
    for (QPushButton* b : {start_, stop_, add_, remove_, save_, export_, project_}) buttons->addWidget(b);

    table_ = named(new QTableWidget(0, 8, this), "fleetTable");
    table_->setHorizontalHeaderLabels(
        {tr("device"), tr("run"), tr("state"), tr("plan"), tr("bound ms"), tr("inputs"), tr("edge"), tr("end")});
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);

    plot_ = named(new QCustomPlot(this), "fleetPlot");
    plot_->setMinimumHeight(180);
    throughput_ = plot_->addGraph(plot_->xAxis, plot_->yAxis2);
    throughput_->setName(tr("answered per second, every edge"));
    throughput_->setPen(QPen(QColor(40, 90, 200), 2));
    plot_->xAxis->setLabel(tr("time (s)"));
    plot_->yAxis->setLabel(tr("edge queue (frames)"));
    plot_->yAxis2->setLabel(tr("frames answered per second"));
    plot_->yAxis2->setVisible(true);
    plot_->legend->setVisible(true);
    // The devices' lanes: each device's end-to-end latency per input, on its own stream's clock.
    lanes_ = new QCPAxisRect(plot_);
    plot_->plotLayout()->addElement(1, 0, lanes_);
    lanes_->axis(QCPAxis::atBottom)->setLabel(tr("time since the device's stream started (s)"));
    lanes_->axis(QCPAxis::atLeft)->setLabel(tr("latency (ms)"));
    deadlineLine_ = new QCPItemStraightLine(plot_);
    for (QCPItemPosition* end : {deadlineLine_->point1, deadlineLine_->point2}) {
        end->setAxes(lanes_->axis(QCPAxis::atBottom), lanes_->axis(QCPAxis::atLeft));
        end->setAxisRect(lanes_);
    }
    deadlineLine_->setClipAxisRect(lanes_);
    deadlineLine_->setPen(QPen(Qt::gray, 1, Qt::DashLine));
    lane_ = named(new QComboBox(this), "fleetLane");
    lane_->addItem(tr("every device"), -1);
    lane_->setToolTip(tr("Whose latency the lower plot shows; the dashed line is the deadline."));
    connect(lane_, &QComboBox::currentIndexChanged, this, &FleetDialog::showLane);

    status_ = named(new QLabel(tr("Runs its own local edge and devices, or drives running ones; the runs go into %1.").arg(dbPath_), this), "fleetStatus");
    status_->setWordWrap(true);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addLayout(buttons);
    layout->addWidget(table_, 1);
    auto* laneRow = new QHBoxLayout;
    laneRow->addWidget(new QLabel(tr("Latency lanes of"), this));
    laneRow->addWidget(lane_, 1);
    layout->addLayout(laneRow);
    layout->addWidget(plot_, 2);
    layout->addWidget(status_);
    resize(760, 820);
    updateButtons();
}

FleetDialog::~FleetDialog() {
    if (starter_.joinable()) starter_.join();
    fleet_.reset();  // stops it as interrupted and waits for its end
}

void FleetDialog::updateButtons() {
    start_->setEnabled(!running());
    stop_->setEnabled(fleet_ != nullptr);
    add_->setEnabled(fleet_ != nullptr);
    remove_->setEnabled(fleet_ != nullptr);
    project_->setEnabled(!running() && lastFleetId_ > 0);
    export_->setEnabled(!running() && lastFleetId_ > 0);
}

bool FleetDialog::exportSamples(const QString& path) {
    if (running() || lastFleetId_ <= 0) return false;
    std::vector<int> devices;
    for (const auto& range : table_->selectedRanges())
        for (int r = range.topRow(); r <= range.bottomRow(); ++r) devices.push_back(table_->item(r, 0)->text().toInt());
    auto db = store::RunStore::open(dbPath_.toStdString(), store::RunStore::Mode::ReadOnly);
    auto runs = db ? store::exportFleetCsv(**db, lastFleetId_, devices, path.toStdString()) : Result<int>(makeError(db.error()));
    if (!runs) {
        status_->setText(tr("Error: %1").arg(QString::fromStdString(runs.error())));
        return false;
    }
    status_->setText(tr("Fleet %1: %n device run(s) written to %2.", nullptr, *runs).arg(lastFleetId_).arg(path));
    return true;
}

FleetProjectionDialog* FleetDialog::openProjection() {
    if (running() || lastFleetId_ <= 0) return nullptr;
    auto* d = new FleetProjectionDialog(model_, dbPath_, lastFleetId_, this);
    d->setAttribute(Qt::WA_DeleteOnClose);
    return d;
}

void FleetDialog::saveSettings() const {
    QSettings s;
    s.setValue("fleet/devices", devices_->value());
    s.setValue("fleet/edges", edges_->value());
    s.setValue("fleet/planning", planning_->currentData().toString());
    s.setValue("fleet/bandwidthMbps", bandwidth_->value());
    s.setValue("fleet/deadlineMs", deadline_->value());
    s.setValue("fleet/rateHz", rate_->value());
    s.setValue("fleet/count", count_->value());
    s.setValue("fleet/slowdown", slowdown_->value());
    s.setValue("fleet/deviceList", deviceList_->text());
    s.setValue("fleet/edge", edge_->text());
    s.setValue("fleet/shapedOutside", shapedOutside_->isChecked());
}

void FleetDialog::fail(const QString& why) {
    status_->setText(tr("Error: %1").arg(why));
    Q_EMIT finished(false, why);
}

void FleetDialog::start() {
    if (running()) return;
    if (!model_) return fail(tr("no model is loaded"));
    std::vector<std::string> endpoints;
    for (const QString& ep : deviceList_->text().split(',', Qt::SkipEmptyParts)) endpoints.push_back(ep.trimmed().toStdString());
    std::vector<std::string> edgeEndpoints;
    for (const QString& ep : edge_->text().split(',', Qt::SkipEmptyParts)) edgeEndpoints.push_back(ep.trimmed().toStdString());
    if (!endpoints.empty() && edgeEndpoints.empty()) return fail(tr("a device list needs the edge's endpoint"));
    if (endpoints.empty() && !edgeEndpoints.empty()) return fail(tr("a running edge needs running devices: give the device list"));
    if (endpoints.empty() && shapedOutside_->isChecked())
        return fail(tr("local devices are shaped by the workbench: links shaped outside need a device list"));
    saveSettings();
    // The plan's inputs come from the store, as `edgent run --devices` reads them.
    auto db = store::RunStore::open(dbPath_.toStdString());
    if (!db) return fail(QString::fromStdString(db.error()));
    const store::ModelRecord record = store::modelRecord(*model_);
    auto modelId = (*db)->upsertModel(record);
    if (!modelId) return fail(QString::fromStdString(modelId.error()));
    auto power = energy::powerProfile("laptop");
    if (!power) return fail(QString::fromStdString(power.error()));
    auto context = control::planContextFor(**db, model_->file, record.hash, "auto", *power);
    if (!context) return fail(QString::fromStdString(context.error()));
    control::FleetOptions o;
    o.run.dbPath = dbPath_.toStdString();
    o.run.modelId = *modelId;
    o.run.modelHash = record.hash;
    o.run.source = "workbench window fleet";
    o.run.count = count_->value();
    o.run.rateHz = rate_->value();
    o.run.power = *power;
    o.run.keepSamples = true;
    o.planning.context = std::move(*context);
    o.planning.goal.deadlineMs = deadline_->value();
    o.planning.predictor = o.planning.context.predictor;
    o.fleetPlanning = planning_->currentData().toString().toStdString();
    o.bandwidthsBps.assign(endpoints.empty() ? static_cast<size_t>(devices_->value()) : endpoints.size(),
                           bandwidth_->value() * 1e6);
    o.deviceEndpoints = endpoints;
    o.edgeEndpoints = edgeEndpoints;
    o.edges = edges_->value();
    o.shapeLinks = !shapedOutside_->isChecked();
    o.model = *model_;
    o.deviceSlowdown = slowdown_->value();
    deadlineMs_ = o.planning.goal.deadlineMs;
    control::FleetObserver obs;
    QPointer<FleetDialog> self(this);
    obs.onDevices = [self](const std::vector<control::FleetDeviceStatus>& d) {
        QMetaObject::invokeMethod(self, [self, d] { if (self) self->showDevices(d); }, Qt::QueuedConnection);
    };
    obs.onEdge = [self](const store::FleetEdgeRow& row) {
        QMetaObject::invokeMethod(self, [self, row] { if (self) self->addEdgePoint(row); }, Qt::QueuedConnection);
    };
    obs.onSample = [self](int device, const store::SampleRow& row) {
        const double t = row.sample.deviceTimeMs / 1000.0, ms = row.sample.totalMs;
        if (row.sample.busy) return;  // shed: counted in the table's summary, no latency to draw
        QMetaObject::invokeMethod(self, [self, device, t, ms] { if (self) self->addSample(device, t, ms); }, Qt::QueuedConnection);
    };
    obs.onFinished = [self](const control::FleetOutcome&) {
        QMetaObject::invokeMethod(self, [self] { if (self) self->ended(); }, Qt::QueuedConnection);
    };
    throughput_->data()->clear();
    for (auto& [edge, graph] : queueGraphs_) plot_->removeGraph(graph);
    queueGraphs_.clear();
    edgeFrames_.clear();
    edgeCount_ = edgeEndpoints.empty() ? o.edges : static_cast<int>(edgeEndpoints.size());
    for (auto& [device, graph] : laneGraphs_) plot_->removeGraph(graph);
    laneGraphs_.clear();
    while (lane_->count() > 1) lane_->removeItem(lane_->count() - 1);
    deadlineLine_->point1->setCoords(0, deadlineMs_);
    deadlineLine_->point2->setCoords(1, deadlineMs_);
    table_->setRowCount(0);
    starting_ = true;
    status_->setText(tr("Starting %1 edge(s) and %n device(s)…", nullptr, static_cast<int>(o.bandwidthsBps.size())).arg(edgeCount_));
    updateButtons();
    if (starter_.joinable()) starter_.join();
    starter_ = std::thread([self, o = std::move(o), obs = std::move(obs)]() mutable {
        // The thread's boundary: FleetRun::start reports every failure as a result.
        auto fleet = control::FleetRun::start(std::move(o), std::move(obs));
        auto shared = std::make_shared<Result<std::unique_ptr<control::FleetRun>>>(std::move(fleet));
        QMetaObject::invokeMethod(
            self,
            [self, shared] {
                if (!self) return;
                self->starting_ = false;
                if (!*shared) {
                    self->updateButtons();
                    return self->fail(QString::fromStdString(shared->error()));
                }
                self->fleet_ = std::move(**shared);
                self->status_->setText(tr("Fleet %1 running.").arg(self->fleet_->fleetId()));
                self->showDevices(self->fleet_->devices());
                self->updateButtons();
            },
            Qt::QueuedConnection);
    });
}

void FleetDialog::stop() {
    if (fleet_) fleet_->stop("finished");
}

void FleetDialog::addDevice() {
    if (fleet_) fleet_->addDevice(bandwidth_->value() * 1e6);
}

void FleetDialog::removeSelected() {
    if (!fleet_) return;
    for (const auto& range : table_->selectedRanges())
        for (int r = range.topRow(); r <= range.bottomRow(); ++r) fleet_->removeDevice(r);
}

void FleetDialog::showDevices(const std::vector<control::FleetDeviceStatus>& devices) {
    table_->setRowCount(static_cast<int>(devices.size()));
    for (size_t i = 0; i < devices.size(); ++i) {
        const auto& d = devices[i];
        const QStringList cells{QString::number(d.device),
                                d.runId ? QString::number(d.runId) : QString(),
                                QString::fromStdString(d.state),
                                QString::fromStdString(plan::describePlan(d.plan)),
                                QString::number(d.boundMs, 'f', 1),
                                QString::number(d.samples),
                                QString::number(d.edge),
                                QString::fromStdString(d.endReason)};
        for (int c = 0; c < cells.size(); ++c) table_->setItem(static_cast<int>(i), c, new QTableWidgetItem(cells[c]));
    }
}

void FleetDialog::addEdgePoint(const store::FleetEdgeRow& row) {
    const double t = row.tMs / 1000.0;
    auto queue = queueGraphs_.find(row.edge);
    if (queue == queueGraphs_.end()) {
        static const QColor colours[] = {{200, 60, 40}, {230, 150, 30}, {120, 60, 160}, {40, 150, 120}};
        QCPGraph* g = plot_->addGraph();
        g->setName(edgeCount_ > 1 ? tr("edge %1 queue (frames)").arg(row.edge) : tr("edge queue (frames)"));
        g->setPen(QPen(colours[static_cast<size_t>(row.edge) % std::size(colours)], 2));
        queue = queueGraphs_.emplace(row.edge, g).first;
    }
    queue->second->addData(t, static_cast<double>(row.queueLength));
    // Every edge's answers per second over its last poll, summed (an edge that died no longer adds).
    EdgeFrames& f = edgeFrames_[row.edge];
    if (f.t >= 0 && t > f.t) f.rate = static_cast<double>(row.framesOut - f.framesOut) / (t - f.t);
    f.t = t;
    f.framesOut = row.framesOut;
    double sum = 0.0;
    bool known = f.rate >= 0;
    for (const auto& [edge, x] : edgeFrames_)
        if (t - x.t < 1.0) {
            sum += std::max(0.0, x.rate);
            known = known && x.rate >= 0;
        }
    if (known) throughput_->addData(t, sum);
    double queueTop = 2.0;
    for (auto& [edge, graph] : queueGraphs_) {
        bool found = false;
        const QCPRange r = graph->getValueRange(found);
        if (found) queueTop = std::max(queueTop, r.upper * 1.1);
        graph->rescaleKeyAxis(edge != queueGraphs_.begin()->first);
    }
    throughput_->rescaleAxes(true);
    // Counts from zero: a queue that stays empty would otherwise get a range around 0.
    plot_->yAxis->setRange(0.0, queueTop);
    plot_->yAxis2->setRange(0.0, std::max(1.0, plot_->yAxis2->range().upper * 1.1));
    showLane();  // and replots
    if (fleet_) showDevices(fleet_->devices());
}

void FleetDialog::addSample(int device, double tS, double latencyMs) {
    auto it = laneGraphs_.find(device);
    if (it == laneGraphs_.end()) {
        static const QColor colours[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                                         {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127}};
        const QColor colour = colours[static_cast<size_t>(device) % std::size(colours)];
        QCPGraph* g = plot_->addGraph(lanes_->axis(QCPAxis::atBottom), lanes_->axis(QCPAxis::atLeft));
        g->setName(tr("device %1").arg(device));
        g->removeFromLegend();
        g->setLineStyle(QCPGraph::lsNone);
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, colour, colour, 4));
        it = laneGraphs_.emplace(device, g).first;
        QPixmap swatch(12, 12);
        swatch.fill(colour);
        lane_->addItem(QIcon(swatch), tr("device %1").arg(device), device);
        showLane();
    }
    it->second->addData(tS, latencyMs);
    // A lane keeps its newest 5,000 inputs: a fleet left running does not grow the window.
    if (it->second->data()->size() > 5000) it->second->data()->removeBefore((it->second->data()->constEnd() - 5000)->key);
}

void FleetDialog::showLane() {
    const int chosen = lane_->currentData().toInt();
    for (auto& [device, graph] : laneGraphs_) graph->setVisible(chosen < 0 || chosen == device);
    bool found = false;
    QCPRange x, y(0.0, deadlineMs_ * 1.2);
    for (auto& [device, graph] : laneGraphs_)
        if (graph->visible()) {
            const QCPRange gx = graph->getKeyRange(found), gy = graph->getValueRange(found);
            if (found) {
                x.expand(gx);
                y.expand(gy);
            }
        }
    if (!x.size()) x = QCPRange(0.0, 1.0);
    lanes_->axis(QCPAxis::atBottom)->setRange(x);
    lanes_->axis(QCPAxis::atLeft)->setRange(0.0, y.upper * 1.05);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

int FleetDialog::laneInputs(int device) const {
    const auto it = laneGraphs_.find(device);
    return it == laneGraphs_.end() ? -1 : it->second->dataCount();
}

int FleetDialog::edgeQueuePoints(int edge) const {
    const auto it = queueGraphs_.find(edge);
    return it == queueGraphs_.end() ? -1 : it->second->dataCount();
}

bool FleetDialog::laneVisible(int device) const {
    const auto it = laneGraphs_.find(device);
    return it != laneGraphs_.end() && it->second->visible();
}

void FleetDialog::ended() {
    if (!fleet_) return;
    const control::FleetOutcome out = fleet_->outcome();
    const auto s = control::summarizeFleet(out, deadlineMs_);
    showDevices(fleet_->devices());
    fleet_.reset();
    lastFleetId_ = out.fleetId;
    updateButtons();
    const QString line = tr("Fleet %1 %2: %3 inputs, %4 answered per second, p95 %5 ms, deadline hit rate %6% "
                            "(worst device %7%), %8 busy.%9")
                             .arg(out.fleetId)
                             .arg(QString::fromStdString(out.status))
                             .arg(s.all.inferences)
                             .arg(s.throughputHz, 0, 'f', 1)
                             .arg(s.all.latencyMsP95, 0, 'f', 2)
                             .arg(100.0 * std::max(0.0, s.all.deadlineHitRate), 0, 'f', 1)
                             .arg(100.0 * s.worstDeviceHitRate, 0, 'f', 1)
                             .arg(s.all.busy)
                             .arg(out.error.empty() ? QString() : QStringLiteral(" ") + QString::fromStdString(out.error));
    status_->setText(line);
    Q_EMIT finished(out.status == "finished", line);
}

bool FleetDialog::savePlot(const QString& path) {
    if (path.endsWith(QLatin1String(".pdf"), Qt::CaseInsensitive)) return plot_->savePdf(path, 900, 700);
    return plot_->savePng(path, 900, 700, 2.0);
}

}  // namespace edgent::gui
