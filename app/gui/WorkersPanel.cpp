#include "app/gui/WorkersPanel.h"

#include "app/gui/Session.h"

#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace edgent::gui {

using core::net::Role;

WorkersPanel::WorkersPanel(Session& session, QWidget* parent) : QWidget(parent), session_(session) {
    auto* layout = new QVBoxLayout(this);

    auto* local = new QGroupBox(tr("Local workers"), this);
    auto* localRow = new QHBoxLayout(local);
    auto* startLocal = new QPushButton(tr("Start local workers"), local);
    startLocal->setObjectName("startLocalButton");
    startLocal->setToolTip(tr("Spawn a device worker and an edge worker on this machine (loopback)."));
    slowdown_ = new QDoubleSpinBox(local);
    slowdown_->setObjectName("deviceSlowdown");
    slowdown_->setRange(1.0, 100.0);
    slowdown_->setDecimals(1);
    slowdown_->setSuffix(QStringLiteral("×"));
    slowdown_->setToolTip(
        tr("Emulate a device this many times slower than this machine (1 = none). "
           "Recorded with every run and profile."));
    localRow->addWidget(startLocal);
    localRow->addWidget(new QLabel(tr("device slowdown"), local));
    localRow->addWidget(slowdown_);
    localRow->addStretch();
    layout->addWidget(local);

    auto* remote = new QGroupBox(tr("Remote workers"), this);
    auto* form = new QFormLayout(remote);
    device_ = new QLineEdit(remote);
    device_->setObjectName("deviceEndpoint");
    device_->setPlaceholderText(QStringLiteral("tcp://raspberrypi.local:5555"));
    edge_ = new QLineEdit(remote);
    edge_->setObjectName("edgeEndpoint");
    edge_->setPlaceholderText(QStringLiteral("tcp://127.0.0.1:5556"));
    keys_ = new QLineEdit(remote);
    keys_->setPlaceholderText(tr("optional: CURVE key folder (edgent keys)"));
    auto* browse = new QPushButton(tr("Browse…"), remote);
    auto* keysRow = new QHBoxLayout;
    keysRow->addWidget(keys_);
    keysRow->addWidget(browse);
    auto* connectButton = new QPushButton(tr("Connect"), remote);
    connectButton->setObjectName("connectRemoteButton");
    form->addRow(tr("Device control endpoint"), device_);
    form->addRow(tr("Edge control endpoint"), edge_);
    form->addRow(tr("CURVE keys"), keysRow);
    form->addRow(QString(), connectButton);
    layout->addWidget(remote);

    table_ = new QTableWidget(2, 7, this);
    table_->setObjectName("workersTable");
    table_->setHorizontalHeaderLabels(
        {tr("Role"), tr("Status"), tr("Host"), tr("Endpoint"), tr("Versions"), tr("Heartbeat"), tr("Details")});
    table_->verticalHeader()->hide();
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    layout->addWidget(table_);
    summary_ = new QLabel(this);
    summary_->setWordWrap(true);
    layout->addWidget(summary_);
    layout->addStretch();

    connect(startLocal, &QPushButton::clicked, this, [this] { session_.startLocalWorkers(slowdown_->value()); });
    connect(connectButton, &QPushButton::clicked, this, [this] {
        if (device_->text().trimmed().isEmpty() || edge_->text().trimmed().isEmpty()) {
            summary_->setText(tr("Enter both control endpoints, as the workers printed them."));
            return;
        }
        session_.stopWorkers();
        session_.connectWorkers(device_->text().trimmed(), edge_->text().trimmed(), keys_->text().trimmed());
    });
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("CURVE key folder"), keys_->text());
        if (!dir.isEmpty()) keys_->setText(dir);
    });
    connect(&session_, &Session::workersChanged, this, &WorkersPanel::refresh);
    refresh();
}

QString WorkersPanel::deviceEndpoint() const { return device_->text(); }
QString WorkersPanel::edgeEndpoint() const { return edge_->text(); }
QString WorkersPanel::curveKeys() const { return keys_->text(); }
double WorkersPanel::deviceSlowdown() const { return slowdown_->value(); }

void WorkersPanel::setEndpoints(const QString& device, const QString& edge, const QString& keys) {
    device_->setText(device);
    edge_->setText(edge);
    keys_->setText(keys);
}

void WorkersPanel::setDeviceSlowdown(double factor) { slowdown_->setValue(factor); }

void WorkersPanel::refresh() {
    int up = 0;
    for (Role role : {Role::Device, Role::Edge}) {
        const int row = role == Role::Device ? 0 : 1;
        const auto info = session_.workerInfo(role);
        const QJsonObject& h = info.hello;
        QString status;
        QColor colour;
        if (info.alive) {
            status = tr("up");
            colour = QColor(46, 160, 67);
            ++up;
        } else if (!info.deathReason.empty()) {
            status = tr("dead");
            colour = QColor(207, 34, 46);
        } else if (info.connected) {
            status = tr("connecting");
        } else {
            status = tr("not connected");
        }
        const QString versions = h.isEmpty() ? QString()
                                             : tr("protocol %1, LibTorch %2, %3 thread(s)")
                                                   .arg(h.value("protocol").toInt())
                                                   .arg(h.value("libtorch").toString())
                                                   .arg(h.value("threads").toInt());
        QString details = QString::fromStdString(info.deathReason);
        if (details.isEmpty() && !h.isEmpty()) {
            details = h.value("os").toString();
            if (h.value("slowdown").toDouble(1.0) > 1.0)
                details += tr(", emulated slowdown %1× (%2)")
                               .arg(h.value("slowdown").toDouble())
                               .arg(h.value("slowdown_wait").toString() == "sleep" ? tr("sleeps") : tr("spins"));
            if (!h.value("energy_sensor").toString().isEmpty())
                details += tr(", energy sensor %1").arg(h.value("energy_sensor").toString());
        }
        const QStringList cells{QString::fromLatin1(core::net::roleName(role)),
                                status,
                                h.value("host").toString(),
                                QString::fromStdString(info.endpoint),
                                versions,
                                info.connected ? tr("%1 ms ago").arg(info.heartbeatAgeMs, 0, 'f', 0) : QString(),
                                details};
        for (int c = 0; c < cells.size(); ++c) {
            auto* item = table_->item(row, c);
            if (!item) table_->setItem(row, c, item = new QTableWidgetItem);
            item->setText(cells[c]);
            item->setToolTip(cells[c]);
            item->setForeground(c == 1 && colour.isValid() ? QBrush(colour) : QBrush());
        }
    }
    table_->resizeColumnsToContents();
    summary_->setText(up == 2 ? (session_.localWorkers() ? tr("Both local workers are up.") : tr("Both remote workers are up."))
                              : tr("%1 of 2 workers up.").arg(up));
}

}  // namespace edgent::gui
