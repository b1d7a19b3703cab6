// Regenerates the binary fixtures under tests/data from real sources: a tiny seeded model
// (and damaged copies of its weights), and IDX / CIFAR files cut from real Fashion-MNIST
// images. Usage: edgent-make-fixtures tests/data
#include "core/data/Dataset.h"
#include "core/model/ModelFile.h"
#include "core/model/ModelIO.h"
#include "core/net/Codec.h"
#include "core/net/Frame.h"

#include <QDir>
#include <QFile>

#include <cstdio>
#include <cstring>

using namespace edgent::core;
namespace net = edgent::core::net;

namespace {

void die(const std::string& message) {
    std::fprintf(stderr, "edgent-make-fixtures: %s\n", message.c_str());
    std::exit(1);
}

void write(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size()) die("cannot write " + path.toStdString());
}

QByteArray be32(uint32_t v) {
    QByteArray b(4, '\0');
    b[0] = char(v >> 24), b[1] = char(v >> 16), b[2] = char(v >> 8), b[3] = char(v);
    return b;
}

QByteArray idxImages(uint32_t magic, uint32_t count, const ImageSet& set, int64_t imagesWritten) {
    QByteArray b = be32(magic) + be32(count) + be32(static_cast<uint32_t>(set.height)) + be32(static_cast<uint32_t>(set.width));
    b.append(reinterpret_cast<const char*>(set.pixels.data()), static_cast<qsizetype>(imagesWritten * set.imageBytes()));
    return b;
}

QByteArray idxLabels(const ImageSet& set, int64_t n) {
    QByteArray b = be32(0x00000801) + be32(static_cast<uint32_t>(n));
    b.append(reinterpret_cast<const char*>(set.labels.data()), static_cast<qsizetype>(n));
    return b;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) die("usage: edgent-make-fixtures DATA_DIR");
    const QDir dir(QString::fromLocal8Bit(argv[1]));

    // A tiny two-exit model.
    QFile specFile(dir.filePath("tiny-spec.json"));
    if (!specFile.open(QIODevice::ReadOnly)) die("cannot read tiny-spec.json");
    auto spec = parseModelSpec(specFile.readAll().toStdString(), "tiny-spec.json");
    if (!spec) die(spec.error());
    auto net = MultiExitNet::create(*spec, 7);
    if (!net) die(net.error());
    if (auto s = saveModel(**net, dir.filePath("tiny.json").toStdString(), "{\"note\":\"test fixture, seed 7\"}"); !s)
        die(s.error());
    QFile w(dir.filePath("tiny.weights"));
    if (!w.open(QIODevice::ReadOnly)) die("tiny.weights not written");
    const QByteArray weights = w.readAll();
    QFile j(dir.filePath("tiny.json"));
    if (!j.open(QIODevice::ReadOnly)) die("tiny.json not written");
    const QByteArray json = j.readAll();

    write(dir.filePath("tiny-truncated.weights"), weights.left(weights.size() / 2));
    write(dir.filePath("tiny-truncated.json"), QByteArray(json).replace("tiny.weights", "tiny-truncated.weights"));
    QByteArray corrupt = weights;
    corrupt[corrupt.size() / 2] = static_cast<char>(corrupt[corrupt.size() / 2] ^ 0x5a);
    write(dir.filePath("tiny-corrupt.weights"), corrupt);
    write(dir.filePath("tiny-corrupt.json"), QByteArray(json).replace("tiny.weights", "tiny-corrupt.weights"));

    // IDX files cut from the first real Fashion-MNIST test images.
    auto ds = openDataset("fashion-mnist");
    if (!ds) die(ds.error());
    auto test = (*ds)->load(Split::Test, 4);
    if (!test) die(test.error());
    dir.mkpath("fmnist-bad-magic");
    write(dir.filePath("fmnist-bad-magic/t10k-images-idx3-ubyte"), idxImages(0x00000804, 4, *test, 4));
    write(dir.filePath("fmnist-bad-magic/t10k-labels-idx1-ubyte"), idxLabels(*test, 4));
    dir.mkpath("fmnist-short");
    write(dir.filePath("fmnist-short/t10k-images-idx3-ubyte"), idxImages(0x00000803, 10, *test, 3));
    write(dir.filePath("fmnist-short/t10k-labels-idx1-ubyte"), idxLabels(*test, 4));
    dir.mkpath("fmnist-bad-labels");
    write(dir.filePath("fmnist-bad-labels/t10k-images-idx3-ubyte"), idxImages(0x00000803, 4, *test, 4));
    write(dir.filePath("fmnist-bad-labels/t10k-labels-idx1-ubyte"), be32(0x00000803) + be32(4) + QByteArray(4, '\1'));

    // CIFAR-10 binary records (label byte + 3x32x32) from the same images, padded to 32x32
    // and repeated over three channels: a layout fixture, not a CIFAR sample.
    QByteArray cifar;
    for (int64_t i = 0; i < 3; ++i) {
        cifar.append(static_cast<char>(test->labels[static_cast<size_t>(i)]));
        for (int c = 0; c < 3; ++c)
            for (int y = 0; y < 32; ++y)
                for (int x = 0; x < 32; ++x) {
                    const bool inside = y >= 2 && y < 30 && x >= 2 && x < 30;
                    cifar.append(inside ? static_cast<char>(test->image(i)[(y - 2) * 28 + (x - 2)]) : '\0');
                }
    }
    dir.mkpath("cifar-tiny");
    write(dir.filePath("cifar-tiny/test_batch.bin"), cifar);
    dir.mkpath("cifar-cut");
    write(dir.filePath("cifar-cut/test_batch.bin"), cifar.left(cifar.size() - 100));
    // Seeds for the frame fuzzer: valid frames built from a real image and real
    // activations of the tiny model, and damaged variants of them.
    dir.mkpath("frame-corpus");
    auto frame = [&](const net::FrameHeader& h, const void* payload, size_t bytes) {
        std::string out;
        if (auto st = net::encodeFrame(h, payload, bytes, out); !st) die(st.error());
        return QByteArray::fromStdString(out);
    };
    net::FrameHeader input;
    input.dtype = net::DType::UInt8;
    input.dims = {1, 28, 28};
    input.sequence = 1;
    const QByteArray inputFrame = frame(input, test->image(0), 784);
    torch::Tensor x = torch::rand({1, 1, 8, 8});
    torch::Tensor h = (*net)->runSlice(1, 0, 3, x).value().contiguous();
    net::FrameHeader act;
    act.sequence = 2;
    act.exit = 1;
    act.partition = 3;
    for (int64_t d = 1; d < h.dim(); ++d) act.dims.push_back(static_cast<uint32_t>(h.size(d)));
    const QByteArray actFrame = frame(act, h.data_ptr(), static_cast<size_t>(h.numel()) * 4);
    net::FrameHeader result;
    result.type = net::FrameType::Result;
    result.prediction = 3;
    result.edgeComputeNs = 123456;
    result.dims = {10};
    float logits[10] = {0, 1, 2, 3, 2, 1, 0, -1, -2, -3};
    const QByteArray resultFrame = frame(result, logits, sizeof logits);
    write(dir.filePath("frame-corpus/valid-input-uint8"), inputFrame);
    write(dir.filePath("frame-corpus/valid-activation"), actFrame);
    write(dir.filePath("frame-corpus/valid-result"), resultFrame);
    write(dir.filePath("frame-corpus/valid-error"),
          QByteArray::fromStdString(net::encodeErrorFrame(2, "inference error: shape")));
    write(dir.filePath("frame-corpus/valid-busy"),
          QByteArray::fromStdString(net::encodeBusyFrame(2, "the edge is busy: its queue is full", 1500000)));
    write(dir.filePath("frame-corpus/empty"), QByteArray());
    write(dir.filePath("frame-corpus/header-only"), actFrame.left(static_cast<qsizetype>(net::kFrameHeaderBytes)));
    write(dir.filePath("frame-corpus/truncated-payload"), actFrame.left(actFrame.size() - 3));
    QByteArray badMagic = actFrame;
    badMagic[0] = 'Z';
    write(dir.filePath("frame-corpus/bad-magic"), badMagic);
    QByteArray version = actFrame;
    version[4] = 9;
    write(dir.filePath("frame-corpus/future-version"), version);
    version[4] = 1;  // before error frames: refused, not half-understood
    write(dir.filePath("frame-corpus/old-version"), version);
    QByteArray overflow = actFrame;
    for (int i = 0; i < 3; ++i)
        for (int k = 0; k < 4; ++k) overflow[static_cast<qsizetype>(net::kFrameHeaderBytes) + 4 * i + k] = '\xff';
    write(dir.filePath("frame-corpus/overflowing-shape"), overflow);
    QByteArray dims = actFrame;
    dims[7] = 6;
    write(dir.filePath("frame-corpus/too-few-dims-present"), dims);

    // The cut tensor's codecs (core/net/Codec.h): the same activation encoded, and frames
    // whose codec, scale, zero point or compressed length is inconsistent.
    const std::vector<float> hv(h.data_ptr<float>(), h.data_ptr<float>() + h.numel());
    auto encoded = [&](net::Codec codec) {
        net::FrameHeader e = act;
        e.codec = codec;
        std::string payload;
        if (auto st = net::encodeTensor(codec, hv.data(), e.dims, payload); !st) die(st.error());
        return frame(e, payload.data(), payload.size());
    };
    write(dir.filePath("frame-corpus/valid-activation-fp16"), encoded({net::Quant::Fp16, net::Lossless::None}));
    const QByteArray int8Frame = encoded({net::Quant::Int8, net::Lossless::None});
    write(dir.filePath("frame-corpus/valid-activation-int8"), int8Frame);
    const QByteArray zstdFrame = encoded({net::Quant::Int8, net::Lossless::Zstd});
    write(dir.filePath("frame-corpus/valid-activation-int8-zstd"), zstdFrame);
    const qsizetype payloadAt = static_cast<qsizetype>(net::kFrameHeaderBytes + 4 * act.dims.size());
    QByteArray badScale = int8Frame;
    for (int k = 0; k < 4; ++k) badScale[payloadAt + k] = '\xff';  // channel 0's scale: NaN
    write(dir.filePath("frame-corpus/int8-nan-scale"), badScale);
    QByteArray badZero = int8Frame;
    badZero[payloadAt + 4 * static_cast<qsizetype>(net::int8Channels(act.dims)) + 1] = '\x01';  // zero point 256
    write(dir.filePath("frame-corpus/int8-zero-point-out-of-range"), badZero);
    QByteArray unknownCodec = actFrame;
    unknownCodec[36] = 7;
    write(dir.filePath("frame-corpus/unknown-quantisation"), unknownCodec);
    QByteArray codecOnInput = inputFrame;
    codecOnInput[36] = 2;  // int8 on the raw input
    write(dir.filePath("frame-corpus/codec-on-uint8-input"), codecOnInput);
    {
        // The raw input with the lossless stage alone: valid; and a zstd frame of the wrong size.
        net::FrameHeader zin = input;
        zin.codec = {net::Quant::None, net::Lossless::Zstd};
        std::string z;
        if (auto st = net::encodeBytes(net::Lossless::Zstd, test->image(0), 784, z); !st) die(st.error());
        write(dir.filePath("frame-corpus/valid-input-zstd"), frame(zin, z.data(), z.size()));
        if (auto st = net::encodeBytes(net::Lossless::Zstd, test->image(0), 700, z); !st) die(st.error());
        write(dir.filePath("frame-corpus/input-zstd-wrong-size"), frame(zin, z.data(), z.size()));
    }
    QByteArray int8Short = int8Frame;  // declared and carried one byte short of int8's size
    int8Short.chop(1);
    const uint32_t shortBytes = static_cast<uint32_t>(int8Short.size() - payloadAt);
    std::memcpy(int8Short.data() + 32, &shortBytes, 4);
    write(dir.filePath("frame-corpus/int8-short-payload"), int8Short);
    QByteArray zstdLie = zstdFrame;  // the zstd frame's content size no longer matches the shape
    zstdLie[payloadAt + 5] = static_cast<char>(zstdLie[payloadAt + 5] ^ 0x04);
    write(dir.filePath("frame-corpus/zstd-content-size-lie"), zstdLie);
    QByteArray zstdTrailing = zstdFrame + QByteArray("zz");
    const uint32_t trailingBytes = static_cast<uint32_t>(zstdTrailing.size() - payloadAt);
    std::memcpy(zstdTrailing.data() + 32, &trailingBytes, 4);
    write(dir.filePath("frame-corpus/zstd-trailing-bytes"), zstdTrailing);
    std::printf("fixtures written to %s\n", argv[1]);
    return 0;
}
