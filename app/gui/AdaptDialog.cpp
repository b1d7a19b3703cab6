#include "app/gui/AdaptDialog.h"
#include "app/gui/Named.h"

#include "core/store/Export.h"
#include "core/store/RunStore.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

#include <map>

namespace edgent::gui {

using namespace edgent::core;

AdaptDialog::AdaptDialog(std::shared_ptr<const ModelBytes> model, QString dbPath, QWidget* parent)
    : QDialog(parent), model_(std::move(model)), dbPath_(std::move(dbPath)) {
    setWindowTitle(tr("Adapt the device's slice on a shifted stream"));
    QSettings s;
    fp32_ = named(new QCheckBox(tr("fp32"), this), "adaptFp32");
    qat_ = named(new QCheckBox(tr("qat"), this), "adaptQat");
    rct_ = named(new QCheckBox(tr("rct"), this), "adaptRct");
    fp32_->setChecked(s.value("adapt/fp32", true).toBool());
    qat_->setChecked(s.value("adapt/qat", true).toBool());
    rct_->setChecked(s.value("adapt/rct", true).toBool());
    auto* modes = new QHBoxLayout;
    for (QCheckBox* c : {fp32_, qat_, rct_}) modes->addWidget(c);
    steps_ = named(new QSpinBox(this), "adaptSteps");
    steps_->setRange(1, 100000);
    steps_->setValue(s.value("adapt/steps", 300).toInt());
    shift_ = named(new QLineEdit(s.value("adapt/shift", "default").toString(), this), "adaptShift");
    shift_->setToolTip(tr("default, none, or key=value pairs: rotation, contrast, brightness, noise, occlusion, seed"));
    auto* form = new QFormLayout;
    form->addRow(tr("Modes"), modes);
    form->addRow(tr("Steps"), steps_);
    form->addRow(tr("Shift"), shift_);

    start_ = named(new QPushButton(tr("Adapt"), this), "adaptStart");
    cancelButton_ = named(new QPushButton(tr("Cancel"), this), "adaptCancel");
    savePlot_ = named(new QPushButton(tr("Save plot…"), this), "adaptSavePlot");
    saveModel_ = named(new QPushButton(tr("Adapt and save model…"), this), "adaptSaveModel");
    saveModel_->setToolTip(tr("One mode only: adapt, then keep the adapted model in the native format."));
    connect(start_, &QPushButton::clicked, this, [this] { start(); });
    connect(cancelButton_, &QPushButton::clicked, this, &AdaptDialog::cancel);
    connect(savePlot_, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save plot"), QString(), tr("PDF (*.pdf);;PNG (*.png)"));
        if (!path.isEmpty() && !savePlot(path)) fail(tr("could not write %1").arg(path));
    });
    connect(saveModel_, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save adapted model"), QString(), tr("Model (*.json)"));
        if (!path.isEmpty()) start(path);
    });
    exportSteps_ = named(new QPushButton(tr("Export steps…"), this), "adaptExportSteps");
    exportSteps_->setToolTip(tr("Every step's loss, accuracy and widths as CSV, for a paper's plots."));
    connect(exportSteps_, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export steps"), QString(), tr("CSV (*.csv)"));
        if (!path.isEmpty()) exportSteps(path);
    });
    auto* buttons = new QHBoxLayout;
    for (QPushButton* b : {start_, cancelButton_, saveModel_, savePlot_, exportSteps_}) buttons->addWidget(b);
    progress_ = named(new QProgressBar(this), "adaptProgress");

    table_ = named(new QTableWidget(0, 7, this), "adaptTable");
    table_->setHorizontalHeaderLabels({tr("mode"), tr("shifted before"), tr("shifted after"), tr("clean after"),
                                       tr("bytes held"), tr("GEMM mJ (est.)"), tr("widths at the end")});
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);

    plot_ = named(new QCustomPlot(this), "adaptPlot");
    plot_->setMinimumHeight(260);
    plot_->xAxis->setLabel(tr("step"));
    plot_->yAxis->setLabel(tr("accuracy, shifted held-out images"));
    plot_->yAxis->setRange(0.0, 1.0);
    plot_->legend->setVisible(true);
    bitsRect_ = new QCPAxisRect(plot_);
    plot_->plotLayout()->addElement(1, 0, bitsRect_);
    bitsRect_->axis(QCPAxis::atBottom)->setLabel(tr("step"));
    bitsRect_->axis(QCPAxis::atLeft)->setLabel(tr("rct: bits per layer"));

    status_ = named(new QLabel(tr("Spawns a local device worker; the adaptations go into %1.").arg(dbPath_), this), "adaptStatus");
    status_->setWordWrap(true);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addLayout(buttons);
    layout->addWidget(progress_);
    layout->addWidget(table_, 1);
    layout->addWidget(plot_, 2);
    layout->addWidget(status_);
    resize(760, 760);
    cancelButton_->setEnabled(false);
}

AdaptDialog::~AdaptDialog() {
    cancelRequested_ = true;
    if (worker_.joinable()) worker_.join();
}

void AdaptDialog::saveSettings() const {
    QSettings s;
    s.setValue("adapt/fp32", fp32_->isChecked());
    s.setValue("adapt/qat", qat_->isChecked());
    s.setValue("adapt/rct", rct_->isChecked());
    s.setValue("adapt/steps", steps_->value());
    s.setValue("adapt/shift", shift_->text());
}

void AdaptDialog::fail(const QString& why) {
    status_->setText(tr("Error: %1").arg(why));
    Q_EMIT finished(false, why);
}

void AdaptDialog::cancel() { cancelRequested_ = true; }

void AdaptDialog::start(const QString& savePath) {
    if (running_) return;
    if (!model_) return fail(tr("no model is loaded"));
    std::vector<std::string> modes;
    for (QCheckBox* c : {fp32_, qat_, rct_})
        if (c->isChecked()) modes.push_back(c->text().toStdString());
    if (modes.empty()) return fail(tr("choose at least one mode"));
    if (!savePath.isEmpty() && modes.size() != 1) return fail(tr("saving keeps one adapted model: choose one mode"));
    auto shift = parseShift(shift_->text().trimmed().toStdString());
    if (!shift) return fail(QString::fromStdString(shift.error()));
    control::AdaptRunOptions o;
    o.adapt.steps = steps_->value();
    o.adapt.evalEvery = std::max(1, o.adapt.steps / 20);
    o.adapt.shift = *shift;
    o.dbPath = dbPath_.toStdString();
    o.savePath = savePath.toStdString();
    for (const std::string& m : modes) {
        AdaptOptions x = o.adapt;
        x.mode = m;
        if (auto s = checkAdaptOptions(model_->file.spec, x); !s) return fail(QString::fromStdString(s.error()));
    }
    if (auto s = control::useValidationRange(o.adapt, *model_); !s) return fail(QString::fromStdString(s.error()));
    {
        auto db = store::RunStore::open(o.dbPath);
        auto id = db ? (*db)->upsertModel(store::modelRecord(*model_)) : Result<int64_t>(makeError(db.error()));
        if (!id) return fail(QString::fromStdString(id.error()));
        o.modelId = *id;
    }
    saveSettings();
    if (worker_.joinable()) worker_.join();
    running_ = true;
    cancelRequested_ = false;
    start_->setEnabled(false);
    saveModel_->setEnabled(false);
    cancelButton_->setEnabled(true);
    progress_->setRange(0, static_cast<int>(modes.size()) * o.adapt.steps);
    progress_->setValue(0);
    status_->setText(tr("Starting a device worker…"));
    QPointer<AdaptDialog> self(this);
    worker_ = std::thread([self, o, modes, model = model_, cancel = &cancelRequested_] {
        // The thread's boundary: every failure below comes back as a result.
        control::WorkerLinkOptions w;
        w.local = true;
        control::WorkerLink link(w);
        Result<std::vector<control::AdaptRunOutcome>> out = makeError("the device worker did not start");
        if (auto s = link.start(); !s) {
            out = makeError(s.error());
        } else {
            const int steps = o.adapt.steps;
            out = control::runAdaptations(
                link, *model, modes, o,
                [&](const std::string& mode, const control::AdaptRunProgress& p) {
                    const int done = static_cast<int>(std::find(modes.begin(), modes.end(), mode) - modes.begin()) * steps + p.step;
                    QMetaObject::invokeMethod(self, [self, done, mode, p] {
                        if (!self) return;
                        self->progress_->setValue(done);
                        self->status_->setText(tr("%1: step %2 of %3").arg(QString::fromStdString(mode)).arg(p.step).arg(p.steps));
                    }, Qt::QueuedConnection);
                },
                cancel);
        }
        link.shutdown();
        auto shared = std::make_shared<Result<std::vector<control::AdaptRunOutcome>>>(std::move(out));
        QMetaObject::invokeMethod(self, [self, shared] {
            if (!self) return;
            self->running_ = false;
            self->start_->setEnabled(true);
            self->saveModel_->setEnabled(true);
            self->cancelButton_->setEnabled(false);
            if (!*shared) return self->fail(QString::fromStdString(shared->error()));
            self->showOutcomes(**shared);
        }, Qt::QueuedConnection);
    });
}

void AdaptDialog::showOutcomes(const std::vector<control::AdaptRunOutcome>& outcomes) {
    static const std::map<std::string, QColor> colours{{"fp32", {40, 90, 200}}, {"qat", {230, 150, 30}}, {"rct", {44, 160, 44}}};
    plot_->clearGraphs();
    table_->setRowCount(0);
    lastAdaptations_.clear();
    for (const auto& out : outcomes) lastAdaptations_.push_back({out.report.mode, out.adaptationId});
    QStringList line;
    bool cancelled = false;
    for (const auto& out : outcomes) {
        const AdaptReport& r = out.report;
        cancelled = cancelled || out.status == "cancelled";
        QCPGraph* g = plot_->addGraph();
        g->setName(QString::fromStdString(r.mode));
        g->setPen(QPen(colours.at(r.mode), 2));
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 5));
        for (const AdaptStep& s : r.steps)
            if (!std::isnan(s.evalAccuracy)) g->addData(s.step, s.evalAccuracy);
        QStringList widths;
        size_t q = 0;
        for (const AdaptLayer& l : r.layers) {
            if (!l.quantised) continue;
            widths << QStringLiteral("%1 %2").arg(QString::fromStdString(l.name)).arg(l.bits);
            if (r.mode == "rct") {
                QCPGraph* b = plot_->addGraph(bitsRect_->axis(QCPAxis::atBottom), bitsRect_->axis(QCPAxis::atLeft));
                b->setName(QString::fromStdString(l.name) + tr(" bits"));
                b->setPen(QPen(QColor::fromHsv(static_cast<int>(q * 70 % 360), 200, 180), 2));
                b->setLineStyle(QCPGraph::lsStepLeft);
                for (const AdaptStep& s : r.steps)
                    if (q < s.bits.size()) b->addData(s.step, s.bits[q]);
            }
            ++q;
        }
        const int row = table_->rowCount();
        table_->insertRow(row);
        const QStringList cells{QString::fromStdString(r.mode),
                                QString::number(100 * r.shiftedBefore, 'f', 1) + "%",
                                QString::number(100 * r.shiftedAfter, 'f', 1) + "%",
                                QString::number(100 * r.cleanAfter, 'f', 1) + "%",
                                QString::number(r.paramBytesHeld),
                                QString::number(r.gemmEnergyMj, 'f', 1),
                                widths.join(QStringLiteral(", "))};
        for (int c = 0; c < cells.size(); ++c) table_->setItem(row, c, new QTableWidgetItem(cells[c]));
        line << tr("%1 %2% → %3% (%4 bytes held)")
                    .arg(QString::fromStdString(r.mode))
                    .arg(100 * r.shiftedBefore, 0, 'f', 1)
                    .arg(100 * r.shiftedAfter, 0, 'f', 1)
                    .arg(r.paramBytesHeld);
    }
    plot_->rescaleAxes();
    plot_->yAxis->setRange(0.0, 1.0);
    bitsRect_->axis(QCPAxis::atLeft)->setRange(0.0, 17.0);
    plot_->replot();
    const QString saved = outcomes.size() == 1 && !outcomes.front().savedPath.empty()
                              ? tr(" Saved to %1.").arg(QString::fromStdString(outcomes.front().savedPath))
                              : QString();
    const QString message = tr("Adapted on the shifted stream: %1.%2").arg(line.join(QStringLiteral("; ")), saved);
    status_->setText(cancelled ? tr("Cancelled. ") + message : message);
    Q_EMIT finished(!cancelled, message);
}

bool AdaptDialog::exportSteps(const QString& path) {
    if (running_ || lastAdaptations_.empty()) return false;
    auto db = store::RunStore::open(dbPath_.toStdString(), store::RunStore::Mode::ReadOnly);
    if (!db) {
        status_->setText(tr("Error: %1").arg(QString::fromStdString(db.error())));
        return false;
    }
    QStringList written;
    for (const auto& [mode, id] : lastAdaptations_) {
        QString file = path;
        if (lastAdaptations_.size() > 1) {
            const int dot = file.lastIndexOf('.');
            file = (dot > 0 ? file.left(dot) : file) + "-" + QString::fromStdString(mode) + (dot > 0 ? file.mid(dot) : QString());
        }
        auto rows = store::exportAdaptationCsv(**db, id, file.toStdString());
        if (!rows) {
            status_->setText(tr("Error: %1").arg(QString::fromStdString(rows.error())));
            return false;
        }
        written << file;
    }
    status_->setText(tr("Steps written to %1.").arg(written.join(QStringLiteral(", "))));
    return true;
}

bool AdaptDialog::savePlot(const QString& path) {
    if (path.endsWith(QLatin1String(".pdf"), Qt::CaseInsensitive)) return plot_->savePdf(path, 900, 700);
    return plot_->savePng(path, 900, 700, 2.0);
}

int AdaptDialog::accuracyPoints(const QString& mode) const {
    for (int i = 0; i < plot_->graphCount(); ++i)
        if (plot_->graph(i)->name() == mode) return plot_->graph(i)->dataCount();
    return -1;
}

int AdaptDialog::bitCurves() const {
    int n = 0;
    for (int i = 0; i < plot_->graphCount(); ++i) n += plot_->graph(i)->valueAxis() == bitsRect_->axis(QCPAxis::atLeft) ? 1 : 0;
    return n;
}

}  // namespace edgent::gui
