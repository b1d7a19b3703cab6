// CURVE: a worker started with --curve-keys admits the controller holding the client key
// and refuses one with another key.
#include "TestUtil.h"

#include "core/control/Controller.h"
#include "core/control/LocalWorkers.h"
#include "core/net/Curve.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace edgent::core;
using namespace edgent::core::control;
using namespace edgent::core::net;

class TestCurve : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private Q_SLOTS:
    void initTestCase() {
        if (!curveAvailable()) QSKIP("this libzmq has no CURVE support");
        QVERIFY(generateCurveKeys(dir_.filePath("keys").toStdString()).ok());
        QVERIFY(generateCurveKeys(dir_.filePath("other").toStdString()).ok());
    }

    void generatedKeysLoad() {
        auto keys = loadCurveKeys(dir_.filePath("keys").toStdString(), true);
        QVERIFY2(keys.ok(), keys.error().c_str());
        QCOMPARE(keys->serverSecret.size(), size_t(40));
        QVERIFY(keys->authorizedClients.count(keys->clientPublic));
        QVERIFY(QFile::permissions(dir_.filePath("keys/server.secret")) & QFile::ReadOwner);
        QVERIFY(!(QFile::permissions(dir_.filePath("keys/server.secret")) & QFile::ReadOther));
    }

    void rightKeysConnectWrongKeysAreRefused() {
        SpawnedWorker edge;
        const auto s = spawnWorker(edge, Role::Edge, 1, dir_.filePath("keys").toStdString());
        QVERIFY2(s.ok(), s.error().c_str());
        {
            Controller::Options o;
            o.curveKeysDir = dir_.filePath("keys").toStdString();
            Controller good(o);
            const Status c = good.connect(Role::Edge, edge.controlEndpoint, 5000);
            QVERIFY2(c.ok(), c.error().c_str());
            QCOMPARE(good.info(Role::Edge).hello.value("role").toString(), QStringLiteral("edge"));
        }
        {
            // Knows the server's public key but holds an unauthorised client key.
            const QString mixed = dir_.filePath("mixed");
            QDir().mkpath(mixed);
            QFile::copy(dir_.filePath("keys/server.pub"), mixed + "/server.pub");
            QFile::copy(dir_.filePath("other/client.pub"), mixed + "/client.pub");
            QFile::copy(dir_.filePath("other/client.secret"), mixed + "/client.secret");
            Controller::Options o;
            o.curveKeysDir = mixed.toStdString();
            Controller intruder(o);
            const Status c = intruder.connect(Role::Edge, edge.controlEndpoint, 2000);
            QVERIFY(!c.ok());
            QVERIFY2(c.error().find("check the CURVE keys") != std::string::npos, c.error().c_str());
        }
        {
            Controller plain;  // no CURVE at all
            QVERIFY(!plain.connect(Role::Edge, edge.controlEndpoint, 2000).ok());
        }
        QVERIFY(edge.process.running());
        edge.process.stop(2000);
    }

    void missingKeyFolderIsAClearError() {
        Controller::Options o;
        o.curveKeysDir = "/nonexistent/keys";
        Controller c(o);
        const Status s = c.connect(Role::Edge, "tcp://127.0.0.1:1", 500);
        QVERIFY(!s.ok());
        QVERIFY(s.error().find("does not exist") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestCurve)
#include "tst_curve.moc"
