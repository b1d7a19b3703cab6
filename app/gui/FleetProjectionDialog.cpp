#include "app/gui/FleetProjectionDialog.h"
#include "app/gui/Named.h"

#include "core/control/FleetMeasure.h"
#include "core/control/FleetRun.h"
#include "core/store/RunStore.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

#include <map>

namespace edgent::gui {

using namespace edgent::core;

FleetProjectionDialog::FleetProjectionDialog(std::shared_ptr<const ModelBytes> model, QString dbPath, qint64 fleetId,
                                             QWidget* parent)
    : QDialog(parent), model_(std::move(model)), dbPath_(std::move(dbPath)), fleetId_(fleetId) {
    setWindowTitle(tr("Fleet %1 projected to larger fleets").arg(fleetId_));
    QSettings s;
    sizes_ = named(new QLineEdit(s.value("fleetProjection/sizes", "1,2,4,8,16,32,100,300,1000").toString(), this),
                   "projectionSizes");
    sizes_->setToolTip(tr("Fleet sizes to plan and simulate, comma-separated (1 to 2000; edgent fleet-sim goes to 10000)."));
    edges_ = named(new QSpinBox(this), "projectionEdges");
    edges_->setRange(0, control::kMaxFleetEdges);
    edges_->setSpecialValueText(tr("as the fleet ran"));
    edges_->setValue(s.value("fleetProjection/edges", 0).toInt());
    edges_->setToolTip(tr("Edges to spread each projected fleet over, device i on edge i mod N (edgent fleet-sim --edges)."));
    joint_ = named(new QCheckBox(tr("joint"), this), "projectionJoint");
    independent_ = named(new QCheckBox(tr("independent"), this), "projectionIndependent");
    paced_ = named(new QCheckBox(tr("paced"), this), "projectionPaced");
    joint_->setChecked(s.value("fleetProjection/joint", true).toBool());
    independent_->setChecked(s.value("fleetProjection/independent", true).toBool());
    paced_->setChecked(s.value("fleetProjection/paced", false).toBool());
    auto* plannings = new QHBoxLayout;
    for (QCheckBox* c : {joint_, independent_, paced_}) plannings->addWidget(c);
    auto* form = new QFormLayout;
    form->addRow(tr("Devices"), sizes_);
    form->addRow(tr("Planning"), plannings);
    form->addRow(tr("Edges"), edges_);

    auto* go = named(new QPushButton(tr("Project"), this), "projectionGo");
    auto* save = named(new QPushButton(tr("Save plot…"), this), "projectionSavePlot");
    connect(go, &QPushButton::clicked, this, &FleetProjectionDialog::project);
    connect(save, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save plot"), QString(), tr("PDF (*.pdf);;PNG (*.png)"));
        if (!path.isEmpty() && !savePlot(path)) status_->setText(tr("Error: could not write %1").arg(path));
    });
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(go);
    buttons->addWidget(save);
    buttons->addStretch(1);

    plot_ = named(new QCustomPlot(this), "projectionPlot");
    plot_->setMinimumHeight(260);
    plot_->xAxis->setScaleType(QCPAxis::stLogarithmic);
    plot_->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    plot_->xAxis->setLabel(tr("devices sharing the edge"));
    plot_->yAxis->setLabel(tr("deadline hit rate (solid), edge utilisation (dashed)"));
    plot_->yAxis->setRange(0.0, 1.05);
    plot_->legend->setVisible(true);
    plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignLeft | Qt::AlignBottom);  // clear of hit rates near 1
    table_ = named(new QTableWidget(0, 9, this), "projectionTable");
    table_->setHorizontalHeaderLabels({tr("planning"), tr("devices"), tr("offloading"), tr("accuracy %"), tr("p95 ms"),
                                       tr("hit rate"), tr("utilisation"), tr("answered/s"), tr("shed")});
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    status_ = named(new QLabel(tr("Plans every size anew and simulates it from the fleet's measured service model "
                                  "(edgent fleet-sim --replan). The first row of each planning is the fleet's own size."),
                               this),
                    "projectionStatus");
    status_->setWordWrap(true);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addLayout(buttons);
    layout->addWidget(plot_, 2);
    layout->addWidget(table_, 1);
    layout->addWidget(status_);
    resize(760, 720);
}

bool FleetProjectionDialog::project() {
    auto failWith = [this](const QString& why) {
        status_->setText(tr("Error: %1").arg(why));
        return false;
    };
    std::vector<int> sizes;
    for (const QString& x : sizes_->text().split(',', Qt::SkipEmptyParts)) {
        bool ok = false;
        const int n = x.trimmed().toInt(&ok);
        if (!ok || n < 1 || n > 2000) return failWith(tr("devices must list sizes from 1 to 2000, got '%1'").arg(x));
        sizes.push_back(n);
    }
    std::vector<std::string> plannings;
    if (joint_->isChecked()) plannings.push_back("joint");
    if (independent_->isChecked()) plannings.push_back("independent");
    if (paced_->isChecked()) plannings.push_back("paced");
    if (plannings.empty()) return failWith(tr("choose at least one planning"));
    if (!model_) return failWith(tr("no model is loaded"));
    QSettings s;
    s.setValue("fleetProjection/sizes", sizes_->text());
    s.setValue("fleetProjection/joint", joint_->isChecked());
    s.setValue("fleetProjection/independent", independent_->isChecked());
    s.setValue("fleetProjection/paced", paced_->isChecked());
    s.setValue("fleetProjection/edges", edges_->value());
    auto db = store::RunStore::open(dbPath_.toStdString(), store::RunStore::Mode::ReadOnly);
    if (!db) return failWith(QString::fromStdString(db.error()));
    auto measured = control::measuredFleet(**db, fleetId_);
    if (!measured) return failWith(QString::fromStdString(measured.error()));
    plan::SimOptions sim = measured->options;
    sim.inputs = 200;
    if (edges_->value() > 0) sim.edges = edges_->value();
    QGuiApplication::setOverrideCursor(Qt::WaitCursor);  // about 3 s at 2,000 devices, three plannings
    auto projection = control::projectStoredFleet(**db, *measured, *model_, "", plannings, sizes, sim);
    QGuiApplication::restoreOverrideCursor();
    if (!projection) return failWith(QString::fromStdString(projection.error()));

    plot_->clearGraphs();
    table_->setRowCount(0);
    static const std::map<std::string, QColor> colours{
        {"joint", {40, 90, 200}}, {"independent", {200, 60, 40}}, {"paced", {44, 160, 44}}};
    std::map<std::string, std::pair<QCPGraph*, QCPGraph*>> graphs;
    for (const auto& x : projection->points) {
        auto& g = graphs[x.planning];
        if (!g.first) {
            const QColor c = colours.at(x.planning);
            g.first = plot_->addGraph();
            g.first->setName(QString::fromStdString(x.planning) + tr(" hit rate"));
            g.first->setPen(QPen(c, 2));
            g.first->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 6));
            g.second = plot_->addGraph();
            g.second->setName(QString::fromStdString(x.planning) + tr(" utilisation"));
            g.second->setPen(QPen(c, 1, Qt::DashLine));
        }
        g.first->addData(x.devices, x.sim.hitRate);
        g.second->addData(x.devices, x.sim.utilisation);
        const int row = table_->rowCount();
        table_->insertRow(row);
        const QStringList cells{QString::fromStdString(x.planning),         QString::number(x.devices),
                                QString::number(x.offloading),              QString::number(100.0 * x.meanAccuracy, 'f', 2),
                                QString::number(x.sim.p95Ms, 'f', 2),       QString::number(x.sim.hitRate, 'f', 3),
                                QString::number(x.sim.utilisation, 'f', 2), QString::number(x.sim.throughputHz, 'f', 1),
                                QString::number(x.sim.shed)};
        for (int c = 0; c < cells.size(); ++c) table_->setItem(row, c, new QTableWidgetItem(cells[c]));
    }
    bool found = false;
    QCPRange x;
    for (int i = 0; i < plot_->graphCount(); ++i) {
        const QCPRange r = plot_->graph(i)->getKeyRange(found);
        if (found) x.expand(r);
    }
    plot_->xAxis->setRange(std::max(0.8, x.lower * 0.8), std::max(2.0, x.upper * 1.25));
    plot_->replot();
    const auto& m = *measured;
    status_->setText(tr("Fleet %1 (%2 devices, %3) measured p95 %4 ms, hit rate %5; planned anew at %6 kbit/s, device i "
                        "computing as measured device i mod %2 did (pooled: %7 x the profile). Emulated devices: the "
                        "service model carries this host's slowdown and contention.")
                         .arg(fleetId_)
                         .arg(m.devices.size())
                         .arg(QString::fromStdString(m.planning))
                         .arg(m.p95Ms, 0, 'f', 2)
                         .arg(m.hitRate, 0, 'f', 3)
                         .arg(m.bandwidthBps / 1000.0, 0, 'f', 0)
                         .arg(projection->deviceScale, 0, 'f', 2));
    return true;
}

bool FleetProjectionDialog::savePlot(const QString& path) {
    if (path.endsWith(QLatin1String(".pdf"), Qt::CaseInsensitive)) return plot_->savePdf(path, 900, 600);
    return plot_->savePng(path, 900, 600, 2.0);
}

}  // namespace edgent::gui
