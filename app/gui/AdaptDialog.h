#pragma once
// Run > Adapt on the device: the window's face of `edgent adapt` (one engine,
// core/control/AdaptRun.h). It spawns a local device worker (and an edge, unused), adapts the
// device's slice on the shifted stream in each chosen mode from the model as loaded, with
// progress and cancel, and shows the accuracy on the shifted held-out images over the steps
// (every mode) and RCT's per-layer bit widths over the steps, with a table of each mode's
// figures. Its choices persist; its plot exports as PNG or PDF; Save model… keeps the
// adapted model of a single mode in the native format.

#include "core/control/AdaptRun.h"

#include <QDialog>

#include <atomic>
#include <memory>
#include <thread>

class QCheckBox;
class QCPAxisRect;
class QCustomPlot;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace edgent::gui {

class AdaptDialog : public QDialog {
    Q_OBJECT
public:
    AdaptDialog(std::shared_ptr<const core::ModelBytes> model, QString dbPath, QWidget* parent = nullptr);
    ~AdaptDialog() override;  // cancels an adaptation that is going and waits for it (bounded by its step)

    bool running() const { return running_; }
    // Adapts in every chosen mode; `savePath` non-empty (one mode only) keeps the adapted model there.
    void start(const QString& savePath = {});
    void cancel();
    bool savePlot(const QString& path);
    // Export steps…: the last adaptations' steps as CSV (edgent export --adaptation), one file
    // per mode ("-<mode>" before the suffix when there were several); false (and why) when it cannot.
    bool exportSteps(const QString& path);
    // What the last adaptation showed: accuracy points of a mode, bit-width curves (rct).
    int accuracyPoints(const QString& mode) const;
    int bitCurves() const;

Q_SIGNALS:
    // ok: every mode finished; message: one line (the figures, or why it failed).
    void finished(bool ok, const QString& message);

private:
    void showOutcomes(const std::vector<core::control::AdaptRunOutcome>& outcomes);
    void fail(const QString& why);
    void saveSettings() const;

    std::shared_ptr<const core::ModelBytes> model_;
    QString dbPath_;
    QCheckBox* fp32_;
    QCheckBox* qat_;
    QCheckBox* rct_;
    QSpinBox* steps_;
    QLineEdit* shift_;
    QPushButton* start_;
    QPushButton* cancelButton_;
    QPushButton* savePlot_;
    QPushButton* saveModel_;
    QPushButton* exportSteps_;
    QProgressBar* progress_;
    QTableWidget* table_;
    QCustomPlot* plot_;  // accuracy above, bit widths below
    QCPAxisRect* bitsRect_;
    QLabel* status_;
    std::vector<std::pair<std::string, int64_t>> lastAdaptations_;  // mode, adaptation id
    std::thread worker_;
    std::atomic<bool> cancelRequested_{false};
    bool running_ = false;
};

}  // namespace edgent::gui
