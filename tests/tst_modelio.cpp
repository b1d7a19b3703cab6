// The native format: save -> load gives identical outputs; damaged files get one clear line.
#include "TestUtil.h"

#include "core/model/ModelFile.h"
#include "core/model/ModelIO.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace edgent::core;

class TestModelIo : public QObject {
    Q_OBJECT

    static torch::Tensor probe(const MultiExitNet& net) {
        torch::manual_seed(3);
        return torch::randn({4, net.spec().input.dims[0], net.spec().input.dims[1], net.spec().input.dims[2]});
    }

    static void expectError(const Result<std::shared_ptr<MultiExitNet>>& r, const char* fragment) {
        QVERIFY(!r.ok());
        QVERIFY2(r.error().find(fragment) != std::string::npos, r.error().c_str());
        QVERIFY2(r.error().find('\n') == std::string::npos, "one line");
    }

private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(2); }

    void saveThenLoadGivesIdenticalOutputs() {
        QTemporaryDir dir;
        auto net = MultiExitNet::create(alexNet5Spec(1, 28, 28, 10), 11);
        QVERIFY(net.ok());
        (*net)->eval();
        const std::string path = dir.filePath("m.json").toStdString();
        QVERIFY(saveModel(**net, path, "{\"purpose\":\"test\"}").ok());
        auto loaded = loadModel(path);
        QVERIFY2(loaded.ok(), loaded.error().c_str());
        torch::InferenceMode guard;
        const torch::Tensor x = probe(**net);
        const auto a = (*net)->forwardAll(x);
        const auto b = (*loaded)->forwardAll(x);
        for (size_t e = 0; e < a.size(); ++e) QVERIFY(torch::equal(a[e], b[e]));
        QCOMPARE(specJson((*loaded)->spec()), specJson((*net)->spec()));
        auto file = readModelFile(path);
        QVERIFY(file.ok());
        QVERIFY(file->trainingJson.find("\"purpose\":\"test\"") != std::string::npos);
    }

    void defaultModelRoundTripsBitForBit() {
        QTemporaryDir dir;
        auto net = loadModel(edgent::test::defaultModel());
        QVERIFY2(net.ok(), net.error().c_str());
        const std::string path = dir.filePath("copy.json").toStdString();
        QVERIFY(saveModel(**net, path).ok());
        auto again = loadModel(path);
        QVERIFY(again.ok());
        QVERIFY(encodeWeights(**net) == encodeWeights(**again));
        QCOMPARE((*again)->spec().exitAccuracy, (*net)->spec().exitAccuracy);
    }

    void tinyFixtureLoads() {
        auto net = loadModel(edgent::test::dataFile("tiny.json"));
        QVERIFY2(net.ok(), net.error().c_str());
        QCOMPARE((*net)->numExits(), 2);
        QCOMPARE((*net)->pathLength(0), 5);
    }

    void rejectsTruncatedWeights() { expectError(loadModel(edgent::test::dataFile("tiny-truncated.json")), "truncated"); }

    void rejectsCorruptWeights() { expectError(loadModel(edgent::test::dataFile("tiny-corrupt.json")), "corrupt"); }

    void decoderRejectsEveryTruncation() {
        auto net = loadModel(edgent::test::dataFile("tiny.json"));
        QVERIFY(net.ok());
        const std::string blob = encodeWeights(**net);
        for (size_t cut : {size_t(0), size_t(3), size_t(20), blob.size() / 3, blob.size() - 1}) {
            const Status s = decodeWeightsInto(**net, blob.substr(0, cut), "w");
            QVERIFY2(!s.ok(), qPrintable(QStringLiteral("cut at %1 accepted").arg(cut)));
        }
        QVERIFY(decodeWeightsInto(**net, blob, "w").ok());
    }

    void rejectsWeightsOfAnotherModel() {
        QTemporaryDir dir;
        auto tiny = loadModel(edgent::test::dataFile("tiny.json"));
        auto big = MultiExitNet::create(alexNet5Spec(1, 28, 28, 10));
        QVERIFY(tiny.ok() && big.ok());
        const Status s = decodeWeightsInto(**big, encodeWeights(**tiny), "w");
        QVERIFY(!s.ok());
        QVERIFY2(s.error().find("does not have") != std::string::npos || s.error().find("wrong shape") != std::string::npos,
                 s.error().c_str());
    }

    void rejectsMissingWeightsFile() {
        QTemporaryDir dir;
        auto net = loadModel(edgent::test::dataFile("tiny.json"));
        const std::string path = dir.filePath("lonely.json").toStdString();
        QVERIFY(saveModel(**net, path).ok());
        QVERIFY(QFile::remove(dir.filePath("lonely.weights")));
        expectError(loadModel(path), "cannot read weights file");
    }

    void saveIsAtomicAndLeavesNoTemporaries() {
        QTemporaryDir dir;
        auto net = loadModel(edgent::test::dataFile("tiny.json"));
        QVERIFY(saveModel(**net, dir.filePath("a.json").toStdString()).ok());
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files), (QStringList{"a.json", "a.weights"}));
    }
};

QTEST_GUILESS_MAIN(TestModelIo)
#include "tst_modelio.moc"
