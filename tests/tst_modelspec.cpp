// Shape inference, transfer bytes, Table-1 features and FLOPs, derived without running.
#include "TestUtil.h"

#include "core/model/ModelFile.h"
#include "core/model/ModelSpec.h"

#include <QtTest>

using namespace edgent::core;

class TestModelSpec : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void alexNetHasFiveExitsOfIncreasingDepth() {
        const ModelSpec spec = alexNet5Spec(1, 28, 28, 10);
        QVERIFY(validateSpec(spec).ok());
        QCOMPARE(spec.numExits(), 5);
        int previous = 0;
        int64_t previousFlops = 0;
        for (int e = 0; e < 5; ++e) {
            auto path = analyzePath(spec, e);
            QVERIFY2(path.ok(), path.error().c_str());
            QVERIFY(spec.pathLength(e) > previous);
            previous = spec.pathLength(e);
            int64_t flops = 0;
            for (const auto& l : *path) flops += l.flops;
            QVERIFY2(flops > previousFlops, "deeper exits cost more");
            previousFlops = flops;
        }
    }

    void alexNetUsesEveryTableOneKind() {
        const ModelSpec spec = alexNet5Spec(1, 28, 28, 10);
        auto path = analyzePath(spec, 4);
        QVERIFY(path.ok());
        QSet<int> kinds;
        for (const auto& l : *path) kinds.insert(static_cast<int>(l.kind));
        for (LayerKind k : {LayerKind::Conv, LayerKind::Relu, LayerKind::MaxPool, LayerKind::Lrn, LayerKind::Dropout,
                            LayerKind::Flatten, LayerKind::Linear})
            QVERIFY2(kinds.contains(static_cast<int>(k)), std::string(layerKindName(k)).c_str());
    }

    void colourVariantFitsThirtyTwoPixels() {
        const ModelSpec spec = alexNet5Spec(3, 32, 32, 10);
        QVERIFY(validateSpec(spec).ok());
        auto path = analyzePath(spec, 4);
        QVERIFY(path.ok());
        QCOMPARE(path->front().output, (Shape{{32, 32, 32}}));
        QCOMPARE(path->front().paramCount, 32 * 3 * 5 * 5 + 32);
    }

    void convLayerDerivesShapeBytesFeaturesAndFlops() {
        const ModelSpec spec = alexNet5Spec(1, 28, 28, 10);
        auto path = analyzePath(spec, 0);
        QVERIFY(path.ok());
        const LayerInfo& conv1 = (*path)[0];
        QCOMPARE(conv1.kind, LayerKind::Conv);
        QCOMPARE(conv1.input, (Shape{{1, 28, 28}}));
        QCOMPARE(conv1.output, (Shape{{32, 28, 28}}));
        QCOMPARE(conv1.outputBytes, int64_t(32 * 28 * 28 * 4));
        QCOMPARE(conv1.paramCount, int64_t(32 * 1 * 25 + 32));
        QCOMPARE(conv1.paramBytes, conv1.paramCount * 4);
        QCOMPARE(conv1.flops, int64_t(2) * 1 * 25 * 32 * 28 * 28);
        // Table 1: input feature-map size; (filter/stride)^2 x filters
        QCOMPARE(conv1.features.size(), size_t(2));
        QCOMPARE(conv1.features[0], 784.0);
        QCOMPARE(conv1.features[1], 25.0 * 32.0);
        const LayerInfo& pool1 = (*path)[3];
        QCOMPARE(pool1.kind, LayerKind::MaxPool);
        QCOMPARE(pool1.output, (Shape{{32, 14, 14}}));
        QCOMPARE(pool1.features, (std::vector<double>{32.0 * 28 * 28, 32.0 * 14 * 14}));
    }

    void linearLayerFeaturesAreInputAndOutputSize() {
        const ModelSpec spec = alexNet5Spec(1, 28, 28, 10);
        auto path = analyzePath(spec, 4);
        QVERIFY(path.ok());
        const LayerInfo& fc8 = path->back();
        QCOMPARE(fc8.kind, LayerKind::Linear);
        QCOMPARE(fc8.features, (std::vector<double>{256.0, 10.0}));
        QCOMPARE(fc8.paramCount, int64_t(256 * 10 + 10));
        QCOMPARE(fc8.flops, int64_t(2 * 256 * 10));
        QCOMPARE(fc8.output, (Shape{{10}}));
    }

    void transferBytesFollowThePartitionConvention() {
        const ModelSpec spec = alexNet5Spec(1, 28, 28, 10);
        auto path = analyzePath(spec, 2);
        QVERIFY(path.ok());
        const int n = static_cast<int>(path->size());
        QCOMPARE(transferBytes(spec, *path, 0), int64_t(28 * 28));  // raw uint8 input
        QCOMPARE(transferBytes(spec, *path, 1), (*path)[0].outputBytes);
        QCOMPARE(transferBytes(spec, *path, n - 1), (*path)[static_cast<size_t>(n - 2)].outputBytes);
        QCOMPARE(transferBytes(spec, *path, n), int64_t(0));  // device-only
    }

    void featureNamesMatchFeatureCounts() {
        const ModelSpec spec = alexNet5Spec(1, 28, 28, 10);
        for (int e = 0; e < spec.numExits(); ++e) {
            const auto path = analyzePath(spec, e);
            QVERIFY(path.ok());
            for (const auto& l : *path) QCOMPARE(l.features.size(), tableOneFeatureNames(l.kind).size());
        }
    }

    void specRoundTripsThroughJson() {
        ModelSpec spec = alexNet5Spec(1, 28, 28, 10);
        spec.exitAccuracy = {0.8, 0.85, 0.88, 0.9, 0.91};
        spec.accuracyDataset = "fashion-mnist test";
        const std::string text = modelFileJson(spec, "x.weights", 10, 0xabcdef01u, "{}");
        auto back = parseModelSpec(text, "round trip");
        QVERIFY2(back.ok(), back.error().c_str());
        QCOMPARE(back->trunk.size(), spec.trunk.size());
        QCOMPARE(back->exitAccuracy, spec.exitAccuracy);
        QCOMPARE(specJson(*back), specJson(spec));
    }

    void rejectsBadSpecs_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("expected");
        QTest::newRow("unknown kind") << "bad-unknown-kind.json"
                                      << "unknown layer kind 'softmax2'";
        QTest::newRow("inconsistent shapes") << "bad-inconsistent-shapes.json"
                                             << "in_features 32 does not match the 64 incoming features";
        QTest::newRow("attach out of range") << "bad-attach-out-of-range.json"
                                             << "outside the trunk";
        QTest::newRow("fc on a feature map") << "bad-fc-on-feature-map.json"
                                             << "expects a flat vector";
        QTest::newRow("not json") << "bad-not-json.json"
                                  << "not valid JSON";
        QTest::newRow("missing file") << "no-such-model.json"
                                      << "does not exist";
    }
    void rejectsBadSpecs() {
        QFETCH(QString, file);
        QFETCH(QString, expected);
        auto result = readModelFile(edgent::test::dataPath(file).toStdString());
        QVERIFY(!result.ok());
        QVERIFY2(result.error().find(expected.toStdString()) != std::string::npos, result.error().c_str());
        QVERIFY2(result.error().find('\n') == std::string::npos, "one line");
    }

    void depthwiseConvCountsOneFilterPerChannel() {
        const ModelSpec spec = mobileNet3Spec(1, 28, 28, 10);
        QVERIFY(validateSpec(spec).ok());
        const auto path = analyzePath(spec, 2);
        QVERIFY(path.ok());
        int depthwise = 0;
        for (int i = 0; i < spec.pathLength(2); ++i) {
            const LayerSpec& l = spec.pathLayer(2, i);
            if (l.kind != LayerKind::Conv || l.groups == 1) continue;
            const LayerInfo& info = (*path)[static_cast<size_t>(i)];
            const int64_t c = info.input.dims[0];
            QCOMPARE(l.groups, c);
            // one k x k filter per channel: c * 9 weights and c biases, not c * c * 9
            QCOMPARE(info.paramCount, c * 9 + c);
            QCOMPARE(info.flops, 2 * 9 * info.output.elements());
            QCOMPARE(info.config.back(), static_cast<double>(c));  // the groups feature
            ++depthwise;
        }
        QCOMPARE(depthwise, 4);
        QCOMPARE(configFeatureNames().size(), (*path)[0].config.size());
    }

    void builtInArchitecturesValidateAndUnknownOnesAreOneLine() {
        for (const auto& name : builtinSpecNames()) {
            auto spec = builtinSpec(name, 1, 28, 28, 10);
            QVERIFY2(spec.ok(), spec.error().c_str());
            QVERIFY2(validateSpec(*spec).ok(), name.c_str());
            QVERIFY(spec->numExits() >= 3);
        }
        auto bad = builtinSpec("resnet", 1, 28, 28, 10);
        QVERIFY(!bad.ok());
        QVERIFY2(bad.error().find("alexnet5, vgg3, mobilenet3") != std::string::npos, bad.error().c_str());
    }

    void groupsThatDoNotDivideTheChannelsAreRefused() {
        ModelSpec spec = alexNet5Spec(1, 28, 28, 10);
        spec.trunk[4].groups = 5;  // conv2: 32 channels in, 64 out
        const Status s = validateSpec(spec);
        QVERIFY(!s.ok());
        QVERIFY2(s.error().find("groups 5 must divide") != std::string::npos, s.error().c_str());
        // A profile row stored before groups existed gains groups = 1.
        std::vector<double> old(configFeatureNames().size() - 1, 2.0);
        upgradeConfig(old);
        QCOMPARE(old.size(), configFeatureNames().size());
        QCOMPARE(old.back(), 1.0);
    }

    void rejectsKernelLargerThanInput() {
        ModelSpec spec = alexNet5Spec(1, 28, 28, 10);
        spec.trunk[0].kernel = 40;
        spec.trunk[0].padding = 0;
        const Status s = validateSpec(spec);
        QVERIFY(!s.ok());
        QVERIFY2(s.error().find("does not fit") != std::string::npos, s.error().c_str());
    }
};

QTEST_GUILESS_MAIN(TestModelSpec)
#include "tst_modelspec.moc"
