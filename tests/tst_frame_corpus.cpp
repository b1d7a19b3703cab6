// Replays the frame fuzzer's seed corpus (tests/data/frame-corpus) through its entry
// point, so every build exercises what the fuzzer found or was seeded with.
#include "core/net/Frame.h"

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
            QCOMPARE(
                LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.constData()), static_cast<size_t>(bytes.size())),
                0);
        }
    }

    // The named seeds also pin the decoder's verdicts, so a decoder that refused
    // everything (or accepted everything) would fail here, not only one that crashed.
    void namedSeedsGetTheirVerdicts_data() {
        QTest::addColumn<QString>("seed");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<QString>("reason");
        QTest::newRow("uint8 input") << "valid-input-uint8" << true << "";
        QTest::newRow("activation") << "valid-activation" << true << "";
        QTest::newRow("result") << "valid-result" << true << "";
        QTest::newRow("error") << "valid-error" << true << "";
        QTest::newRow("busy") << "valid-busy" << true << "";
        QTest::newRow("empty") << "empty" << false << "shorter than the 56-byte header";
        QTest::newRow("header only") << "header-only" << false << "truncated inside its shape";
        QTest::newRow("truncated payload") << "truncated-payload" << false << "payload bytes";
        QTest::newRow("bad magic") << "bad-magic" << false << "bad magic";
        QTest::newRow("future version") << "future-version" << false << "frame version 9";
        QTest::newRow("old version") << "old-version" << false << "frame version 1";
        QTest::newRow("overflowing shape") << "overflowing-shape" << false << "shape overflows";
        QTest::newRow("dims past the end") << "too-few-dims-present" << false << "";
        QTest::newRow("fp16 activation") << "valid-activation-fp16" << true << "";
        QTest::newRow("int8 activation") << "valid-activation-int8" << true << "";
        QTest::newRow("int8+zstd activation") << "valid-activation-int8-zstd" << true << "";
        QTest::newRow("unknown quantisation") << "unknown-quantisation" << false << "unknown quantisation 7";
        QTest::newRow("int8 on the raw input") << "codec-on-uint8-input" << false << "quantises a uint8 input";
        QTest::newRow("zstd raw input") << "valid-input-zstd" << true << "";
        QTest::newRow("zstd raw input, 700 bytes") << "input-zstd-wrong-size" << true << "holds 700 bytes";
        QTest::newRow("int8 one byte short") << "int8-short-payload" << false << "int8 of its shape needs";
        // These pass the frame's checks and are refused by the codec's (as the edge does).
        QTest::newRow("int8 NaN scale") << "int8-nan-scale" << true << "bad scale in channel 0";
        QTest::newRow("int8 zero point 256") << "int8-zero-point-out-of-range" << true << "zero point 256";
        QTest::newRow("zstd content size") << "zstd-content-size-lie" << true << "zstd payload holds";
        QTest::newRow("zstd trailing bytes") << "zstd-trailing-bytes" << true << "after its frame";
    }
    void namedSeedsGetTheirVerdicts() {
        QFETCH(QString, seed);
        QFETCH(bool, valid);
        QFETCH(QString, reason);
        QFile f(QStringLiteral(EDGENT_TEST_DATA_DIR "/frame-corpus/") + seed);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        auto r = edgent::core::net::decodeFrame(reinterpret_cast<const uint8_t*>(bytes.constData()),
                                                static_cast<size_t>(bytes.size()));
        QCOMPARE(r.ok(), valid);
        if (!valid) {
            QVERIFY2(r.error().find(reason.toStdString()) != std::string::npos, r.error().c_str());
            return;
        }
        if (r->header.codec.identity()) return;
        // An encoded payload: the codec decodes it, or refuses it with the expected reason.
        std::vector<float> tensor;
        std::string raw;
        const auto decoded =
            r->header.dtype == edgent::core::net::DType::UInt8
                ? edgent::core::net::decodeBytes(r->header.codec.lossless, r->payload, r->payloadBytes,
                                                 edgent::core::net::elementCount(r->header.dims), raw)
                : edgent::core::net::decodeTensor(r->header.codec, r->payload, r->payloadBytes, r->header.dims, tensor);
        QCOMPARE(decoded.ok(), reason.isEmpty());
        if (!reason.isEmpty()) QVERIFY2(decoded.error().find(reason.toStdString()) != std::string::npos, decoded.error().c_str());
    }
};

QTEST_GUILESS_MAIN(TestFrameCorpus)
#include "tst_frame_corpus.moc"
