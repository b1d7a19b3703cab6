#include "core/train/CodecCalibration.h"

#include "core/model/ModelIO.h"
#include "core/net/Frame.h"
#include "core/train/Training.h"
#include "core/util/Stats.h"

#include <algorithm>
#include <cstring>
#include <map>

namespace edgent::core {

const CodecCalibrationRow* CodecCalibration::find(int exit, int partition, net::Codec codec) const {
    for (const auto& r : rows)
        if (r.exit == exit && r.partition == partition && r.codec == codec) return &r;
    return nullptr;
}

Result<CodecCalibration> calibrateCodecs(const std::string& modelPath, const CalibrateOptions& o,
                                         const std::function<void(int, int)>& progress, const std::atomic<bool>* cancel) {
    auto split = loadCalibrationSplit(modelPath, o);
    if (!split) return makeError(split.error());
    const ImageSet& set = split->images;
    setComputeThreads(o.threads);
    auto loaded = loadModel(modelPath);
    if (!loaded) return makeError(loaded.error());
    const MultiExitNet& net = **loaded;
    const ModelSpec& spec = net.spec();
    if (!(Shape{{set.channels, set.height, set.width}} == spec.input))
        return makeError("the model takes " + spec.input.toString() + " input, the dataset has other images");

    const std::vector<net::Codec> codecs = net::allCodecs();
    // Per (exit, partition): correct answers per quantisation, and every frame's bytes per codec.
    struct Cell {
        std::map<net::Quant, int64_t> correct;
        std::vector<std::vector<double>> bytes;  // [codec][image]
    };
    std::map<std::pair<int, int>, Cell> cells;
    std::vector<int64_t> plainCorrect(static_cast<size_t>(spec.numExits()), 0);

    torch::InferenceMode guard;
    constexpr int64_t kBatch = 250;
    const int batches = static_cast<int>((set.count + kBatch - 1) / kBatch);
    const int total = batches * spec.numExits();
    int done = 0;
    std::string payload;
    std::vector<float> decoded;
    for (int64_t begin = 0; begin < set.count; begin += kBatch) {
        const int64_t n = std::min(kBatch, set.count - begin);
        const torch::Tensor images =
            torch::from_blob(const_cast<uint8_t*>(set.image(begin)), {n, set.channels, set.height, set.width}, torch::kUInt8);
        const torch::Tensor x = net.preprocess(images);
        const torch::Tensor labels =
            torch::from_blob(const_cast<uint8_t*>(set.labels.data() + begin), {n}, torch::kUInt8).to(torch::kLong);
        auto correctOf = [&](const torch::Tensor& logits) { return logits.argmax(1).eq(labels).sum().item<int64_t>(); };
        // Partition 0 sends the raw input, which only the lossless stage touches: its frames
        // are the same for every exit.
        const size_t inputHeader = net::kFrameHeaderBytes + 4 * spec.input.dims.size();
        const size_t imageBytes = static_cast<size_t>(set.imageBytes());
        std::vector<double> rawZstd;
        for (int64_t i = 0; i < n; ++i) {
            if (auto s = net::encodeBytes(net::Lossless::Zstd, set.image(begin + i), imageBytes, payload); !s)
                return makeError(s.error());
            rawZstd.push_back(static_cast<double>(inputHeader + payload.size()));
        }
        for (int e = 0; e < spec.numExits(); ++e) {
            if (cancel && cancel->load()) return makeError("codec calibration was cancelled");
            const int len = net.pathLength(e);
            auto full = net.runSlice(e, 0, len, x);
            if (!full) return makeError(full.error());
            plainCorrect[static_cast<size_t>(e)] += correctOf(*full);
            Cell& raw = cells[{e, 0}];
            raw.bytes.resize(codecs.size());
            for (size_t c = 0; c < codecs.size(); ++c) {
                if (codecs[c].lossless == net::Lossless::Zstd)
                    raw.bytes[c].insert(raw.bytes[c].end(), rawZstd.begin(), rawZstd.end());
                else
                    raw.bytes[c].insert(raw.bytes[c].end(), static_cast<size_t>(n), static_cast<double>(inputHeader + imageBytes));
            }
            torch::Tensor h = x;
            for (int p = 1; p < len; ++p) {
                auto next = net.runSlice(e, p - 1, p, h);
                if (!next) return makeError(next.error());
                h = next->contiguous().to(torch::kFloat32);
                std::vector<uint32_t> dims;
                for (int64_t d = 1; d < h.dim(); ++d) dims.push_back(static_cast<uint32_t>(h.size(d)));
                const size_t per = net::elementCount(dims);
                const size_t header = net::kFrameHeaderBytes + 4 * dims.size();
                Cell& cell = cells[{e, p}];
                cell.bytes.resize(codecs.size());
                std::map<net::Quant, torch::Tensor> restored;
                for (size_t c = 0; c < codecs.size(); ++c) {
                    const net::Codec codec = codecs[c];
                    const bool decodeHere = net::lossy(codec) && codec.lossless == net::Lossless::None;
                    torch::Tensor out = decodeHere ? torch::empty_like(h) : torch::Tensor();
                    for (int64_t i = 0; i < n; ++i) {
                        const float* item = h.data_ptr<float>() + i * static_cast<int64_t>(per);
                        if (auto s = net::encodeTensor(codec, item, dims, payload); !s) return makeError(s.error());
                        cell.bytes[c].push_back(static_cast<double>(header + payload.size()));
                        if (!decodeHere) continue;
                        if (auto s = net::decodeTensor(codec, reinterpret_cast<const uint8_t*>(payload.data()), payload.size(), dims,
                                                       decoded);
                            !s)
                            return makeError(s.error());
                        std::memcpy(out.data_ptr<float>() + i * static_cast<int64_t>(per), decoded.data(), per * sizeof(float));
                    }
                    if (decodeHere) restored[codec.quant] = out;
                }
                for (const auto& [quant, tensor] : restored) {
                    auto logits = net.runSlice(e, p, len, tensor);
                    if (!logits) return makeError(logits.error());
                    cell.correct[quant] += correctOf(*logits);
                }
            }
            if (progress) progress(++done, total);
        }
    }

    CodecCalibration out;
    out.dataset = split->dataset;
    out.split = o.split;
    out.first = split->first;
    out.samples = set.count;
    const double count = static_cast<double>(set.count);
    for (auto& [key, cell] : cells)
        for (size_t c = 0; c < codecs.size(); ++c) {
            CodecCalibrationRow r;
            r.exit = key.first;
            r.partition = key.second;
            r.codec = codecs[c];
            const bool quantised = net::lossy(r.codec) && r.partition > 0;
            const int64_t right = quantised ? cell.correct[r.codec.quant] : plainCorrect[static_cast<size_t>(r.exit)];
            r.accuracy = static_cast<double>(right) / count;
            std::vector<double>& bytes = cell.bytes[c];
            std::sort(bytes.begin(), bytes.end());
            double sum = 0.0;
            for (double b : bytes) sum += b;
            r.bytesMean = sum / static_cast<double>(bytes.size());
            r.bytesP95 = nearestRank(bytes, 0.95);
            out.rows.push_back(r);
        }
    return out;
}

}  // namespace edgent::core
