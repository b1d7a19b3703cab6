#pragma once
// Emulating a slower device on a fast one (`edgent-worker --slowdown F`): after a
// computation that started at t0, wait until t0 + F * (now - t0), so the computation takes
// F times its real duration. For demos and tests without a real slow device; workers
// report the factor in their hello, and runs and profiles record it.

#include <chrono>
#include <thread>

namespace edgent::core {

inline void stretchComputation(std::chrono::steady_clock::time_point t0, double factor) {
    if (!(factor > 1.0)) return;
    using Clock = std::chrono::steady_clock;
    const auto took = Clock::now() - t0;
    const auto until = t0 + std::chrono::duration_cast<Clock::duration>(took * factor);
    // Sleep most of the way, then spin, so the error stays in microseconds.
    const auto sleepUntil = until - std::chrono::microseconds(200);
    if (Clock::now() < sleepUntil) std::this_thread::sleep_until(sleepUntil);
    while (Clock::now() < until) {
    }
}

}  // namespace edgent::core
