#pragma once
// The model view: which model is loaded and from where, its exits (accuracy, depth, FLOPs,
// parameters), the layers of the selected exit's path (shapes, transfer bytes, Table-1
// features), and a drawing of the exit paths with the current plan's device/edge cut.

#include "core/model/ModelFile.h"

#include <QString>
#include <QWidget>

#include <string>
#include <vector>

class QLabel;
class QPushButton;
class QTableWidget;

namespace edgent::widgets {

class ExitPathView;

class ModelPanel : public QWidget {
    Q_OBJECT
public:
    explicit ModelPanel(QWidget* parent = nullptr);

    // Shows a model (nullptr clears). `path` is shown as the source. The model is copied.
    void setModel(const edgent::core::ModelFile* model, const QString& path);
    // Highlights the current plan: exit e's path cut at partition p (device runs [0,p), edge
    // [p,n)). A negative exit clears the cut.
    void setCut(int exit, int partition);
    // The exit whose layers are listed, or -1 without a model.
    int selectedExit() const;
    // Selects an exit as a click in the exits table would (ignored when out of range).
    void setSelectedExit(int exit);

    bool hasModel() const { return hasModel_; }
    int cutExit() const { return cutExit_; }
    int cutPartition() const { return cutPartition_; }

Q_SIGNALS:
    void loadRequested(const QString& path);  // user picked a file (native .json or TorchScript .pt)
    void loadDefaultRequested();

private:
    void openModelDialog();
    void fillExits();
    void fillLayers();
    void updateSummary();
    void updatePlanLabel();

    bool hasModel_ = false;
    core::ModelFile model_;
    QString source_;
    // analyzePath per exit: the layers, or why the path could not be analysed.
    std::vector<std::vector<core::LayerInfo>> paths_;
    std::vector<std::string> pathErrors_;
    int selected_ = -1;
    int cutExit_ = -1;
    int cutPartition_ = 0;

    QPushButton* openButton_;
    QPushButton* defaultButton_;
    QLabel* summary_;
    QLabel* plan_;
    QTableWidget* exits_;
    QLabel* layersTitle_;
    QTableWidget* layers_;
    ExitPathView* pathView_;
};

}  // namespace edgent::widgets
