#include "app/gui/ReproduceDialog.h"
#include "app/gui/Named.h"

#include "core/energy/PowerModel.h"
#include "core/repro/Reproduce.h"
#include "widgets/FigurePlot.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDesktopServices>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QUrl>
#include <QVBoxLayout>

#include <chrono>
#include <future>

namespace edgent::gui {

ReproduceDialog::ReproduceDialog(std::shared_ptr<const core::ModelBytes> model, QString modelPath, QWidget* parent)
    : QDialog(parent), model_(std::move(model)), modelPath_(std::move(modelPath)) {
    setWindowTitle(tr("Reproduce paper figures"));
    figure_ = named(new QComboBox(this), "reproduceFigure");
    figure_->addItem(tr("all figures"), QStringLiteral("all"));
    for (const std::string& name : core::repro::figureNames())
        figure_->addItem(QString::fromStdString(name + ": " + core::repro::figureSummary(name)), QString::fromStdString(name));
    quick_ = named(new QCheckBox(tr("Quick (fewer points and inferences, a few minutes)"), this), "reproduceQuick");
    out_ = named(new QLineEdit(this), "reproduceOut");
    auto* browse = new QPushButton(tr("Browse…"), this);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString d = QFileDialog::getExistingDirectory(this, tr("Output folder"), out_->text());
        if (!d.isEmpty()) out_->setText(d);
    });
    slowdown_ = named(new QDoubleSpinBox(this), "reproduceSlowdown");
    slowdown_->setRange(0.0, 1000.0);
    slowdown_->setDecimals(1);
    slowdown_->setSpecialValueText(tr("auto (the paper's device/edge ratio)"));
    slowdown_->setToolTip(tr("Emulated device slowdown. Auto sets it so that device-only over edge-only latency at "
                             "500 kbps is the paper's."));
    auto* outRow = new QHBoxLayout;
    outRow->addWidget(out_, 1);
    outRow->addWidget(browse);
    auto* form = new QFormLayout;
    form->addRow(tr("Figure"), figure_);
    form->addRow(tr("Output folder"), outRow);
    form->addRow(tr("Device slowdown"), slowdown_);
    form->addRow(QString(), quick_);
    auto* note = new QLabel(tr("Runs on local workers of its own, emulating a slow device; stop live runs first for "
                               "clean timings. Remote workers: edgent reproduce --device EP --edge EP."),
                            this);
    note->setWordWrap(true);
    run_ = named(new QPushButton(tr("Run"), this), "reproduceRun");
    cancel_ = named(new QPushButton(tr("Cancel"), this), "reproduceCancel");
    open_ = named(new QPushButton(tr("Open page"), this), "reproduceOpen");
    cancel_->setEnabled(false);
    open_->setEnabled(false);
    progress_ = named(new QProgressBar(this), "reproduceProgress");
    progress_->setRange(0, 1);
    progress_->setValue(0);
    log_ = named(new QPlainTextEdit(this), "reproduceLog");
    log_->setReadOnly(true);
    log_->setMinimumHeight(180);
    status_ = named(new QLabel(this), "reproduceStatus");
    status_->setWordWrap(true);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(progress_, 1);
    buttons->addWidget(run_);
    buttons->addWidget(cancel_);
    buttons->addWidget(open_);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(note);
    layout->addLayout(buttons);
    layout->addWidget(log_, 1);
    layout->addWidget(status_);
    connect(run_, &QPushButton::clicked, this, &ReproduceDialog::start);
    connect(cancel_, &QPushButton::clicked, this, &ReproduceDialog::cancel);
    connect(open_, &QPushButton::clicked, this, [this] { QDesktopServices::openUrl(QUrl::fromLocalFile(lastPage_)); });

    QSettings s;
    const QString fallback =
        QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath(QStringLiteral("reproduce"));
    out_->setText(s.value(QStringLiteral("reproduce/out"), fallback).toString());
    quick_->setChecked(s.value(QStringLiteral("reproduce/quick"), false).toBool());
    slowdown_->setValue(s.value(QStringLiteral("reproduce/slowdown"), 0.0).toDouble());
    selectFigure(s.value(QStringLiteral("reproduce/figure"), QStringLiteral("all")).toString());
    resize(640, 480);
}

ReproduceDialog::~ReproduceDialog() {
    cancelFlag_.store(true);
    if (thread_.joinable()) thread_.join();
}

void ReproduceDialog::setOutputFolder(const QString& dir) { out_->setText(dir); }
void ReproduceDialog::setQuick(bool quick) { quick_->setChecked(quick); }
void ReproduceDialog::selectFigure(const QString& nameOrAll) {
    const int i = figure_->findData(nameOrAll);
    if (i >= 0) figure_->setCurrentIndex(i);
}

void ReproduceDialog::saveSettings() const {
    QSettings s;
    s.setValue(QStringLiteral("reproduce/out"), out_->text());
    s.setValue(QStringLiteral("reproduce/quick"), quick_->isChecked());
    s.setValue(QStringLiteral("reproduce/slowdown"), slowdown_->value());
    s.setValue(QStringLiteral("reproduce/figure"), figure_->currentData().toString());
}

void ReproduceDialog::append(const QString& line) { log_->appendPlainText(line); }

void ReproduceDialog::start() {
    if (busy_) return;
    if (!model_) {
        finish(false, tr("No model is loaded."), {});
        return;
    }
    const QString dir = out_->text().trimmed();
    if (dir.isEmpty()) {
        finish(false, tr("Choose an output folder."), {});
        return;
    }
    auto names = core::repro::resolveFigures(figure_->currentData().toString().toStdString());
    auto power = core::energy::powerProfile("laptop");
    if (!names || !power) {
        finish(false, QString::fromStdString(!names ? names.error() : power.error()), {});
        return;
    }
    saveSettings();
    if (thread_.joinable()) thread_.join();
    busy_ = true;
    cancelFlag_.store(false);
    run_->setEnabled(false);
    cancel_->setEnabled(true);
    open_->setEnabled(false);
    progress_->setRange(0, 0);  // busy
    log_->clear();
    status_->clear();

    core::repro::ReproduceOptions o;
    o.outDir = dir.toStdString();
    o.quick = quick_->isChecked();
    o.link.local = true;
    o.deviceSlowdown = slowdown_->value();
    o.model = *model_;
    o.modelPath = modelPath_.toStdString();
    o.power = *power;
    o.tracePath = core::repro::defaultTracePath();
    o.command = "edgent reproduce " + figure_->currentData().toString().toStdString() + " --out " + o.outDir +
                (o.quick ? " --quick" : "");
    QPointer<ReproduceDialog> self(this);
    std::atomic<bool>* cancel = &cancelFlag_;
    o.cancel = cancel;
    o.progress = [self](const std::string& line) {
        QMetaObject::invokeMethod(
            qApp, [self, l = QString::fromStdString(line)] {
                if (self) self->append(l);
            },
            Qt::QueuedConnection);
    };
    // Figures are drawn on the window's thread; the run's thread waits for it, but never
    // beyond a cancel (the window's thread may be waiting for this one to end).
    o.draw = [self, cancel](const core::repro::Figure& figure, const std::string& base) -> core::Status {
        auto promise = std::make_shared<std::promise<core::Status>>();
        auto result = promise->get_future();
        QMetaObject::invokeMethod(
            qApp, [promise, figure, base] { promise->set_value(widgets::saveFigure(figure, QString::fromStdString(base))); },
            Qt::QueuedConnection);
        for (int waited = 0; result.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready; waited += 100) {
            if (cancel->load()) return core::makeError("cancelled");
            if (waited >= 60000) return core::makeError("drawing " + base + " took more than 60 s");
        }
        return result.get();
    };
    thread_ = std::thread([self, o = std::move(o), names = *names]() mutable {
        QString message, page;
        bool ok = false;
        try {
            auto r = core::repro::reproduce(names, o);
            if (r) {
                int differs = 0;
                for (const auto& f : *r)
                    for (const auto& c : f.checks) differs += !c.holds;
                ok = true;
                page = QString::fromStdString(r->size() == 1 ? r->front().pagePath : o.outDir + "/README.md");
                message = QObject::tr("%1 figure(s) written to %2; %3 statement(s) differ from the paper (each page says why).")
                              .arg(r->size())
                              .arg(QString::fromStdString(o.outDir))
                              .arg(differs);
            } else {
                message = QString::fromStdString(r.error());
            }
        } catch (const std::exception& e) {
            message = QObject::tr("reproduce failed: %1").arg(QString::fromUtf8(e.what()));
        }
        QMetaObject::invokeMethod(
            qApp, [self, ok, message, page] {
                if (self) self->finish(ok, message, page);
            },
            Qt::QueuedConnection);
    });
}

void ReproduceDialog::cancel() {
    if (!busy_) return;
    cancelFlag_.store(true);
    append(tr("cancelling…"));
}

void ReproduceDialog::reject() {
    // Closing while busy cancels first; the dialog stays until the thread has ended.
    if (busy_) {
        cancel();
        return;
    }
    QDialog::reject();
}

void ReproduceDialog::finish(bool ok, const QString& message, const QString& page) {
    busy_ = false;
    run_->setEnabled(true);
    cancel_->setEnabled(false);
    progress_->setRange(0, 1);
    progress_->setValue(ok ? 1 : 0);
    status_->setText(message);
    lastPage_ = page;
    open_->setEnabled(ok && !page.isEmpty());
    Q_EMIT finished(ok, message);
}

}  // namespace edgent::gui
