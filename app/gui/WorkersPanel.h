#pragma once
// Workers: start local device and edge workers (the default), or connect to remote ones (a
// tethered Pi) with optional CURVE keys; each worker's status, role, host, versions and
// heartbeat age; a dead worker turns red with the reason.

#include <QWidget>

class QLabel;
class QLineEdit;
class QDoubleSpinBox;
class QTableWidget;

namespace edgent::gui {

class Session;

class WorkersPanel : public QWidget {
    Q_OBJECT
public:
    explicit WorkersPanel(Session& session, QWidget* parent = nullptr);

    QString deviceEndpoint() const;
    QString edgeEndpoint() const;
    QString curveKeys() const;
    double deviceSlowdown() const;
    void setEndpoints(const QString& device, const QString& edge, const QString& keys);
    void setDeviceSlowdown(double factor);

public Q_SLOTS:
    void refresh();

private:
    Session& session_;
    QLineEdit* device_;
    QLineEdit* edge_;
    QLineEdit* keys_;
    QDoubleSpinBox* slowdown_;
    QTableWidget* table_;
    QLabel* summary_;
};

}  // namespace edgent::gui
