#include "core/plan/CodecCosts.h"

#include <algorithm>
#include <cmath>

namespace edgent::core::plan {

double codecTimeMs(const std::vector<profile::CodecTiming>& timings, const std::string& codec, int64_t elements, bool encode) {
    double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (const auto& t : timings) {
        if (t.codec != codec) continue;
        const double y = encode ? t.encodeMs : t.decodeMs;
        if (t.elements == elements) return y;
        const double x = static_cast<double>(t.elements);
        n += 1, sx += x, sy += y, sxx += x * x, sxy += x * y;
    }
    if (n == 0) return NAN;
    const double denom = n * sxx - sx * sx;
    if (n < 2 || std::abs(denom) < 1e-9) return sy / n;
    const double slope = (n * sxy - sx * sy) / denom;
    const double intercept = (sy - slope * sx) / n;
    return std::max(0.0, intercept + slope * static_cast<double>(elements));
}

std::string addCodecCosts(LatencyTable& table, const ModelSpec& spec, const CodecCalibration& calibration,
                          const std::vector<profile::CodecTiming>& device, const std::vector<profile::CodecTiming>& edge,
                          bool tail) {
    if (calibration.split != "validation") return "the codec calibration is not on the validation split";
    if (device.empty() || edge.empty())
        return std::string("the ") + (device.empty() ? "device" : "edge") +
               " profile has no codec times (profiled before codecs existed; run edgent profile again)";
    int added = 0;
    for (net::Codec codec : net::allCodecs()) {
        if (codec.identity()) continue;
        const std::string name = net::codecName(codec);
        CodecCosts c;
        c.codec = codec;
        bool any = false;
        for (int e = 0; e < spec.numExits(); ++e) {
            const int n = spec.pathLength(e);
            auto path = analyzePath(spec, e);
            for (auto* v : {&c.bytes, &c.encodeMs, &c.decodeMs, &c.accuracyDrop}) v->emplace_back(static_cast<size_t>(n + 1), NAN);
            if (!path) continue;
            for (int p = 0; p < n; ++p) {
                // The raw input takes the lossless stage only: a codec without one sends it as it is.
                if (p == 0 && codec.lossless == net::Lossless::None) continue;
                const CodecCalibrationRow* row = calibration.find(e, p, codec);
                const CodecCalibrationRow* plain = calibration.find(e, p, {});
                if (!row || !plain) continue;
                int64_t elements = 1;
                for (int64_t d : (p == 0 ? spec.input : (*path)[static_cast<size_t>(p - 1)].output).dims) elements *= d;
                // zstd of the uint8 input is timed as zstd of as many bytes of float32 (a quarter the elements).
                const std::string timed = p == 0 ? std::string("fp32+zstd") : name;
                if (p == 0) elements = std::max<int64_t>(1, elements / 4);
                const double enc = codecTimeMs(device, timed, elements, true);
                const double dec = codecTimeMs(edge, timed, elements, false);
                if (!std::isfinite(enc) || !std::isfinite(dec)) continue;
                const size_t ue = static_cast<size_t>(e), up = static_cast<size_t>(p);
                c.bytes[ue][up] = tail ? row->bytesP95 : row->bytesMean;
                c.encodeMs[ue][up] = enc;
                c.decodeMs[ue][up] = dec;
                c.accuracyDrop[ue][up] = plain->accuracy - row->accuracy;
                any = true;
            }
        }
        if (!any) continue;
        table.addCodec(std::move(c));
        ++added;
    }
    return added > 0 ? std::string() : "the codec calibration and the profiles' codec times share no partition of this model";
}

}  // namespace edgent::core::plan
