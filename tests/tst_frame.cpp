// The data channel's frame codec: round trips, and every kind of damage is refused.
#include "core/net/Codec.h"
#include "core/net/FairQueue.h"
#include "core/net/Frame.h"

#include <QtTest>

#include <cmath>
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
        b[4] = 2;  // before codecs
        expectRejected(b, "frame version 2");
        b[4] = 3;  // before busy answers and queueing times
        expectRejected(b, "frame version 3");
        b[4] = 5;
        expectRejected(b, "frame version 5");
    }

    void busyFrameAndQueueTimeRoundTrip() {
        auto busy = decode(encodeBusyFrame(23, "the edge is busy", 4200));
        QVERIFY2(busy.ok(), busy.ok() ? "" : busy.error().c_str());
        QCOMPARE(busy->header.type, FrameType::Busy);
        QCOMPARE(busy->header.sequence, uint64_t(23));
        QCOMPARE(busy->header.edgeQueueNs, uint64_t(4200));
        QCOMPARE(errorFrameText(*busy), std::string("the edge is busy"));
        FrameHeader r;
        r.type = FrameType::Result;
        r.prediction = 4;
        r.edgeComputeNs = 11;
        r.edgeDecodeNs = 22;
        r.edgeQueueNs = 33;
        r.dims = {2};
        const float logits[2] = {0.5f, 1.5f};
        std::string bytes;
        QVERIFY(encodeFrame(r, logits, sizeof logits, bytes).ok());
        QCOMPARE(bytes.size(), size_t(56 + 4 + 8));
        auto back = decode(bytes);
        QVERIFY(back.ok());
        QCOMPARE(back->header.edgeComputeNs, uint64_t(11));
        QCOMPARE(back->header.edgeDecodeNs, uint64_t(22));
        QCOMPARE(back->header.edgeQueueNs, uint64_t(33));
    }

    // The edge's queue: round robin across devices, bounded per device and in total.
    void fairQueueServesDevicesInTurnWithinItsBounds() {
        FairQueue<int> q(5, 3);
        using A = FairQueue<int>::Admit;
        // Device a floods; b and c send one each, later.
        QCOMPARE(q.push("a", 1), A::Queued);
        QCOMPARE(q.push("a", 2), A::Queued);
        QCOMPARE(q.push("a", 3), A::Queued);
        QCOMPARE(q.push("a", 4), A::SourceFull);
        QCOMPARE(q.push("b", 10), A::Queued);
        QCOMPARE(q.push("c", 20), A::Queued);
        QCOMPARE(q.push("d", 30), A::Full);
        QCOMPARE(q.size(), size_t(5));
        QCOMPARE(q.sources(), size_t(3));
        std::vector<std::string> order;
        std::vector<int> items;
        while (auto x = q.pop()) {
            order.push_back(x->first);
            items.push_back(x->second);
        }
        // a's backlog does not starve b and c: one each per round; FIFO within a device.
        QCOMPARE(order, (std::vector<std::string>{"a", "b", "c", "a", "a"}));
        QCOMPARE(items, (std::vector<int>{1, 10, 20, 2, 3}));
        QVERIFY(q.empty());
        QCOMPARE(q.push("d", 30), A::Queued);  // room again
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
        expectRejected(b, "its header says 4");
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
        FrameHeader tooMany;
        tooMany.dims = {1, 1, 1, 1, 1, 1, 1};
        QVERIFY(!encodeFrame(tooMany, nullptr, 4, out).ok());
    }

    void rejectsNonZeroReserved() {
        std::string b = validFrame();
        b[38] = 1;
        expectRejected(b, "reserved");
    }

    void encoderRefusesPayloadOfTheWrongSize() {
        FrameHeader h;
        h.dims = {2, 2};
        std::string out;
        float payload[3] = {};
        QVERIFY(!encodeFrame(h, payload, sizeof payload, out).ok());
    }

    // Every codec round-trips a ReLU-like activation within its precision, and carries its
    // codec and the edge's decode time through the frame.
    void codecsRoundTripWithinTheirPrecision() {
        const std::vector<uint32_t> dims{8, 6, 6};
        std::vector<float> x(288);
        for (size_t i = 0; i < x.size(); ++i) x[i] = (i % 3 == 0) ? 0.0f : static_cast<float>((i * 37) % 101) / 7.0f - (i % 8 == 0 ? 1.0f : 0.0f);
        for (Codec codec : allCodecs()) {
            std::string payload;
            QVERIFY(encodeTensor(codec, x.data(), dims, payload).ok());
            FrameHeader h;
            h.dims = dims;
            h.codec = codec;
            std::string bytes;
            QVERIFY2(encodeFrame(h, payload.data(), payload.size(), bytes).ok(), codecName(codec).c_str());
            auto r = decode(bytes);
            QVERIFY2(r.ok(), r.ok() ? "" : r.error().c_str());
            QVERIFY(r->header.codec == codec);
            std::vector<float> y;
            const Status d = decodeTensor(codec, r->payload, r->payloadBytes, dims, y);
            QVERIFY2(d.ok(), d.ok() ? "" : d.error().c_str());
            QCOMPARE(y.size(), x.size());
            double worst = 0.0;
            for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, double(std::abs(y[i] - x[i])));
            // fp32 is exact; fp16 keeps 11 bits (values up to 14: 2^-8); int8 half a step of (max - min)/255.
            const double bound = codec.quant == Quant::None ? 0.0 : codec.quant == Quant::Fp16 ? 1.0 / 128 : 16.0 / 255 / 2 + 1e-5;
            QVERIFY2(worst <= bound, qPrintable(QString("%1: error %2").arg(codecName(codec).c_str()).arg(worst)));
            // ReLU's zeros stay exact zeros.
            QCOMPARE(y[0], 0.0f);
        }
        std::string int8, fp32;
        QVERIFY(encodeTensor({Quant::Int8, Lossless::None}, x.data(), dims, int8).ok());
        QVERIFY(encodeTensor({}, x.data(), dims, fp32).ok());
        QCOMPARE(int8.size(), size_t(8 * 8 + 288));
        QCOMPARE(fp32.size(), size_t(4 * 288));
        // Zeros compress: a sparse activation shrinks under zstd.
        std::vector<float> sparse(288, 0.0f);
        sparse[5] = 3.0f;
        std::string z;
        QVERIFY(encodeTensor({Quant::None, Lossless::Zstd}, sparse.data(), dims, z).ok());
        QVERIFY2(z.size() < 100, qPrintable(QString::number(z.size())));
    }

    void codecsRefuseWhatTheyCannotCarry() {
        std::vector<float> x{1.0f, NAN, 2.0f, 3.0f};
        std::string out;
        const Status s = encodeTensor({Quant::Int8, Lossless::None}, x.data(), {2, 2}, out);
        QVERIFY(!s.ok() && s.error().find("NaN") != std::string::npos);
        QVERIFY(encodeTensor({Quant::Fp16, Lossless::None}, x.data(), {2, 2}, out).ok());
        auto bad = codecFromName("int4");
        QVERIFY(!bad.ok() && bad.error().find("fp16+zstd") != std::string::npos);
        QCOMPARE(codecName(codecFromName("int8+zstd").value()), std::string("int8+zstd"));
        // Quantising the raw uint8 input, or a codec on a result frame, is refused by the encoder
        // too; the raw input may carry the lossless stage alone.
        FrameHeader h;
        h.dtype = DType::UInt8;
        h.dims = {4};
        h.codec = {Quant::Int8, Lossless::None};
        const uint8_t px[4] = {};
        QVERIFY(!encodeFrame(h, px, 4, out).ok());
        h.codec = {Quant::None, Lossless::Zstd};
        std::string z;
        QVERIFY(encodeBytes(Lossless::Zstd, px, 4, z).ok());
        QVERIFY(encodeFrame(h, z.data(), z.size(), out).ok());
        FrameHeader result;
        result.type = FrameType::Result;
        result.dims = {1};
        result.codec = {Quant::Fp16, Lossless::None};
        const float one = 1.0f;
        QVERIFY(!encodeFrame(result, &one, 2, out).ok());
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
