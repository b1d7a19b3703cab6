#pragma once
// The benches' timer: the best of `reps` wall-clock runs of f, in seconds.
#include <algorithm>
#include <chrono>

namespace edgent::bench {

template <typename F>
double bestSeconds(F&& f, int reps) {
    double best = 1e9;
    for (int r = 0; r < reps; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
}

}  // namespace edgent::bench
