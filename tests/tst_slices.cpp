// Slices of every exit path compose to the full forward pass, on real Fashion-MNIST images.
#include "TestUtil.h"

#include "core/data/Dataset.h"
#include "core/model/ModelIO.h"

#include <QtTest>

using namespace edgent::core;

class TestSlices : public QObject {
    Q_OBJECT
    std::shared_ptr<MultiExitNet> net_;
    torch::Tensor images_;
    std::vector<uint8_t> pixels_;

private Q_SLOTS:
    void initTestCase() {
        torch::set_num_threads(2);
        auto net = loadModel(edgent::test::defaultModel());
        QVERIFY2(net.ok(), net.error().c_str());
        net_ = *net;
        auto ds = openDataset("fashion-mnist");
        QVERIFY2(ds.ok(), ds.error().c_str());
        auto test = (*ds)->load(Split::Test, 16);
        QVERIFY2(test.ok(), test.error().c_str());
        pixels_ = test->pixels;
        const torch::Tensor u8 = torch::from_blob(test->pixels.data(), {16, 1, 28, 28}, torch::kUInt8).clone();
        images_ = net_->preprocess(u8);
    }

    void compositionEqualsFullForwardForEveryExitAndPartition() {
        torch::InferenceMode guard;
        int checked = 0;
        for (int e = 0; e < net_->numExits(); ++e) {
            const int n = net_->pathLength(e);
            auto full = net_->forwardExit(e, images_);
            QVERIFY2(full.ok(), full.error().c_str());
            for (int p = 0; p <= n; ++p) {
                auto head = net_->runSlice(e, 0, p, images_);
                QVERIFY2(head.ok(), head.error().c_str());
                auto tail = net_->runSlice(e, p, n, *head);
                QVERIFY2(tail.ok(), tail.error().c_str());
                // Same ops in the same order: the results are bitwise equal.
                QVERIFY2(torch::equal(*tail, *full), qPrintable(QStringLiteral("exit %1 partition %2 differs").arg(e).arg(p)));
                ++checked;
            }
        }
        // The default model's five paths: 7, 11, 15, 19 and 23 layers, each with n + 1 partitions.
        QCOMPARE(checked, 7 + 1 + 11 + 1 + 15 + 1 + 19 + 1 + 23 + 1);
    }

    // The same for the other shipped architectures: batch norm, 1x1 and depthwise (grouped)
    // convolutions.
    void everyShippedModelComposes() {
        torch::InferenceMode guard;
        for (const std::string& path : edgent::test::shippedModels()) {
            auto net = loadModel(path);
            QVERIFY2(net.ok(), net.error().c_str());
            const torch::Tensor x = (*net)->preprocess(torch::from_blob(pixels_.data(), {16, 1, 28, 28}, torch::kUInt8).clone());
            int groupedLayers = 0;
            for (int e = 0; e < (*net)->numExits(); ++e) {
                const int n = (*net)->pathLength(e);
                const torch::Tensor full = *(*net)->forwardExit(e, x);
                for (int p = 0; p <= n; ++p) {
                    auto head = (*net)->runSlice(e, 0, p, x);
                    QVERIFY2(head.ok(), head.error().c_str());
                    auto tail = (*net)->runSlice(e, p, n, *head);
                    QVERIFY2(tail.ok(), tail.error().c_str());
                    QVERIFY2(torch::equal(*tail, full), qPrintable(QStringLiteral("%1: exit %2 partition %3 differs")
                                                                        .arg(QString::fromStdString(path))
                                                                        .arg(e)
                                                                        .arg(p)));
                }
                for (int i = 0; i < n; ++i) groupedLayers += (*net)->spec().pathLayer(e, i).groups > 1 ? 1 : 0;
            }
            if ((*net)->spec().name.find("mobilenet") != std::string::npos) QVERIFY(groupedLayers > 0);
        }
    }

    void threeWaySplitsAlsoCompose() {
        torch::InferenceMode guard;
        const int e = 4, n = net_->pathLength(4);
        const torch::Tensor full = *net_->forwardExit(e, images_);
        for (int a = 1; a < n; a += 3) {
            const int b = std::min(n, a + 5);
            const torch::Tensor y = *net_->runSlice(e, b, n, *net_->runSlice(e, a, b, *net_->runSlice(e, 0, a, images_)));
            QVERIFY(torch::equal(y, full));
        }
    }

    void forwardAllMatchesEachExitPath() {
        torch::InferenceMode guard;
        const auto all = net_->forwardAll(images_);
        QCOMPARE(static_cast<int>(all.size()), net_->numExits());
        for (int e = 0; e < net_->numExits(); ++e)
            QVERIFY(torch::allclose(all[static_cast<size_t>(e)], *net_->forwardExit(e, images_)));
    }

    void predictedOutputBytesEqualActual() {
        torch::InferenceMode guard;
        for (int e = 0; e < net_->numExits(); ++e) {
            const auto& info = net_->pathInfo(e);
            torch::Tensor x = images_.slice(0, 0, 1);
            for (int i = 0; i < net_->pathLength(e); ++i) {
                x = *net_->runSlice(e, i, i + 1, x);
                const int64_t actualBytes = x.numel() * static_cast<int64_t>(x.element_size());
                QCOMPARE(actualBytes, info[static_cast<size_t>(i)].outputBytes);
                std::vector<int64_t> perItem(x.sizes().begin() + 1, x.sizes().end());
                QCOMPARE(perItem, info[static_cast<size_t>(i)].output.dims);
            }
        }
    }

    void rejectsSliceOutOfRange_data() {
        QTest::addColumn<int>("exit");
        QTest::addColumn<int>("a");
        QTest::addColumn<int>("b");
        QTest::newRow("b past the end") << 0 << 0 << 10;
        QTest::newRow("negative a") << 1 << -1 << 3;
        QTest::newRow("a after b") << 2 << 5 << 4;
        QTest::newRow("unknown exit") << 5 << 0 << 1;
        QTest::newRow("negative exit") << -1 << 0 << 1;
    }
    void rejectsSliceOutOfRange() {
        QFETCH(int, exit);
        QFETCH(int, a);
        QFETCH(int, b);
        auto r = net_->runSlice(exit, a, b, images_);
        QVERIFY(!r.ok());
        QVERIFY2(r.error().find("out of range") != std::string::npos, r.error().c_str());
    }

    void rejectsInputOfTheWrongShape() {
        auto r = net_->runSlice(4, 4, 10, images_);  // layer 4 expects 32x14x14, not 1x28x28
        QVERIFY(!r.ok());
        QVERIFY2(r.error().find("expects 32x14x14") != std::string::npos, r.error().c_str());
    }

    void emptySliceReturnsItsInput() {
        auto r = net_->runSlice(3, 7, 7, images_);
        QVERIFY(r.ok());
        QVERIFY(r->is_same(images_));
    }

    // A layer built on its own (as the profiler's synthetic sweep builds them) runs as a
    // loaded model does: dropout passes its input through, batch norm uses its running
    // statistics (mean 0, variance 1), not the batch's.
    void aLayerBuiltAloneRunsAsInference() {
        torch::InferenceMode guard;
        const Shape map{{8, 5, 5}};
        LayerSpec drop;
        drop.kind = LayerKind::Dropout;
        drop.dropoutP = 0.5;
        const torch::Tensor x = torch::randn({1, 8, 5, 5}) + 3.0;
        QVERIFY(NetLayer(drop, map).forward(x).equal(x));
        LayerSpec bn;
        bn.kind = LayerKind::BatchNorm;
        const torch::Tensor y = NetLayer(bn, map).forward(x);
        QVERIFY(y.allclose(x / std::sqrt(1.0 + 1e-5), 1e-5, 1e-6));
    }
};

QTEST_GUILESS_MAIN(TestSlices)
#include "tst_slices.moc"
