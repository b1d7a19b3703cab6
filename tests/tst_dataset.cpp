// Dataset readers on real Fashion-MNIST and on damaged fixtures.
#include "TestUtil.h"

#include "core/data/Dataset.h"

#include <QtTest>

using namespace edgent::core;

class TestDataset : public QObject {
    Q_OBJECT

    static void expectLoadError(const std::string& dir, const char* fragment) {
        auto ds = openDataset("fashion-mnist", dir);
        QVERIFY2(ds.ok(), ds.error().c_str());
        auto set = (*ds)->load(Split::Test);
        QVERIFY(!set.ok());
        QVERIFY2(set.error().find(fragment) != std::string::npos, set.error().c_str());
        QVERIFY(set.error().find('\n') == std::string::npos);
    }

private Q_SLOTS:
    void readsTheFullFashionMnistTestSplit() {
        auto ds = openDataset("fashion-mnist");
        QVERIFY2(ds.ok(), ds.error().c_str());
        auto test = (*ds)->load(Split::Test);
        QVERIFY2(test.ok(), test.error().c_str());
        QCOMPARE(test->count, int64_t(10000));
        QCOMPARE(test->height, int64_t(28));
        QCOMPARE(test->pixels.size(), size_t(10000 * 784));
        // The published test split is balanced: 1000 images per class.
        std::vector<int> perClass(10, 0);
        for (uint8_t l : test->labels) perClass[l]++;
        for (int c = 0; c < 10; ++c) QCOMPARE(perClass[static_cast<size_t>(c)], 1000);
        QCOMPARE((*ds)->classNames().size(), size_t(10));
    }

    void limitKeepsTheFirstImages() {
        auto ds = openDataset("fashion-mnist");
        auto all = (*ds)->load(Split::Train, 0);
        auto few = (*ds)->load(Split::Train, 100);
        QVERIFY(all.ok() && few.ok());
        QCOMPARE(all->count, int64_t(60000));
        QCOMPARE(few->count, int64_t(100));
        QVERIFY(std::equal(few->pixels.begin(), few->pixels.end(), all->pixels.begin()));
        QVERIFY(std::equal(few->labels.begin(), few->labels.end(), all->labels.begin()));
    }

    void measuredMeanMatchesTheDeclaredNormalisation() {
        auto ds = openDataset("fashion-mnist");
        auto train = (*ds)->load(Split::Train, 0);
        QVERIFY(train.ok());
        double sum = 0.0, sumSq = 0.0;
        for (uint8_t p : train->pixels) {
            const double v = p / 255.0;
            sum += v;
            sumSq += v * v;
        }
        const double n = static_cast<double>(train->pixels.size());
        const double mean = sum / n;
        const double sd = std::sqrt(sumSq / n - mean * mean);
        QVERIFY2(std::abs(mean - (*ds)->mean()) < 1e-3, qPrintable(QString::number(mean)));
        QVERIFY2(std::abs(sd - (*ds)->stddev()) < 1e-3, qPrintable(QString::number(sd)));
    }

    void rejectsWrongMagicNumber() {
        expectLoadError(edgent::test::dataFile("fmnist-bad-magic"), "wrong magic number 0x00000804");
    }
    void rejectsShortRead() { expectLoadError(edgent::test::dataFile("fmnist-short"), "short read"); }
    void rejectsLabelFileWithImageMagic() { expectLoadError(edgent::test::dataFile("fmnist-bad-labels"), "wrong magic number"); }

    void rejectsMissingDataDirectory() {
        auto ds = openDataset("fashion-mnist", "/nonexistent/fashion");
        QVERIFY(!ds.ok());
        QVERIFY2(ds.error().find("does not exist") != std::string::npos, ds.error().c_str());
    }

    void rejectsDirectoryWithoutTheFiles() {
        auto ds = openDataset("fashion-mnist", edgent::test::dataFile("cifar-tiny"));
        QVERIFY(ds.ok());
        auto set = (*ds)->load(Split::Test);
        QVERIFY(!set.ok());
        QVERIFY2(set.error().find("is missing") != std::string::npos, set.error().c_str());
    }

    void rejectsUnknownDataset() {
        auto ds = openDataset("imagenet");
        QVERIFY(!ds.ok());
        QVERIFY(ds.error().find("unknown dataset 'imagenet'") != std::string::npos);
    }

    void readsCifarBinaryRecords() {
        auto ds = openDataset("cifar10", edgent::test::dataFile("cifar-tiny"));
        QVERIFY2(ds.ok(), ds.error().c_str());
        auto test = (*ds)->load(Split::Test);
        QVERIFY2(test.ok(), test.error().c_str());
        QCOMPARE(test->count, int64_t(3));
        QCOMPARE(test->channels, int64_t(3));
        QCOMPARE(test->imageBytes(), int64_t(3072));
        // The fixture carries the first three Fashion-MNIST test images and labels.
        auto fm = openDataset("fashion-mnist");
        auto ref = (*fm)->load(Split::Test, 3);
        QVERIFY(ref.ok());
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(test->labels[static_cast<size_t>(i)], ref->labels[static_cast<size_t>(i)]);
            QCOMPARE(test->image(i)[1024 + 10 * 32 + 10], ref->image(i)[8 * 28 + 8]);
        }
    }

    void rejectsCifarFileOfPartialRecords() {
        auto ds = openDataset("cifar10", edgent::test::dataFile("cifar-cut"));
        QVERIFY(ds.ok());
        auto test = (*ds)->load(Split::Test);
        QVERIFY(!test.ok());
        QVERIFY2(test.error().find("not a whole number of CIFAR-10 records") != std::string::npos, test.error().c_str());
    }

    void cifarNeedsADataDirectory() {
        auto ds = openDataset("cifar10");
        QVERIFY(!ds.ok());
        QVERIFY(ds.error().find("--data-dir") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestDataset)
#include "tst_dataset.moc"
