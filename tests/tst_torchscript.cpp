// TorchScript import: a fixture generated in C++ (torch::jit::Module::define, no Python)
// imports into the same network, and its own TorchScript forward agrees.
#include "TestUtil.h"

#include "core/data/Dataset.h"
#include "core/model/ModelIO.h"
#include "core/model/TorchScriptImport.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace edgent::core;

class TestTorchScript : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::shared_ptr<MultiExitNet> net_;
    std::string archive_;
    torch::Tensor images_;

private Q_SLOTS:
    void initTestCase() {
        torch::set_num_threads(2);
        auto net = loadModel(edgent::test::defaultModel());
        QVERIFY2(net.ok(), net.error().c_str());
        net_ = *net;
        archive_ = dir_.filePath("alexnet5.pt").toStdString();
        const Status s = exportTorchScript(*net_, archive_);
        QVERIFY2(s.ok(), s.error().c_str());
        auto ds = openDataset("fashion-mnist");
        QVERIFY(ds.ok());
        auto test = (*ds)->load(Split::Test, 32);
        QVERIFY(test.ok());
        images_ = net_->preprocess(torch::from_blob(test->pixels.data(), {32, 1, 28, 28}, torch::kUInt8).clone());
    }

    void archivesOwnForwardMatchesNativeNet() {
        auto scripted = runTorchScriptForward(archive_, images_);
        QVERIFY2(scripted.ok(), scripted.error().c_str());
        torch::InferenceMode guard;
        const auto native = net_->forwardAll(images_);
        QCOMPARE(scripted->size(), native.size());
        for (size_t e = 0; e < native.size(); ++e) {
            QVERIFY2(torch::allclose((*scripted)[e], native[e], 1e-4, 1e-4), qPrintable(QStringLiteral("exit %1").arg(e)));
            QVERIFY(torch::equal((*scripted)[e].argmax(1), native[e].argmax(1)));
        }
    }

    void importRebuildsTheSameSpecAndOutputs() {
        auto imported = importTorchScript(archive_);
        QVERIFY2(imported.ok(), imported.error().c_str());
        const ModelSpec& a = (*imported)->spec();
        const ModelSpec& b = net_->spec();
        QCOMPARE(a.numExits(), b.numExits());
        for (int e = 0; e < a.numExits(); ++e) {
            QCOMPARE(a.pathLength(e), b.pathLength(e));
            for (int i = 0; i < a.pathLength(e); ++i) QCOMPARE(a.pathLayer(e, i).kind, b.pathLayer(e, i).kind);
        }
        QCOMPARE(a.inputMean, b.inputMean);
        torch::InferenceMode guard;
        const auto x = net_->forwardAll(images_);
        const auto y = (*imported)->forwardAll(images_);
        for (size_t e = 0; e < x.size(); ++e) QVERIFY(torch::equal(x[e], y[e]));
    }

    // Grouped (depthwise) convolutions and batch norm go through the archive too: the
    // MobileNet-style and VGG-style shipped models export, import to the same spec, and agree.
    void everyShippedArchitectureRoundTrips() {
        for (const std::string& path : edgent::test::shippedModels()) {
            auto net = loadModel(path);
            QVERIFY2(net.ok(), net.error().c_str());
            const std::string archive = dir_.filePath(QString::fromStdString((*net)->spec().name) + ".pt").toStdString();
            const Status s = exportTorchScript(**net, archive);
            QVERIFY2(s.ok(), s.error().c_str());
            auto imported = importTorchScript(archive);
            QVERIFY2(imported.ok(), imported.error().c_str());
            const ModelSpec& a = (*imported)->spec();
            const ModelSpec& b = (*net)->spec();
            QCOMPARE(a.numExits(), b.numExits());
            for (int e = 0; e < a.numExits(); ++e)
                for (int i = 0; i < a.pathLength(e); ++i) {
                    QCOMPARE(a.pathLayer(e, i).kind, b.pathLayer(e, i).kind);
                    QCOMPARE(a.pathLayer(e, i).groups, b.pathLayer(e, i).groups);
                }
            auto scripted = runTorchScriptForward(archive, images_);
            QVERIFY2(scripted.ok(), scripted.error().c_str());
            torch::InferenceMode guard;
            const auto x = (*net)->forwardAll(images_);
            const auto y = (*imported)->forwardAll(images_);
            for (size_t e = 0; e < x.size(); ++e) {
                QVERIFY(torch::equal(x[e], y[e]));
                QVERIFY(torch::allclose((*scripted)[e], x[e], 1e-4, 1e-4));
            }
        }
    }

    void rejectsAFileThatIsNotAnArchive() {
        const QString path = dir_.filePath("garbage.pt");
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(4096, 'x'));
        f.close();
        auto r = importTorchScript(path.toStdString());
        QVERIFY(!r.ok());
        QVERIFY2(r.error().find("cannot load TorchScript archive") != std::string::npos, r.error().c_str());
        QVERIFY(r.error().find('\n') == std::string::npos);
    }

    void rejectsAnArchiveWithoutTheConvention() {
        torch::jit::Module m(c10::QualifiedName("__torch__.Plain"));
        m.define("def forward(self, x):\n    return x\n");
        const std::string path = dir_.filePath("plain.pt").toStdString();
        m.save(path);
        auto r = importTorchScript(path);
        QVERIFY(!r.ok());
        QVERIFY2(r.error().find("does not follow the multi-exit convention") != std::string::npos, r.error().c_str());
    }
};

QTEST_GUILESS_MAIN(TestTorchScript)
#include "tst_torchscript.moc"
