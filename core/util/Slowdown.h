#pragma once
// Emulating a slower device on a fast one (`edgent-worker --slowdown F`): after a
// computation that started at t0, wait until t0 + F * (now - t0), so the computation takes
// F times its real duration. For demos and tests without a real slow device; workers
// report the factor in their hello, and runs and profiles record it.

#include <atomic>
#include <chrono>
#include <thread>

namespace edgent::core {

// How the stretch waits, for the whole process (edgent-worker --slowdown-wait): spinning (the
// default; see below), or sleeping, for many emulated devices on fewer cores, where spinning
// would make them compete for cores that a real fleet of devices does not share.
inline std::atomic<bool>& slowdownSpins() {
    static std::atomic<bool> spins{true};
    return spins;
}

inline void stretchComputation(std::chrono::steady_clock::time_point t0, double factor) {
    if (!(factor > 1.0)) return;
    using Clock = std::chrono::steady_clock;
    const auto took = Clock::now() - t0;
    const auto until = t0 + std::chrono::duration_cast<Clock::duration>(took * factor);
    if (!slowdownSpins().load(std::memory_order_relaxed)) {
        std::this_thread::sleep_until(until);
        return;
    }
    // Busy all the way, as a slow device is while it computes. Sleeping instead let the core
    // clock down and its caches go cold, and the next computation ran 1.5-1.6x slower than
    // it does back to back: a run at F = 4 measured 8-9 ms of real compute per pass where the
    // profile (and F = 1) measured 5.5 ms.
    while (Clock::now() < until) {
    }
}

}  // namespace edgent::core
