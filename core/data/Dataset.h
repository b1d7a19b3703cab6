#pragma once
// Image classification datasets behind one interface: Fashion-MNIST (IDX files, gzipped or
// not) and CIFAR-10 (binary batches). Torch-free: images are plain uint8 CHW buffers.

#include "core/util/Result.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace edgent::core {

enum class Split { Train, Test };

// One split held in memory: `count` images of channels x height x width bytes each.
struct ImageSet {
    int64_t count = 0;
    int64_t channels = 0;
    int64_t height = 0;
    int64_t width = 0;
    std::vector<uint8_t> pixels;  // count * channels * height * width, CHW per image
    std::vector<uint8_t> labels;  // count

    int64_t imageBytes() const { return channels * height * width; }
    const uint8_t* image(int64_t i) const { return pixels.data() + i * imageBytes(); }
};

class Dataset {
public:
    virtual ~Dataset() = default;
    virtual std::string name() const = 0;
    virtual std::string directory() const = 0;
    virtual std::vector<std::string> classNames() const = 0;
    // Normalisation constants (of pixel/255) measured on the training split.
    virtual float mean() const = 0;
    virtual float stddev() const = 0;
    // Reads a split; limit > 0 keeps only the first `limit` images.
    virtual Result<ImageSet> load(Split split, int64_t limit = 0) const = 0;
};

// "fashion-mnist" (default directory: Debian's dataset-fashion-mnist package) or "cifar10"
// (no default: point --data-dir at the cifar-10-batches-bin folder). Fails when the
// directory or its files are missing.
Result<std::unique_ptr<Dataset>> openDataset(const std::string& name, const std::string& dataDir = {});

// The names openDataset accepts.
std::vector<std::string> datasetNames();

// Readers exposed for tests: an IDX image file (magic 0x00000803) and label file (0x00000801),
// gzipped or plain.
Result<ImageSet> readIdxImages(const std::string& path, int64_t limit);
Result<std::vector<uint8_t>> readIdxLabels(const std::string& path, int64_t limit);
// A CIFAR-10 binary batch: records of 1 label byte + 3072 pixel bytes.
Status appendCifarBatch(const std::string& path, ImageSet& into, int64_t limit);

}  // namespace edgent::core
