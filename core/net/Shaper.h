#pragma once
// The device uplink's application-level shaper: a token bucket in bits. With the default
// burst of zero it is a pacer, so a transfer of S bytes at B bit/s takes S*8/B seconds
// after the previous one finished: what a serialising link does. No root needed.
//
// Thread safety: all members are safe to call from several threads.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace edgent::core::net {

class TokenBucketShaper {
public:
    using Clock = std::chrono::steady_clock;

    explicit TokenBucketShaper(double rateBps = 1e9, double burstBits = 0.0);

    void setRate(double rateBps);
    double rate() const;
    void setBurst(double burstBits);

    // Reserves the link for `bytes` and returns when the last bit has left; the caller waits
    // until then (see waitUntil) before handing the bytes to the socket.
    Clock::time_point reserve(int64_t bytes);

    // Sleeps until t, finishing with a short spin so that the error stays in microseconds.
    // Returns false early (within about 20 ms) when *stop becomes true.
    static bool waitUntil(Clock::time_point t, const std::atomic<bool>* stop = nullptr);

private:
    mutable std::mutex mutex_;
    double rateBps_;
    double burstBits_;
    double tokensBits_;
    Clock::time_point updated_;
};

}  // namespace edgent::core::net
