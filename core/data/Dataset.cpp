#include "core/data/Dataset.h"

#include <QDir>
#include <QFileInfo>

#include <zlib.h>

#include <array>

namespace edgent::core {

namespace {

constexpr const char* kDebianFashionMnistDir = "/usr/share/datasets/fashion-mnist";
constexpr uint32_t kIdxImagesMagic = 0x00000803;
constexpr uint32_t kIdxLabelsMagic = 0x00000801;
constexpr int64_t kMaxImages = 10'000'000;
constexpr int64_t kMaxSide = 4096;
constexpr int64_t kMaxPixelBytes = int64_t(4) << 30;  // a header promising more is corrupt

// A gzip-or-plain file reader (zlib reads plain files transparently).
class GzFile {
public:
    explicit GzFile(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {}
    ~GzFile() {
        if (file_) gzclose(file_);
    }
    GzFile(const GzFile&) = delete;
    GzFile& operator=(const GzFile&) = delete;

    bool isOpen() const { return file_ != nullptr; }

    // Reads exactly n bytes, or explains why not.
    Status readExactly(void* dst, size_t n, const char* what) {
        size_t done = 0;
        auto* out = static_cast<char*>(dst);
        while (done < n) {
            const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - done, 1u << 30));
            const int got = gzread(file_, out + done, chunk);
            if (got < 0) {
                int code = 0;
                return makeError(path_ + ": cannot decompress (" + gzerror(file_, &code) + ")");
            }
            if (got == 0)
                return makeError(path_ + ": short read in " + what + " (" + std::to_string(done) + " of " + std::to_string(n) +
                                 " bytes)");
            done += static_cast<size_t>(got);
        }
        return Status::success();
    }

    Result<uint32_t> readBigEndianU32(const char* what) {
        std::array<unsigned char, 4> b{};
        if (auto s = readExactly(b.data(), 4, what); !s) return makeError(s.error());
        return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | uint32_t(b[3]);
    }

private:
    std::string path_;
    gzFile file_;
};

std::string hex(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", v);
    return buf;
}

// Finds "<stem>" or "<stem>.gz" in dir.
Result<std::string> findIdx(const std::string& dir, const std::string& stem) {
    const QDir d(QString::fromStdString(dir));
    for (const QString& candidate : {QString::fromStdString(stem), QString::fromStdString(stem) + ".gz"}) {
        if (d.exists(candidate)) return d.absoluteFilePath(candidate).toStdString();
    }
    return makeError("dataset file " + stem + "(.gz) is missing from " + dir);
}

class FashionMnist final : public Dataset {
public:
    explicit FashionMnist(std::string dir) : dir_(std::move(dir)) {}
    std::string name() const override { return "fashion-mnist"; }
    std::string directory() const override { return dir_; }
    std::vector<std::string> classNames() const override {
        return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
    }
    float mean() const override { return 0.2860f; }
    float stddev() const override { return 0.3530f; }

    Result<ImageSet> load(Split split, int64_t limit) const override {
        const std::string prefix = split == Split::Train ? "train" : "t10k";
        auto imagesPath = findIdx(dir_, prefix + "-images-idx3-ubyte");
        if (!imagesPath) return makeError(imagesPath.error());
        auto labelsPath = findIdx(dir_, prefix + "-labels-idx1-ubyte");
        if (!labelsPath) return makeError(labelsPath.error());
        auto images = readIdxImages(*imagesPath, limit);
        if (!images) return images;
        auto labels = readIdxLabels(*labelsPath, limit);
        if (!labels) return makeError(labels.error());
        if (static_cast<int64_t>(labels->size()) != images->count)
            return makeError(*labelsPath + " holds " + std::to_string(labels->size()) + " labels for " +
                             std::to_string(images->count) + " images");
        for (uint8_t l : *labels)
            if (l >= 10) return makeError(*labelsPath + ": label " + std::to_string(l) + " is not a class 0-9");
        images->labels = std::move(labels).value();
        return images;
    }

private:
    std::string dir_;
};

class Cifar10 final : public Dataset {
public:
    explicit Cifar10(std::string dir) : dir_(std::move(dir)) {}
    std::string name() const override { return "cifar10"; }
    std::string directory() const override { return dir_; }
    std::vector<std::string> classNames() const override {
        return {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
    }
    // Of all three channels together.
    float mean() const override { return 0.4734f; }
    float stddev() const override { return 0.2516f; }

    Result<ImageSet> load(Split split, int64_t limit) const override {
        std::vector<std::string> files;
        if (split == Split::Train)
            for (int i = 1; i <= 5; ++i) files.push_back("data_batch_" + std::to_string(i) + ".bin");
        else
            files.push_back("test_batch.bin");
        ImageSet set;
        set.channels = 3;
        set.height = 32;
        set.width = 32;
        const QDir d(QString::fromStdString(dir_));
        for (const auto& f : files) {
            if (limit > 0 && set.count >= limit) break;
            if (!d.exists(QString::fromStdString(f))) return makeError("dataset file " + f + " is missing from " + dir_);
            if (auto s = appendCifarBatch(d.absoluteFilePath(QString::fromStdString(f)).toStdString(), set, limit); !s)
                return makeError(s.error());
        }
        return set;
    }

private:
    std::string dir_;
};

}  // namespace

Result<ImageSet> readIdxImages(const std::string& path, int64_t limit) {
    GzFile f(path);
    if (!f.isOpen()) return makeError("cannot open " + path);
    auto magic = f.readBigEndianU32("the header");
    if (!magic) return makeError(magic.error());
    if (*magic != kIdxImagesMagic)
        return makeError(path + ": wrong magic number " + hex(*magic) + " (an IDX image file has " + hex(kIdxImagesMagic) + ")");
    auto count = f.readBigEndianU32("the header");
    auto rows = count ? f.readBigEndianU32("the header") : count;
    auto cols = rows ? f.readBigEndianU32("the header") : rows;
    if (!cols) return makeError(cols.error());
    if (*count > kMaxImages || *rows == 0 || *cols == 0 || *rows > kMaxSide || *cols > kMaxSide)
        return makeError(path + ": implausible header (" + std::to_string(*count) + " images of " + std::to_string(*rows) + "x" +
                         std::to_string(*cols) + ")");
    if (int64_t(*count) * *rows * *cols > kMaxPixelBytes)
        return makeError(path + ": implausible header (" + std::to_string(*count) + " images of " + std::to_string(*rows) + "x" +
                         std::to_string(*cols) + " would need more than 4 GiB)");
    ImageSet set;
    set.count = limit > 0 ? std::min<int64_t>(limit, *count) : *count;
    set.channels = 1;
    set.height = *rows;
    set.width = *cols;
    set.pixels.resize(static_cast<size_t>(set.count * set.imageBytes()));
    if (auto s = f.readExactly(set.pixels.data(), set.pixels.size(), "the pixels"); !s) return makeError(s.error());
    return set;
}

Result<std::vector<uint8_t>> readIdxLabels(const std::string& path, int64_t limit) {
    GzFile f(path);
    if (!f.isOpen()) return makeError("cannot open " + path);
    auto magic = f.readBigEndianU32("the header");
    if (!magic) return makeError(magic.error());
    if (*magic != kIdxLabelsMagic)
        return makeError(path + ": wrong magic number " + hex(*magic) + " (an IDX label file has " + hex(kIdxLabelsMagic) + ")");
    auto count = f.readBigEndianU32("the header");
    if (!count) return makeError(count.error());
    if (*count > kMaxImages) return makeError(path + ": implausible label count " + std::to_string(*count));
    const int64_t n = limit > 0 ? std::min<int64_t>(limit, *count) : *count;
    std::vector<uint8_t> labels(static_cast<size_t>(n));
    if (auto s = f.readExactly(labels.data(), labels.size(), "the labels"); !s) return makeError(s.error());
    return labels;
}

Status appendCifarBatch(const std::string& path, ImageSet& into, int64_t limit) {
    constexpr int64_t kRecord = 1 + 3072;
    const QFileInfo info(QString::fromStdString(path));
    if (!info.exists()) return makeError("cannot open " + path);
    if (info.size() == 0 || info.size() % kRecord != 0)
        return makeError(path + ": " + std::to_string(info.size()) + " bytes is not a whole number of CIFAR-10 records (" +
                         std::to_string(kRecord) + " bytes each)");
    GzFile f(path);
    if (!f.isOpen()) return makeError("cannot open " + path);
    int64_t records = info.size() / kRecord;
    if (limit > 0) records = std::min(records, limit - into.count);
    std::vector<uint8_t> record(kRecord);
    for (int64_t i = 0; i < records; ++i) {
        if (auto s = f.readExactly(record.data(), record.size(), "a record"); !s) return s;
        if (record[0] >= 10) return makeError(path + ": label " + std::to_string(record[0]) + " is not a class 0-9");
        into.labels.push_back(record[0]);
        into.pixels.insert(into.pixels.end(), record.begin() + 1, record.end());
        ++into.count;
    }
    return Status::success();
}

std::vector<std::string> datasetNames() { return {"fashion-mnist", "cifar10"}; }

Result<std::unique_ptr<Dataset>> openDataset(const std::string& name, const std::string& dataDir) {
    std::string dir = dataDir;
    if (name == "fashion-mnist") {
        if (dir.empty()) dir = kDebianFashionMnistDir;
    } else if (name == "cifar10") {
        if (dir.empty()) return makeError("cifar10 needs --data-dir pointing at the cifar-10-batches-bin folder");
    } else {
        return makeError("unknown dataset '" + name + "' (known: fashion-mnist, cifar10)");
    }
    if (!QFileInfo(QString::fromStdString(dir)).isDir())
        return makeError("data directory " + dir + " does not exist" +
                         (name == "fashion-mnist" ? " (install Debian's dataset-fashion-mnist or pass --data-dir)" : ""));
    std::unique_ptr<Dataset> ds;
    if (name == "fashion-mnist")
        ds = std::make_unique<FashionMnist>(dir);
    else
        ds = std::make_unique<Cifar10>(dir);
    return ds;
}

}  // namespace edgent::core
