// Replays the frame fuzzer's seed corpus (tests/data/frame-corpus) through its entry
// point, so every build exercises what the fuzzer found or was seeded with.
#include <QDir>
#include <QFile>
#include <QtTest>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

class TestFrameCorpus : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void replaysEverySeed() {
        const QDir dir(QStringLiteral(EDGENT_TEST_DATA_DIR "/frame-corpus"));
        const QStringList files = dir.entryList(QDir::Files);
        QVERIFY2(files.size() >= 8, "the seed corpus is present");
        for (const QString& name : files) {
            QFile f(dir.filePath(name));
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QByteArray bytes = f.readAll();
            QCOMPARE(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.constData()), static_cast<size_t>(bytes.size())), 0);
        }
    }
};

QTEST_GUILESS_MAIN(TestFrameCorpus)
#include "tst_frame_corpus.moc"
