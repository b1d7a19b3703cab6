// The data channel's frame codec: round trips, and every kind of damage is refused.
#include "core/net/Frame.h"

#include <QtTest>

#include <cstring>

using namespace edgent::core;
using namespace edgent::core::net;

class TestFrame : public QObject {
    Q_OBJECT

    static std::string validFrame(std::vector<uint32_t> dims = {4, 3, 3}) {
        FrameHeader h;
        h.sequence = 42;
        h.exit = 2;
        h.partition = 7;
        h.dims = dims;
        std::vector<float> payload(36);
        for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<float>(i) * 0.5f;
        std::string out;
        const Status s = encodeFrame(h, payload.data(), payload.size() * 4, out);
        if (!s) qFatal("%s", s.error().c_str());
        return out;
    }

    static Result<FrameView> decode(const std::string& bytes, size_t cap = kDefaultMaxFrameBytes) {
        return decodeFrame(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), cap);
    }

    static void expectRejected(const std::string& bytes, const char* fragment) {
        auto r = decode(bytes);
        QVERIFY(!r.ok());
        QVERIFY2(r.error().find(fragment) != std::string::npos, r.error().c_str());
    }

private Q_SLOTS:
    void roundTripsHeaderShapeAndPayload() {
        const std::string bytes = validFrame();
        QCOMPARE(bytes.size(), kFrameHeaderBytes + 3 * 4 + 36 * 4);
        auto r = decode(bytes);
        QVERIFY2(r.ok(), r.error().c_str());
        QCOMPARE(r->header.sequence, uint64_t(42));
        QCOMPARE(r->header.exit, uint16_t(2));
        QCOMPARE(r->header.partition, uint16_t(7));
        QCOMPARE(r->header.dims, (std::vector<uint32_t>{4, 3, 3}));
        QCOMPARE(r->payloadBytes, size_t(144));
        float third;
        std::memcpy(&third, r->payload + 8, 4);
        QCOMPARE(third, 1.0f);
        // The payload is a view into the buffer, not a copy.
        QVERIFY(r->payload == reinterpret_cast<const uint8_t*>(bytes.data()) + kFrameHeaderBytes + 12);
    }

    void rejectsFrameLargerThanCap() {
        const std::string bytes = validFrame();
        auto r = decode(bytes, bytes.size() - 1);
        QVERIFY(!r.ok());
        QVERIFY(r.error().find("exceeds the cap") != std::string::npos);
    }

    void rejectsEveryTruncation() {
        const std::string bytes = validFrame();
        for (size_t cut = 0; cut < bytes.size(); ++cut)
            QVERIFY2(!decode(bytes.substr(0, cut)).ok(), qPrintable(QStringLiteral("cut at %1 accepted").arg(cut)));
    }

    void rejectsTrailingBytes() { expectRejected(validFrame() + "x", "payload bytes"); }

    void rejectsBadMagic() {
        std::string b = validFrame();
        b[0] = 'X';
        expectRejected(b, "bad magic");
    }

    void rejectsOtherVersions() {
        std::string b = validFrame();
        b[4] = 1;  // before error frames
        expectRejected(b, "frame version 1");
        b[4] = 3;
        expectRejected(b, "frame version 3");
    }

    void errorFrameCarriesItsReason() {
        const std::string bytes = edgent::core::net::encodeErrorFrame(17, "layer 3 failed");
        auto r = decode(bytes);
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().c_str());
        QCOMPARE(r->header.type, edgent::core::net::FrameType::Error);
        QCOMPARE(r->header.sequence, uint64_t(17));
        QCOMPARE(edgent::core::net::errorFrameText(*r), std::string("layer 3 failed"));
        // A long reason is cut, not refused.
        auto big = decode(edgent::core::net::encodeErrorFrame(1, std::string(5000, 'x')));
        QVERIFY(big.ok());
        QCOMPARE(big->payloadBytes, size_t(1000));
    }

    void rejectsUnknownTypeAndDtype() {
        std::string b = validFrame();
        b[5] = 9;
        expectRejected(b, "unknown type");
        b = validFrame();
        b[6] = 77;
        expectRejected(b, "unknown dtype");
    }

    void rejectsTooManyDimensions() {
        std::string b = validFrame();
        b[7] = 7;
        expectRejected(b, "dimensions");
    }

    void rejectsDeclaredSizeThatDisagreesWithShape() {
        std::string b = validFrame();
        const uint32_t lie = 4;
        std::memcpy(b.data() + 32, &lie, 4);
        expectRejected(b, "its shape needs");
    }

    void rejectsShapeThatOverflows() {
        std::string b = validFrame();
        const uint32_t huge = 0xffffffffu;
        for (int i = 0; i < 3; ++i) std::memcpy(b.data() + kFrameHeaderBytes + 4 * i, &huge, 4);
        auto r = decode(b);
        QVERIFY(!r.ok());
        // Refused by the overflow guard itself, before any size comparison.
        QVERIFY2(r.error().find("shape overflows") != std::string::npos, r.error().c_str());
    }

    void encoderSizesRefuseOverflowAndTooManyDimensions() {
        FrameHeader h;
        h.dims = {0xffffffffu, 0xffffffffu, 0xffffffffu};
        QCOMPARE(encodedFrameBytes(h), size_t(0));
        h.dims = {1, 1, 1, 1, 1, 1, 1};
        QCOMPARE(encodedFrameBytes(h), size_t(0));
        h.dims = {2, 3};
        QCOMPARE(encodedFrameBytes(h), kFrameHeaderBytes + 8 + 24);
        std::string out;
        QVERIFY(!encodeFrame(FrameHeader{FrameType::Activation, DType::Float32, 0, 0, 0, -1, 0, {1, 1, 1, 1, 1, 1, 1}}, nullptr,
                             4, out)
                     .ok());
    }

    void rejectsNonZeroReserved() {
        std::string b = validFrame();
        b[37] = 1;
        expectRejected(b, "reserved");
    }

    void encoderRefusesPayloadOfTheWrongSize() {
        FrameHeader h;
        h.dims = {2, 2};
        std::string out;
        float payload[3] = {};
        QVERIFY(!encodeFrame(h, payload, sizeof payload, out).ok());
    }

    void uint8InputFramesCarryOneBytePerPixel() {
        FrameHeader h;
        h.dtype = DType::UInt8;
        h.dims = {1, 28, 28};
        std::vector<uint8_t> pixels(784, 7);
        std::string out;
        QVERIFY(encodeFrame(h, pixels.data(), pixels.size(), out).ok());
        QCOMPARE(out.size(), kFrameHeaderBytes + 12 + 784);
        auto r = decode(out);
        QVERIFY(r.ok());
        QCOMPARE(r->header.dtype, DType::UInt8);
    }
};

QTEST_GUILESS_MAIN(TestFrame)
#include "tst_frame.moc"
