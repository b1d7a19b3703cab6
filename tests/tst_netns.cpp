// Co-inference across a truly shaped link: the edge runs in its own network namespace,
// joined to the device's by a veth pair whose device-side egress is shaped with
// `tc qdisc tbf`. The workers run in measure-only mode; the throughput the device measures
// must match the tbf rate. Needs root (skipped otherwise, with the reason).
#include "TestUtil.h"

#include "core/control/Controller.h"
#include "core/control/LocalWorkers.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QtTest>

#include <condition_variable>
#include <mutex>
#include <unistd.h>

using namespace edgent::core;
using namespace edgent::core::control;
using namespace edgent::core::net;

namespace {

// Runs a command; returns its combined output, or an error line.
Result<QString> sh(const QString& program, const QStringList& args) {
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(program, args);
    if (!p.waitForFinished(10000)) return makeError((program + " timed out").toStdString());
    const QString out = QString::fromLocal8Bit(p.readAll()).trimmed();
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
        return makeError((program + " " + args.join(' ') + ": " + out).toStdString());
    return out;
}

}  // namespace

class TestNetns : public QObject {
    Q_OBJECT
    QString ns_, vethDevice_, vethEdge_, deviceIp_, edgeIp_;
    bool created_ = false;

private Q_SLOTS:
    void initTestCase() {
        if (::geteuid() != 0) QSKIP("needs root to create network namespaces and tc qdiscs");
        if (QStandardPaths::findExecutable("ip").isEmpty() || QStandardPaths::findExecutable("tc").isEmpty())
            QSKIP("needs iproute2 (ip and tc)");
        const QString id = QString::number(::getpid() % 50000);
        ns_ = "edgent-edge-" + id;
        vethDevice_ = "edv" + id;
        vethEdge_ = "ede" + id;
        // A private /30 per test process, used only inside this machine's own namespaces.
        const int subnet = static_cast<int>(::getpid() % 250) + 1;
        deviceIp_ = QStringLiteral("10.213.%1.1").arg(subnet);
        edgeIp_ = QStringLiteral("10.213.%1.2").arg(subnet);
        auto made = sh("ip", {"netns", "add", ns_});
        if (!made) QSKIP(qPrintable("cannot create a network namespace here: " + QString::fromStdString(made.error())));
        created_ = true;
        for (const QStringList& args :
             {QStringList{"link", "add", vethDevice_, "type", "veth", "peer", "name", vethEdge_},
              QStringList{"link", "set", vethEdge_, "netns", ns_},
              QStringList{"addr", "add", deviceIp_ + "/30", "dev", vethDevice_}, QStringList{"link", "set", vethDevice_, "up"},
              QStringList{"netns", "exec", ns_, "ip", "addr", "add", edgeIp_ + "/30", "dev", vethEdge_},
              QStringList{"netns", "exec", ns_, "ip", "link", "set", vethEdge_, "up"},
              QStringList{"netns", "exec", ns_, "ip", "link", "set", "lo", "up"}}) {
            auto r = sh("ip", args);
            QVERIFY2(r.ok(), r.error().c_str());
        }
    }

    void measuredThroughputMatchesTheTbfRate() {
        SpawnedWorker device;
        QVERIFY(spawnWorker(device, Role::Device, 1, {}).ok());
        ChildProcess edgeProcess;
        const std::string worker = workerExecutable();
        QVERIFY(edgeProcess
                    .start(QStandardPaths::findExecutable("ip").toStdString(),
                           {"netns", "exec", ns_.toStdString(), worker, "--role", "edge", "--bind",
                            "tcp://" + edgeIp_.toStdString() + ":0"})
                    .ok());
        auto line = edgeProcess.readLine(15000);
        QVERIFY2(line.ok(), line.error().c_str());
        const QString control = QJsonDocument::fromJson(QByteArray::fromStdString(*line)).object().value("control").toString();
        QVERIFY(control.startsWith("tcp://" + edgeIp_));
        // Without --data-bind, the data endpoint follows --bind's host: a device on another
        // host can reach it (it used to stay on loopback, and every frame timed out).
        const QString data = QJsonDocument::fromJson(QByteArray::fromStdString(*line)).object().value("data").toString();
        QVERIFY2(data.startsWith("tcp://" + edgeIp_), qPrintable(data));

        std::mutex mutex;
        std::condition_variable cv;
        std::vector<Sample> samples;
        bool ended = false;
        Controller controller;
        auto subscription = controller.subscribe(
            [&](const Sample& s) {
                std::lock_guard lock(mutex);
                samples.push_back(s);
            },
            [&](const WorkerEvent& e) {
                std::lock_guard lock(mutex);
                if (e.kind == EventKind::StreamFinished || e.kind == EventKind::StreamError) ended = true;
                cv.notify_all();
            });
        QVERIFY(controller.connect(Role::Edge, control.toStdString()).ok());
        QVERIFY(controller.connect(Role::Device, device.controlEndpoint).ok());
        const std::vector<std::string> files = edgent::test::modelBytes(edgent::test::defaultModel());
        for (Role r : {Role::Edge, Role::Device})
            QVERIFY(controller.call(r, Command::LoadModel, {}, 20000, files).ok());

        // Shape the device's uplink only now, after the model crossed the link.
        const double rateBps = 4e6;
        auto tc =
            sh("tc", {"qdisc", "add", "dev", vethDevice_, "root", "tbf", "rate", "4mbit", "burst", "16kb", "latency", "500ms"});
        QVERIFY2(tc.ok(), tc.error().c_str());
        // exit 4, p = 1: the 32x28x28 conv1 map, 100,404 bytes per frame (~200 ms at 4 Mbit/s).
        QVERIFY(controller
                    .call(Role::Device, Command::Configure,
                          QJsonObject{{"exit", 4},
                                      {"partition", 1},
                                      {"bandwidth_bps", 0.0},
                                      {"edge_endpoint", QString::fromStdString(controller.info(Role::Edge).dataEndpoint)}})
                    .ok());
        QVERIFY(controller.call(Role::Device, Command::StartStream, QJsonObject{{"count", 12}}).ok());
        {
            std::unique_lock lock(mutex);
            QVERIFY(cv.wait_for(lock, std::chrono::seconds(60), [&] { return ended; }));
        }
        std::vector<double> ratios;
        for (size_t i = 2; i < samples.size(); ++i) ratios.push_back(samples[i].throughputBps / rateBps);  // after tbf's burst
        QVERIFY(ratios.size() >= 8);
        std::sort(ratios.begin(), ratios.end());
        const double median = ratios[ratios.size() / 2];
        qInfo("measured throughput / tbf rate: median %.3f (min %.3f, max %.3f) over %zu frames of %lld bytes", median,
              ratios.front(), ratios.back(), ratios.size(), static_cast<long long>(samples.back().bytesSent));
        // Two small effects pull in opposite directions: TCP/IP headers take ~4% of what tbf
        // counts (goodput below the rate), and tbf refills its bucket while the device computes
        // between frames, so the next frame's first kilobytes pass unshaped (goodput above it).
        QVERIFY2(median > 0.90 && median < 1.08, qPrintable(QString::number(median)));
        QCOMPARE(samples.back().bandwidthBps, 0.0);  // measure-only: nothing was shaped in software
        (void)controller.call(Role::Device, Command::Shutdown, {}, 2000);
        (void)controller.call(Role::Edge, Command::Shutdown, {}, 2000);
        device.process.stop(2000);
        edgeProcess.stop(2000);
    }

    void cleanupTestCase() {
        if (!created_) return;
        (void)sh("ip", {"link", "del", vethDevice_});
        (void)sh("ip", {"netns", "del", ns_});
    }
};

QTEST_GUILESS_MAIN(TestNetns)
#include "tst_netns.moc"
