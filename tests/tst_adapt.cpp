// On-device adaptation (core/train/Adapt.h) and the shifted stream (core/data/Shift.h), on
// the shipped model and real Fashion-MNIST images: what each mode holds, how RCT moves its
// widths, and one clear line for bad input. Short runs: bench/adapt.sh measures the gains.
#include "core/util/Torch.h"

#include "RunTestUtil.h"
#include "TestUtil.h"

#include "core/data/Shift.h"
#include "core/model/ModelIO.h"
#include "core/train/Adapt.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

using namespace edgent::core;

class TestAdapt : public QObject {
    Q_OBJECT

    static std::shared_ptr<MultiExitNet> model() {
        auto net = loadModel(edgent::test::defaultModel());
        if (!net) qFatal("%s", net.error().c_str());
        return *net;
    }

    // A short stream from the training split's tail: images [55000, +trainCount) to adapt on,
    // [57000, +evalCount) held out.
    static AdaptOptions streamOptions(const std::string& mode, int steps, int evalEvery, int64_t trainCount, int64_t evalCount) {
        AdaptOptions o;
        o.mode = mode;
        o.steps = steps;
        o.evalEvery = evalEvery;
        o.trainFirst = 55000;
        o.trainCount = trainCount;
        o.evalFirst = 57000;
        o.evalCount = evalCount;
        return o;
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
            const Status s = checkAdaptOptions(net->spec(), x);
            QVERIFY(!s.ok());
            QVERIFY2(s.error().find(message) != std::string::npos, s.error().c_str());
            QVERIFY(s.error().find('\n') == std::string::npos);
        }
        QVERIFY(checkAdaptOptions(net->spec(), o).ok());
        QCOMPARE(defaultAdaptPartition(net->spec()), 8);  // conv1..pool2, exits 0 and 1 on the device
    }

    // Each mode on the same short stream: the bytes each holds, and RCT's integers.
    void eachModeHoldsWhatItSays() {
        std::map<std::string, AdaptReport> reports;
        for (const std::string mode : {"fp32", "qat", "rct"}) {
            auto net = model();
            auto r = adaptNet(*net, streamOptions(mode, 20, 10, 2000, 500));
            QVERIFY2(r.ok(), r.ok() ? "" : r.error().c_str());
            qInfo("%s: shifted %.3f -> %.3f, clean %.3f -> %.3f, held %lld B (peak %lld), GEMM %.3f mJ, bits %s, %.1f s",
                  mode.c_str(), r->shiftedBefore, r->shiftedAfter, r->cleanBefore, r->cleanAfter,
                  static_cast<long long>(r->paramBytesHeld), static_cast<long long>(r->paramBytesPeak), r->gemmEnergyMj,
                  r->steps.back().bits.empty() ? "-" : std::to_string(r->steps.back().bits.front()).c_str(), r->seconds);
            QCOMPARE(r->steps.size(), size_t(20));
            QCOMPARE(r->deviceExits, (std::vector<int>{0, 1}));
            QVERIFY(r->shiftedBefore < r->cleanBefore - 0.1);  // the shift hurts
            QVERIFY(!std::isnan(r->steps[9].evalAccuracy) && std::isnan(r->steps[8].evalAccuracy));
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

    // An exception in mid-step (here from the progress callback, after the step released the
    // quantised modes' float weights) leaves a net that still runs and takes its old weights
    // back, as the device worker does after a failed adaptation.
    void anExceptionMidStepLeavesTheNetWhole() {
        for (const std::string mode : {"qat", "rct"}) {
            auto net = model();
            const std::string before = encodeWeights(*net);
            std::map<std::string, std::vector<int64_t>> shapes;
            for (const auto& p : net->module().named_parameters()) shapes[p.key()] = p.value().sizes().vec();
            const AdaptOptions o = streamOptions(mode, 5, 100, 200, 50);
            bool threw = false;
            try {
                (void)adaptNet(*net, o, [](const AdaptProgress& p) {
                    if (p.step == 2) throw std::runtime_error("callback failed");
                });
            } catch (const std::runtime_error&) {
                threw = true;
            }
            QVERIFY2(threw, mode.c_str());
            for (const auto& p : net->module().named_parameters()) {
                QVERIFY2(p.value().sizes().vec() == shapes[p.key()], (mode + ": " + p.key()).c_str());
                QVERIFY2(p.value().requires_grad(), (mode + ": " + p.key()).c_str());
            }
            QVERIFY(!net->module().is_training());
            const torch::Tensor x = net->preprocess(torch::zeros({2, 1, 28, 28}, torch::kUInt8));
            QCOMPARE(net->forwardAll(x).back().size(0), int64_t(2));
            const Status s = decodeWeightsInto(*net, before, "the weights before");
            QVERIFY2(s.ok(), s.ok() ? "" : s.error().c_str());
            QVERIFY(encodeWeights(*net) == before);
        }
    }

    // `edgent adapt` on a spawned device worker: the adaptation and its steps in the store,
    // the adapted model saved, then run as co-inference on the shifted test stream; bad input
    // gets one line before any worker starts.
    void adaptsOnTheDeviceWorkerAndTheSavedModelRuns() {
        QTemporaryDir dir;
        const QString db = dir.filePath("runs.sqlite"), saved = dir.filePath("adapted.json");
        auto r = edgent::test::runCli({"adapt", "--db", db, "--local", "--modes", "rct", "--steps", "12", "--batch", "16",
                                       "--train-images", "200", "--eval-images", "200", "--save", saved, "--json"},
                                      120000);
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonObject a = QJsonDocument::fromJson(r.out).object()["adaptations"].toArray().at(0).toObject();
        QCOMPARE(a["mode"].toString(), QStringLiteral("rct"));
        QCOMPARE(a["status"].toString(), QStringLiteral("finished"));
        QVERIFY(a["param_bytes_held"].toInteger() > 0 && a["param_bytes_peak"].toInteger() > a["param_bytes_held"].toInteger());
        QCOMPARE(a["final_bits"].toArray().size(), 4);
        const std::string id = QString::number(a["adaptation_id"].toInteger()).toStdString();
        QCOMPARE(edgent::test::scalar(db.toStdString(), "SELECT count(*) FROM adaptation_steps WHERE adaptation_id=" + id), 12.0);
        QCOMPARE(edgent::test::scalar(db.toStdString(), "SELECT count(*) FROM adaptation_layers WHERE quantised=1 AND adaptation_id=" + id),
                 4.0);
        QCOMPARE(edgent::test::scalar(db.toStdString(), "SELECT count(*) FROM adaptations WHERE status='finished' AND id=" + id), 1.0);
        // Its steps exported for a paper: one row per step, a width column per quantised layer.
        const QString steps = dir.filePath("steps.csv");
        r = edgent::test::runCli({"export", "--db", db, "--adaptation", QString::fromStdString(id), "--out", steps}, 60000);
        QVERIFY2(r.code == 0, r.err.constData());
        const QList<QByteArray> lines = edgent::test::readLines(steps);
        QCOMPARE(lines.size(), 13);
        QCOMPARE(lines[0], QByteArray("step,loss,batch_accuracy,eval_accuracy,conv1_bits,conv2_bits,exit0_fc_bits,exit1_fc_bits"));
        QCOMPARE(lines[12].split(',').size(), 8);
        QCOMPARE(lines[12].split(',')[0], QByteArray("12"));
        // The saved model loads, and its device slice differs from the shipped one's.
        auto adapted = loadModel(saved.toStdString());
        QVERIFY2(adapted.ok(), adapted.ok() ? "" : adapted.error().c_str());
        QVERIFY(!torch::equal((*adapted)->layer(1, 0).module()->parameters()[0], model()->layer(1, 0).module()->parameters()[0]));
        // Co-inference with it on the shifted test stream: exit 1, the device running 4 layers.
        r = edgent::test::runCli({"run", "--db", db, "--model", saved, "--local", "--exit", "1", "--partition", "4", "--count", "20",
                                  "--shift", "default", "--json"},
                                 120000);
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(QJsonDocument::fromJson(r.out).object()["inferences"].toInt(), 20);
        QCOMPARE(edgent::test::scalar(db.toStdString(), "SELECT count(*) FROM run_params WHERE key='shift' AND value LIKE 'rotation=%'"),
                 1.0);
        const std::pair<QStringList, const char*> bad[] = {
            {{"--modes", "int4"}, "unknown mode 'int4'"},
            {{"--bits", "17"}, "outside 2–16"},
            {{"--layers", "0:12"}, "outside the device's slice [0, 8)"},
            {{"--shift", "blur=3"}, "unknown shift 'blur'"},
            {{"--modes", "fp32,rct", "--save", saved}, "give one mode"},
        };
        for (const auto& [args, fragment] : bad) {
            r = edgent::test::runCli(QStringList{"adapt", "--db", db, "--local"} + args, 60000);
            QVERIFY2(r.code != 0 && r.err.count('\n') == 1 && r.err.contains(fragment), r.err.constData());
        }
    }
};

QTEST_APPLESS_MAIN(TestAdapt)
#include "tst_adapt.moc"
