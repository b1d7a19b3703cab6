#pragma once
// The host's two speeds. On a shared virtual machine a core can run the same instructions at
// about half speed for a tenth of a second to seconds at a time (bench/compute_drift.cpp: the
// thread's own CPU time doubles, with no steal time reported). Frames of one computation then
// fall into two groups about 1.9x apart, with few in between. A prediction of a median that
// is compared with a few frames measured in one such stretch cannot be closer than the share
// of slow frames allows, so the benches that score predictions say how the host was.
#include "core/model/MultiExitNet.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace edgent::bench {

struct TwoSpeeds {
    size_t frames = 0;
    double fastMs = 0.0;        // the fastest 5% of frames: the host's full speed
    double slowShare = 0.0;     // frames over 1.4x fastMs
    double betweenShare = 0.0;  // frames 1.15-1.4x fastMs (few: two speeds, not a spread)
    double ratio = 0.0;         // the slow frames' median over the others'
    size_t stretches = 0;       // runs of consecutive slow frames
    double medianStretchMs = 0.0, longestStretchMs = 0.0;
};

inline double quantileOf(std::vector<double> v, double q) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

// Frames in time order, each {start, wall time} in ms. Full speed is the fastest 5% of these
// frames, or referenceMs when that is faster: a probe taken wholly in a slow stretch has no
// fast frames of its own, so a bench passes the fastest speed it has seen so far.
inline TwoSpeeds twoSpeeds(const std::vector<std::pair<double, double>>& timeline, double referenceMs = 0.0) {
    TwoSpeeds s;
    std::vector<double> all, slow, fast, stretches;
    for (const auto& f : timeline) all.push_back(f.second);
    if (all.empty()) return s;
    s.frames = all.size();
    s.fastMs = quantileOf(all, 0.05);
    if (referenceMs > 0.0) s.fastMs = std::min(s.fastMs, referenceMs);
    size_t between = 0;
    double start = -1.0, end = 0.0;
    for (const auto& [t, wall] : timeline) {
        const bool isSlow = wall > 1.4 * s.fastMs;
        (isSlow ? slow : fast).push_back(wall);
        between += !isSlow && wall > 1.15 * s.fastMs ? 1 : 0;
        if (isSlow && start < 0) start = t;
        if (isSlow) end = t + wall;
        if (!isSlow && start >= 0) {
            stretches.push_back(end - start);
            start = -1.0;
        }
    }
    if (start >= 0) stretches.push_back(end - start);
    const double n = static_cast<double>(all.size());
    s.slowShare = static_cast<double>(slow.size()) / n;
    s.betweenShare = static_cast<double>(between) / n;
    s.ratio = slow.empty() || fast.empty() ? 0.0 : quantileOf(slow, 0.5) / quantileOf(fast, 0.5);
    s.stretches = stretches.size();
    s.medianStretchMs = quantileOf(stretches, 0.5);
    s.longestStretchMs = quantileOf(stretches, 1.0);
    return s;
}

inline std::string describe(const TwoSpeeds& s) {
    char line[320];
    if (s.frames > 0 && s.slowShare >= 1.0) {
        std::snprintf(line, sizeof line, "all %zu frames slow (over 1.4x full speed, %.2f ms), %.0f ms in one stretch", s.frames,
                      s.fastMs, s.longestStretchMs);
        return line;
    }
    std::snprintf(line, sizeof line,
                  "%.1f%% of %zu frames slow (over 1.4x full speed, %.2f ms), %.2fx slower; %.1f%% in between; "
                  "%zu slow stretches, median %.0f ms, longest %.0f ms",
                  100.0 * s.slowShare, s.frames, s.fastMs, s.ratio, 100.0 * s.betweenShare, s.stretches, s.medianStretchMs,
                  s.longestStretchMs);
    return line;
}

// Times exit e's whole path back to back on this thread for `seconds` (after a short warm-up);
// referenceMs as in twoSpeeds.
inline TwoSpeeds probeHost(const core::MultiExitNet& net, int e, double seconds, double referenceMs = 0.0) {
    using Clock = std::chrono::steady_clock;
    torch::InferenceMode guard;
    const auto& dims = net.spec().input.dims;
    const torch::Tensor input = torch::rand({1, dims[0], dims[1], dims[2]});
    const int n = net.pathLength(e);
    for (int i = 0; i < 5; ++i) (void)net.runSlice(e, 0, n, input);
    std::vector<std::pair<double, double>> timeline;
    const auto t0 = Clock::now();
    while (std::chrono::duration<double>(Clock::now() - t0).count() < seconds) {
        const auto a = Clock::now();
        (void)net.runSlice(e, 0, n, input);
        const auto b = Clock::now();
        timeline.emplace_back(std::chrono::duration<double, std::milli>(a - t0).count(),
                              std::chrono::duration<double, std::milli>(b - a).count());
    }
    return twoSpeeds(timeline, referenceMs);
}

}  // namespace edgent::bench
