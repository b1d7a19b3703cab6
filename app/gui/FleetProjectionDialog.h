#pragma once
// The fleet dialog's Project…: a stored fleet planned anew at larger sizes from its measured
// service model, as `edgent fleet-sim --replan` does (one engine: core/control/FleetMeasure.h,
// projectStoredFleet). The deadline hit rate and the edge's utilisation against the number of
// devices, one curve per planning, and the same as a table. Its choices persist; its plot
// exports as PNG or PDF.

#include "core/model/ModelFile.h"

#include <QDialog>

#include <memory>

class QCheckBox;
class QCustomPlot;
class QLabel;
class QLineEdit;
class QSpinBox;
class QTableWidget;

namespace edgent::gui {

class FleetProjectionDialog : public QDialog {
    Q_OBJECT
public:
    FleetProjectionDialog(std::shared_ptr<const core::ModelBytes> model, QString dbPath, qint64 fleetId,
                          QWidget* parent = nullptr);

    // Projects at the sizes and plannings chosen; false (and the reason shown) when it cannot.
    bool project();
    bool savePlot(const QString& path);

private:
    std::shared_ptr<const core::ModelBytes> model_;
    QString dbPath_;
    qint64 fleetId_;
    QLineEdit* sizes_;
    QSpinBox* edges_;  // 0: as the fleet ran
    QCheckBox* joint_;
    QCheckBox* independent_;
    QCheckBox* paced_;
    QCustomPlot* plot_;
    QTableWidget* table_;
    QLabel* status_;
};

}  // namespace edgent::gui
