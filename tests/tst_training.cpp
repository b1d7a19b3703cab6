// Joint training on a real 2k-image subset of Fashion-MNIST.
#include "TestUtil.h"

#include "core/model/ModelIO.h"
#include "core/train/Training.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace edgent::core;

class TestTraining : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

    TrainOptions options(const char* name, int64_t limit) const {
        TrainOptions o;
        o.outPath = dir_.filePath(name).toStdString();
        o.epochs = 1;
        o.trainLimit = limit;
        o.evalLimit = 500;
        o.threads = 2;
        o.seed = 5;
        return o;
    }

private Q_SLOTS:
    void trainingOnTwoThousandImagesLowersTheLoss() {
        int progressCalls = 0;
        TrainProgress last;
        auto report = trainModel(options("subset.json", 2000), [&](const TrainProgress& p) {
            ++progressCalls;
            last = p;
        });
        QVERIFY2(report.ok(), report.error().c_str());
        QVERIFY2(report->probeLossAfter < 0.7 * report->probeLossBefore,
                 qPrintable(QStringLiteral("%1 -> %2").arg(report->probeLossBefore).arg(report->probeLossAfter)));
        QCOMPARE(report->epochsCompleted, 1);
        QCOMPARE(progressCalls, 32);  // ceil(2000 / 64) batches
        QCOMPARE(last.batch, last.batches);
        QVERIFY(last.imagesPerSecond > 0.0);
        QCOMPARE(report->exitAccuracy.size(), size_t(5));
        for (double a : report->exitAccuracy) QVERIFY2(a > 0.3, "every exit beats chance (10%) clearly");
        auto net = loadModel(report->savedPath);
        QVERIFY2(net.ok(), net.error().c_str());
        QCOMPARE((*net)->spec().exitAccuracy, report->exitAccuracy);
    }

    // --appeal: after the joint stage, the appeal stage trains heads on exits 0-2 through the
    // same loop (its progress says "appeal"), and the saved model carries them.
    void appealTrainingAddsHeadsAndReportsTheirStage() {
        TrainOptions o = options("appeal.json", 512);
        o.appeal = true;
        o.appealEpochs = 1;
        o.evalLimit = 200;
        int appealBatches = 0;
        auto report = trainModel(o, [&](const TrainProgress& p) { appealBatches += p.stage == "appeal"; });
        QVERIFY2(report.ok(), report.error().c_str());
        QCOMPARE(report->epochsCompleted, 1);
        QCOMPARE(report->appealLoss.size(), size_t(1));
        QVERIFY(std::isfinite(report->appealLoss[0]) && report->appealLoss[0] > 0.0);
        QCOMPARE(appealBatches, 8);  // 512 / 64
        auto net = edgent::core::loadModel(o.outPath);
        QVERIFY2(net.ok(), net.ok() ? "" : net.error().c_str());
        for (int e = 0; e < 3; ++e) QVERIFY((*net)->spec().hasAppeal(e));
        QVERIFY(!(*net)->spec().hasAppeal(4));
    }

    void sameSeedGivesTheSameModel() {
        TrainOptions a = options("a.json", 256), b = options("b.json", 256);
        a.threads = b.threads = 1;
        auto ra = trainModel(a);
        auto rb = trainModel(b);
        QVERIFY(ra.ok() && rb.ok());
        QCOMPARE(ra->probeLossAfter, rb->probeLossAfter);
        auto na = loadModel(ra->savedPath), nb = loadModel(rb->savedPath);
        QVERIFY(encodeWeights(**na) == encodeWeights(**nb));
    }

    void cancellingSavesACheckpoint() {
        std::atomic<bool> cancel{true};
        auto report = trainModel(options("stopped.json", 256), {}, &cancel);
        QVERIFY2(report.ok(), report.error().c_str());
        QVERIFY(report->interrupted);
        QVERIFY(QString::fromStdString(report->savedPath).endsWith("stopped.checkpoint.json"));
        QVERIFY(loadModel(report->savedPath).ok());
        QVERIFY(!QFile::exists(dir_.filePath("stopped.json")));
    }

    void rejectsWrongNumberOfExitWeights() {
        TrainOptions o = options("w.json", 64);
        o.exitWeights = {1.0, 1.0};
        auto r = trainModel(o);
        QVERIFY(!r.ok());
        QVERIFY2(r.error().find("2 values for 5 exits") != std::string::npos, r.error().c_str());
    }

    void rejectsMissingDataDirectory() {
        TrainOptions o = options("d.json", 64);
        o.dataDir = "/nonexistent/fmnist";
        auto r = trainModel(o);
        QVERIFY(!r.ok());
        QVERIFY(r.error().find("does not exist") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestTraining)
#include "tst_training.moc"
