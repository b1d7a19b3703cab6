#pragma once
// The controller's side of the control channel: one DEALER per worker, heartbeats both
// ways, requests with bounded waits, and delivery of samples and worker events to whoever
// subscribed.
//
// Threads: the controller runs one I/O thread that owns every socket. Every public member
// may be called from any thread except that I/O thread (a handler that waited on call()
// would wait on itself). Handlers run on the I/O thread: they must be quick and must not
// wait on the controller; post the work elsewhere instead.
//
// Failure: every wait is bounded. When the I/O thread fails (a socket error) or abort() is
// called, every request in flight and every later one fails at once with the reason, and
// both workers are declared down. Torch-free: the CLI and the GUI include this.

#include "core/net/Protocol.h"

#include <QJsonObject>

#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

namespace edgent::core::control {

// A worker's event as the controller saw it: sent by a worker (stream-finished, stream-error,
// profile-*, log) or raised by the controller (worker-up, worker-down).
struct WorkerEvent {
    net::Role role = net::Role::Device;
    net::EventKind kind = net::EventKind::Unknown;
    std::string message;      // plain words, e.g. why a worker is considered dead
    int64_t samples = 0;      // stream-finished / stream-error: samples the device sent
    int64_t stream = 0;       // stream-finished / stream-error: the stream's id (start-stream's reply)
    double atMs = 0.0;        // controller clock: ms since the controller started
    std::string wallTime;     // ISO-8601 local time, for people
    int done = 0, total = 0;  // profile-progress: items timed of the stage's total
};

struct WorkerInfo {
    bool connected = false;
    bool alive = false;
    std::string endpoint;
    std::string dataEndpoint;  // edge: where the device sends frames
    QJsonObject hello;         // the worker's hello reply
    double heartbeatAgeMs = 0.0;
    std::string deathReason;
};

class Controller {
public:
    struct Options {
        std::string curveKeysDir;  // empty: plain TCP
        int deadAfterMs = net::kPeerDeadAfterMs;
    };
    static constexpr int kDefaultTimeoutMs = 5000;

    using SampleHandler = std::function<void(const net::Sample&)>;
    using EventHandler = std::function<void(const WorkerEvent&)>;

    // A subscription to samples and events. Its handlers run on the I/O thread until it is
    // reset or destroyed, and never after: reset() waits for a handler in progress (so never
    // reset while holding a lock that a handler takes). Outlives its controller safely.
    class Subscription {
    public:
        Subscription() = default;
        ~Subscription() { reset(); }
        Subscription(Subscription&&) = default;
        Subscription& operator=(Subscription&& other) {
            reset();
            entry_ = std::move(other.entry_);
            return *this;
        }
        void reset();

    private:
        friend class Controller;
        struct Entry;
        std::shared_ptr<Entry> entry_;
    };

    explicit Controller(Options options);
    Controller();
    ~Controller();
    Controller(const Controller&) = delete;
    Controller& operator=(const Controller&) = delete;

    // Either handler may be empty.
    [[nodiscard]] Subscription subscribe(SampleHandler onSample, EventHandler onEvent);

    // Connects to a worker and exchanges hello (protocol version, role) within timeoutMs.
    Status connect(net::Role role, const std::string& endpoint, int timeoutMs = kDefaultTimeoutMs);

    // Sends a request; the future holds the worker's reply, or an error when the worker
    // refused it, died, or did not answer within timeoutMs. Binary payloads (a model's
    // weights) ride as extra frames.
    std::future<Result<QJsonObject>> request(net::Role role, net::Command command, QJsonObject args = {},
                                             int timeoutMs = kDefaultTimeoutMs, std::vector<std::string> extraFrames = {});
    // request() and wait for it; the arguments are the same, in the same order.
    Result<QJsonObject> call(net::Role role, net::Command command, QJsonObject args = {}, int timeoutMs = kDefaultTimeoutMs,
                             std::vector<std::string> extraFrames = {});

    WorkerInfo info(net::Role role) const;
    // Declares a worker dead from outside (e.g. its local process exited).
    void markDead(net::Role role, const std::string& reason);
    // Stops the I/O thread now: every waiter, present and future, gets an error naming the
    // reason. For a caller that must not wait (a closing window).
    void abort(const std::string& reason);
    // Milliseconds since the controller started, on its clock.
    double nowMs() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace edgent::core::control
