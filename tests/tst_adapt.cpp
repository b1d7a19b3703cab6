// On-device adaptation (core/train/Adapt.h) and the shifted stream (core/data/Shift.h), on
// the shipped model and real Fashion-MNIST images: what each mode holds, how RCT moves its
// widths, and one clear line for bad input. Short runs: bench/adapt.sh measures the gains.
#include "core/util/Torch.h"

#include "TestUtil.h"

#include "core/data/Shift.h"
#include "core/model/ModelIO.h"
#include "core/train/Adapt.h"

#include <QtTest>

using namespace edgent::core;

class TestAdapt : public QObject {
    Q_OBJECT

    static std::shared_ptr<MultiExitNet> model() {
        auto net = loadModel(edgent::test::defaultModel());
        if (!net) qFatal("%s", net.error().c_str());
        return *net;
    }

private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(2); }

    void theShiftIsSeededPerImageAndParsedWithOneLineErrors() {
        auto ds = openDataset("fashion-mnist");
        QVERIFY2(ds.ok(), ds.ok() ? "" : ds.error().c_str());
        auto set = (*ds)->load(Split::Test, 20);
        QVERIFY(set.ok());
        ImageSet a = *set, b = *set, tail = *set;
        shiftImages(a, ShiftSpec{}, 0);
        shiftImages(b, ShiftSpec{}, 0);
        QVERIFY(a.pixels == b.pixels);        // the same images, the same shift
        QVERIFY(a.pixels != set->pixels);     // and it changes them
        // Image 10 shifted as part of images [10, 20) is image 10 shifted alone.
        tail.count = 10;
        tail.pixels.assign(set->image(10), set->image(10) + 10 * set->imageBytes());
        shiftImages(tail, ShiftSpec{}, 10);
        QVERIFY(std::equal(tail.pixels.begin(), tail.pixels.end(), a.image(10)));
        ImageSet none = *set;
        shiftImages(none, *parseShift("none"), 0);
        QVERIFY(none.pixels == set->pixels);
        auto s = parseShift("rotation=10,noise=0,seed=9");
        QVERIFY(s.ok());
        QCOMPARE(s->rotationDeg, 10.0);
        QCOMPARE(s->seed, uint64_t(9));
        QCOMPARE(parseShift(shiftToString(*s))->rotationDeg, 10.0);
        for (const char* bad : {"rotation=400", "blur=2", "noise=-1", "contrast"}) {
            auto r = parseShift(bad);
            QVERIFY(!r.ok());
            QVERIFY(r.error().find('\n') == std::string::npos);
        }
    }

    void badOptionsGetOneClearLine() {
        auto net = model();
        AdaptOptions o;
        const std::pair<std::function<void(AdaptOptions&)>, std::string> cases[] = {
            {[](AdaptOptions& x) { x.mode = "int4"; }, "unknown mode 'int4'"},
            {[](AdaptOptions& x) { x.bits = 1; }, "outside 2–16"},
            {[](AdaptOptions& x) { x.maxBits = 17; }, "outside 2–16"},
            {[](AdaptOptions& x) { x.lastLayer = 12; }, "outside the device's slice [0, 8)"},
            {[](AdaptOptions& x) { x.partition = 2; }, "leaves the device no exit"},
            {[](AdaptOptions& x) { x.partition = 99; }, "outside exit 4's path"},
        };
        for (const auto& [change, message] : cases) {
            AdaptOptions x = o;
            change(x);
            const Status s = checkAdaptOptions(*net, x);
            QVERIFY(!s.ok());
            QVERIFY2(s.error().find(message) != std::string::npos, s.error().c_str());
            QVERIFY(s.error().find('\n') == std::string::npos);
        }
        QVERIFY(checkAdaptOptions(*net, o).ok());
        QCOMPARE(defaultAdaptPartition(*net), 8);  // conv1..pool2, exits 0 and 1 on the device
    }

    // Each mode on the same short stream: the bytes each holds, and RCT's integers.
    void eachModeHoldsWhatItSays() {
        std::map<std::string, AdaptReport> reports;
        for (const std::string mode : {"fp32", "qat", "rct"}) {
            auto net = model();
            AdaptOptions o;
            o.mode = mode;
            o.steps = 40;
            o.evalEvery = 20;
            o.trainFirst = 55000;
            o.trainCount = 2000;
            o.evalFirst = 57000;
            o.evalCount = 500;
            auto r = adaptNet(*net, o);
            QVERIFY2(r.ok(), r.ok() ? "" : r.error().c_str());
            qInfo("%s: shifted %.3f -> %.3f, clean %.3f -> %.3f, held %lld B (peak %lld), GEMM %.3f mJ, bits %s, %.1f s",
                  mode.c_str(), r->shiftedBefore, r->shiftedAfter, r->cleanBefore, r->cleanAfter,
                  static_cast<long long>(r->paramBytesHeld), static_cast<long long>(r->paramBytesPeak), r->gemmEnergyMj,
                  r->steps.back().bits.empty() ? "-" : std::to_string(r->steps.back().bits.front()).c_str(), r->seconds);
            QCOMPARE(r->steps.size(), size_t(40));
            QCOMPARE(r->deviceExits, (std::vector<int>{0, 1}));
            QVERIFY(r->shiftedBefore < r->cleanBefore - 0.1);  // the shift hurts
            QVERIFY(!std::isnan(r->steps[19].evalAccuracy) && std::isnan(r->steps[18].evalAccuracy));
            reports[mode] = *r;
        }
        int64_t params = 0;
        for (const auto& l : reports["fp32"].layers)
            if (l.trained) params += l.params;
        QCOMPARE(reports["fp32"].paramBytesHeld, params * 4);  // float32 weights and biases
        QVERIFY(reports["qat"].paramBytesHeld >= params * 4);  // a float master, its scale recomputed
        QVERIFY2(reports["rct"].paramBytesHeld < reports["qat"].paramBytesHeld * 6 / 10, "at least 40% fewer bytes than QAT");
        QVERIFY(reports["rct"].paramBytesPeak > reports["rct"].paramBytesHeld);  // the forward pass's float copies
        QVERIFY(reports["rct"].gemmEnergyMj < reports["qat"].gemmEnergyMj && reports["qat"].gemmEnergyMj < reports["fp32"].gemmEnergyMj);
        QCOMPARE(reports["rct"].steps.front().bits.size(), size_t(4));  // conv1, conv2 and the two exits' linear layers
    }
};

QTEST_APPLESS_MAIN(TestAdapt)
#include "tst_adapt.moc"
