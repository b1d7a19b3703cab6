#include "core/data/Shift.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <vector>

namespace edgent::core {

Result<ShiftSpec> parseShift(const std::string& text) {
    ShiftSpec s;
    if (text.empty() || text == "default") return s;
    if (text == "none") return ShiftSpec{0.0, 1.0, 0.0, 0.0, 0, 7};
    std::stringstream in(text);
    std::string part;
    while (std::getline(in, part, ',')) {
        const auto eq = part.find('=');
        if (eq == std::string::npos) return makeError("a shift is key=value pairs, got '" + part + "'");
        const std::string key = part.substr(0, eq), value = part.substr(eq + 1);
        char* end = nullptr;
        const double v = std::strtod(value.c_str(), &end);
        if (value.empty() || *end != '\0' || !std::isfinite(v) || v < 0)
            return makeError("shift " + key + " must be a number of at least 0, got '" + value + "'");
        if (key == "rotation" && v <= 180) s.rotationDeg = v;
        else if (key == "contrast" && v <= 1) s.contrast = v;
        else if (key == "brightness" && v <= 255) s.brightness = v;
        else if (key == "noise" && v <= 255) s.noise = v;
        else if (key == "occlusion" && v <= 64 && v == std::floor(v)) s.occlusion = static_cast<int>(v);
        else if (key == "seed" && v == std::floor(v)) s.seed = static_cast<uint64_t>(v);
        else if (key == "rotation" || key == "contrast" || key == "brightness" || key == "noise" || key == "occlusion" || key == "seed")
            return makeError("shift " + key + " out of range: " + value +
                             " (rotation ≤ 180, contrast ≤ 1, brightness and noise ≤ 255, occlusion a whole number ≤ 64)");
        else
            return makeError("unknown shift '" + key + "' (rotation, contrast, brightness, noise, occlusion, seed)");
    }
    return s;
}

std::string shiftToString(const ShiftSpec& s) {
    std::ostringstream out;
    out << "rotation=" << s.rotationDeg << ",contrast=" << s.contrast << ",brightness=" << s.brightness << ",noise=" << s.noise
        << ",occlusion=" << s.occlusion << ",seed=" << s.seed;
    return out.str();
}

void shiftImages(ImageSet& images, const ShiftSpec& spec, int64_t firstIndex) {
    if (spec.none()) return;
    const int64_t c = images.channels, h = images.height, w = images.width;
    std::vector<double> plane(static_cast<size_t>(h * w));
    for (int64_t i = 0; i < images.count; ++i) {
        std::seed_seq seq{static_cast<uint32_t>(spec.seed), static_cast<uint32_t>(spec.seed >> 32),
                          static_cast<uint32_t>(firstIndex + i), static_cast<uint32_t>((firstIndex + i) >> 32)};
        std::mt19937_64 rng(seq);
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        const double angle = (spec.rotationDeg / 2 + unit(rng) * spec.rotationDeg / 2) * (unit(rng) < 0.5 ? -1 : 1) * M_PI / 180;
        const double contrast = spec.contrast + unit(rng) * (1.0 - spec.contrast);
        const double brightness = spec.brightness / 2 + unit(rng) * spec.brightness / 2;
        const int64_t side = std::min<int64_t>(spec.occlusion, std::min(h, w));
        const int64_t oy = side > 0 ? static_cast<int64_t>(unit(rng) * static_cast<double>(h - side + 1)) : 0;
        const int64_t ox = side > 0 ? static_cast<int64_t>(unit(rng) * static_cast<double>(w - side + 1)) : 0;
        std::normal_distribution<double> noise(0.0, spec.noise > 0 ? spec.noise : 1.0);
        const double cy = (static_cast<double>(h) - 1) / 2, cx = (static_cast<double>(w) - 1) / 2;
        const double cs = std::cos(angle), sn = std::sin(angle);
        for (int64_t ch = 0; ch < c; ++ch) {
            uint8_t* px = images.pixels.data() + i * images.imageBytes() + ch * h * w;
            for (int64_t y = 0; y < h; ++y)
                for (int64_t x = 0; x < w; ++x) {
                    // Where this output pixel comes from in the unrotated image (bilinear).
                    const double dy = static_cast<double>(y) - cy, dx = static_cast<double>(x) - cx;
                    const double sy = cy + cs * dy - sn * dx, sx = cx + sn * dy + cs * dx;
                    const double fy = std::floor(sy), fx = std::floor(sx);
                    double v = 0.0;
                    for (int k = 0; k < 4; ++k) {
                        const int64_t yy = static_cast<int64_t>(fy) + (k >> 1), xx = static_cast<int64_t>(fx) + (k & 1);
                        if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                        const double wy = (k >> 1) ? sy - fy : 1 - (sy - fy), wx = (k & 1) ? sx - fx : 1 - (sx - fx);
                        v += wy * wx * px[yy * w + xx];
                    }
                    plane[static_cast<size_t>(y * w + x)] = v;
                }
            for (int64_t y = 0; y < h; ++y)
                for (int64_t x = 0; x < w; ++x) {
                    double v = (plane[static_cast<size_t>(y * w + x)] - 128.0) * contrast + 128.0 + brightness;
                    if (spec.noise > 0) v += noise(rng);
                    if (side > 0 && y >= oy && y < oy + side && x >= ox && x < ox + side) v = 0.0;
                    px[y * w + x] = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
                }
        }
    }
}

}  // namespace edgent::core
