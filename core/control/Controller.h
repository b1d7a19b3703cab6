#pragma once
// The controller's side of the control channel: one DEALER per worker, heartbeats both
// ways, requests with bounded waits, and delivery of samples and worker events.
//
// Thread safety: every public member may be called from any thread. The controller runs
// its own I/O thread; the sample and event handlers are called on that thread, so they
// must be quick and must not wait on the controller (post the work elsewhere instead).
// Torch-free: the CLI and the GUI include this.

#include "core/net/Protocol.h"

#include <QJsonObject>

#include <atomic>
#include <functional>
#include <limits>
#include <future>
#include <memory>
#include <string>
#include <vector>

namespace edgent::core::control {

struct WorkerEvent {
    net::Role role = net::Role::Device;
    std::string kind;                                         // up, down, stream-finished, stream-error, log; and from the
                                                              // run itself (controller = true): bandwidth, change-point, plan
    std::string message;                                      // plain words, e.g. why a worker is considered dead
    int64_t samples = 0;                                      // stream-finished / stream-error: samples the device sent;
                                                              // run events: samples the controller had received before it
    double atMs = 0.0;                                        // controller clock: ms since the controller started
    std::string wallTime;                                     // ISO-8601 local time, for people
    int done = 0, total = 0;                                  // profile-progress: items timed of the stage's total
    bool controller = false;                                  // raised by the controller, not by a worker
    double value = std::numeric_limits<double>::quiet_NaN();  // bandwidth, change-point, plan: bit/s
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

    explicit Controller(Options options);
    Controller();
    ~Controller();
    Controller(const Controller&) = delete;
    Controller& operator=(const Controller&) = delete;

    void setSampleHandler(std::function<void(const net::Sample&)> handler);
    void setEventHandler(std::function<void(const WorkerEvent&)> handler);

    // Connects to a worker and exchanges hello (protocol version, role) within timeoutMs.
    Status connect(net::Role role, const std::string& endpoint, int timeoutMs = 5000);

    // Sends a request; the future holds the worker's reply, or an error when the worker
    // refused it, died, or did not answer within timeoutMs.
    std::future<Result<QJsonObject>> request(net::Role role, const std::string& cmd, QJsonObject args = {},
                                             std::vector<std::string> extraFrames = {}, int timeoutMs = 5000);
    // request() and wait for it.
    Result<QJsonObject> call(net::Role role, const std::string& cmd, QJsonObject args = {}, int timeoutMs = 5000,
                             std::vector<std::string> extraFrames = {});

    WorkerInfo info(net::Role role) const;
    // Declares a worker dead from outside (e.g. its local process exited).
    void markDead(net::Role role, const std::string& reason);
    // Milliseconds since the controller started, on its clock.
    double nowMs() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace edgent::core::control
