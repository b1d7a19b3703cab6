#pragma once
// Run > Fleet of devices: the window's face of `edgent run --devices N` (one engine,
// core/control/FleetRun.h). It spawns its own edge and N local devices (an emulated slow
// device each), plans them jointly or each alone, shows every device's status and plan, the
// edge's queue and the fleet's answered inputs per second over time, and can add and remove a
// device while the fleet runs (or drives running workers elsewhere: a device list and an
// edge, their links shaped by the workers or outside), and every device's latency in its own lane (one device or all,
// chosen in a list) under the deadline. Its choices persist; its plot exports as PNG or PDF.
// Project… plans the fleet that ended anew at larger sizes (FleetProjectionDialog); Export
// samples… writes its devices' samples as `edgent export --fleet` does.

#include "core/control/FleetRun.h"

#include <QDialog>

#include <map>
#include <memory>
#include <thread>

class QCheckBox;
class QComboBox;
class QCPAxisRect;
class QCPGraph;
class QCPItemStraightLine;
class QCustomPlot;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace edgent::gui {

class FleetProjectionDialog;

class FleetDialog : public QDialog {
    Q_OBJECT
public:
    FleetDialog(std::shared_ptr<const core::ModelBytes> model, QString dbPath, QWidget* parent = nullptr);
    ~FleetDialog() override;  // stops a fleet that is going and waits for its end (bounded)

    bool running() const { return fleet_ != nullptr || starting_; }
    void start();
    void stop();
    void addDevice();
    void removeSelected();
    bool savePlot(const QString& path);
    // Project…: the last fleet that ended, planned anew at larger sizes (nullptr: none has ended).
    FleetProjectionDialog* openProjection();
    // Export samples…: the last fleet that ended, the selected devices' samples (every
    // device's when none is selected) in one CSV; false (and why, in the status) when it cannot.
    bool exportSamples(const QString& path);
    // A device's lane: the inputs it holds (-1: no lane yet), and whether it is shown.
    int laneInputs(int device) const;
    // An edge's queue curve: the polls it holds (-1: no curve for that edge).
    int edgeQueuePoints(int edge) const;
    bool laneVisible(int device) const;

Q_SIGNALS:
    // ok: the fleet ended as finished; message: one line (its summary, or why it failed).
    void finished(bool ok, const QString& message);

private:
    void showDevices(const std::vector<core::control::FleetDeviceStatus>& devices);
    void addEdgePoint(const core::store::FleetEdgeRow& row);
    void addSample(int device, double tS, double latencyMs);
    void showLane();
    void ended();
    void fail(const QString& why);
    void saveSettings() const;
    void updateButtons();

    std::shared_ptr<const core::ModelBytes> model_;
    QString dbPath_;
    QSpinBox* devices_;
    QSpinBox* edges_;  // local edges to spawn
    QComboBox* planning_;
    QDoubleSpinBox* bandwidth_;  // Mbit/s, every device
    QDoubleSpinBox* deadline_;   // ms
    QDoubleSpinBox* rate_;       // inputs per second per device; 0: back-to-back
    QSpinBox* count_;            // per device; 0: until stopped
    QDoubleSpinBox* slowdown_;
    QLineEdit* deviceList_;   // running device workers' control endpoints; empty: spawn local ones
    QLineEdit* edge_;         // running edges' control endpoints; empty: spawn edges_
    QCheckBox* shapedOutside_;  // the devices' links are shaped outside (tc): shape nothing
    QPushButton* start_;
    QPushButton* stop_;
    QPushButton* add_;
    QPushButton* remove_;
    QPushButton* save_;
    QPushButton* project_;
    QPushButton* export_;
    QTableWidget* table_;
    QCustomPlot* plot_;  // each edge's queue and the throughput above, the devices' lanes below
    QCPGraph* throughput_;
    std::map<int, QCPGraph*> queueGraphs_;  // by edge
    QCPAxisRect* lanes_;
    std::map<int, QCPGraph*> laneGraphs_;  // by device
    QCPItemStraightLine* deadlineLine_;
    QComboBox* lane_;  // every device, or one
    QLabel* status_;
    std::unique_ptr<core::control::FleetRun> fleet_;
    bool starting_ = false;
    std::thread starter_;  // FleetRun::start spawns every worker: off the window's thread
    struct EdgeFrames {
        double t = -1.0, rate = -1.0;  // its last poll (s), and its answers per second since the one before
        int64_t framesOut = 0;
    };
    std::map<int, EdgeFrames> edgeFrames_;  // by edge
    int edgeCount_ = 1;
    double deadlineMs_ = 0.0;
    qint64 lastFleetId_ = 0;  // the last fleet that ended, for Project…
};

}  // namespace edgent::gui
