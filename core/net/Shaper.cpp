#include "core/net/Shaper.h"

#include <algorithm>
#include <thread>

namespace edgent::core::net {

TokenBucketShaper::TokenBucketShaper(double rateBps, double burstBits)
    : rateBps_(rateBps),
      burstBits_(burstBits),
      tokensBits_(burstBits),
      updated_(Clock::now()) {}

void TokenBucketShaper::setRate(double rateBps) {
    std::lock_guard lock(mutex_);
    // Settle the bucket at the old rate up to now, then continue at the new one.
    const auto now = Clock::now();
    if (now > updated_) {
        tokensBits_ = std::min(burstBits_, tokensBits_ + rateBps_ * std::chrono::duration<double>(now - updated_).count());
        updated_ = now;
    }
    rateBps_ = rateBps;
}

double TokenBucketShaper::rate() const {
    std::lock_guard lock(mutex_);
    return rateBps_;
}

void TokenBucketShaper::setBurst(double burstBits) {
    std::lock_guard lock(mutex_);
    burstBits_ = std::max(0.0, burstBits);
    tokensBits_ = std::min(tokensBits_, burstBits_);
}

TokenBucketShaper::Clock::time_point TokenBucketShaper::reserve(int64_t bytes) {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    // Tokens accrue only while the link is idle (updated_ may lie in the future while a
    // previous transfer is still being paced).
    if (now > updated_) {
        tokensBits_ = std::min(burstBits_, tokensBits_ + rateBps_ * std::chrono::duration<double>(now - updated_).count());
        updated_ = now;
    }
    tokensBits_ -= static_cast<double>(bytes) * 8.0;
    if (tokensBits_ >= 0.0) return updated_;
    const double debtSeconds = -tokensBits_ / rateBps_;
    updated_ += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(debtSeconds));
    tokensBits_ = 0.0;
    return updated_;
}

bool TokenBucketShaper::waitUntil(Clock::time_point t, const std::atomic<bool>* stop) {
    constexpr auto kSpin = std::chrono::microseconds(300);
    constexpr auto kSlice = std::chrono::milliseconds(20);
    while (true) {
        if (stop && stop->load()) return false;
        const auto left = t - Clock::now();
        if (left <= kSpin) break;
        std::this_thread::sleep_for(std::min<Clock::duration>(left - kSpin, kSlice));
    }
    while (Clock::now() < t) {
    }
    return true;
}

}  // namespace edgent::core::net
