#pragma once
// One edgent-worker process, in the device or the edge role.
//
// Threads (docs/architecture.md):
//   - the main thread runs the control loop: the control ROUTER, the edge's data ROUTER
//     (frames are checked and queued here, or answered `busy`) and the inproc queues of the
//     other threads;
//   - the edge's server threads (--servers, default 1) take frames from its fair queue, run
//     their slices and hand the answers back to the main thread, which sends them;
//   - the device's stream thread (one stream at a time) owns its socket to the edge;
//   - a profiling thread while `profile` runs, an adaptation thread while `adapt` runs;
//   - with CURVE keys, a ZAP thread that admits authorised clients.
// Sockets never cross threads. Every thread that calls into LibTorch or ZeroMQ has an
// exception boundary: an error ends a frame, a request or a stream with a reason, never the
// process.

#include "core/model/MultiExitNet.h"
#include "core/data/Shift.h"
#include "core/energy/EnergySensor.h"
#include "core/net/FairQueue.h"
#include "core/net/Frame.h"
#include "core/net/Protocol.h"
#include "core/net/Shaper.h"
#include "core/train/Adapt.h"

#include <QJsonObject>

#include <zmq.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace edgent::workers {

struct WorkerOptions {
    core::net::Role role = core::net::Role::Device;
    std::string controlBind = "tcp://127.0.0.1:0";
    std::string dataBind = "tcp://127.0.0.1:0";  // edge only
    int threads = 1;
    std::string curveKeysDir;           // empty: no CURVE
    size_t maxFrameBytes = 0;           // 0: the protocol default
    double slowdown = 1.0;              // emulate a node this many times slower (core/util/Slowdown.h)
    std::string energySensor = "auto";  // auto, rapl, ina219 or none (core/energy/EnergySensor.h)
    long parentPid = 0;                 // > 0: exit when this process (the spawning controller) is gone
    // Edge: frames waiting at most (in total, and from one device), and the threads serving them.
    int queueCapacity = 16;
    int queuePerDevice = 2;
    int servers = 1;
};

// The edge's data endpoint when none is given: the control endpoint's host on an ephemeral
// port ("tcp://10.0.0.2:5555" -> "tcp://10.0.0.2:0"); loopback for anything but tcp.
std::string dataBindFor(const std::string& controlBind);

// What the device's stream reads on every inference; changed live by `configure`.
struct DeviceConfig {
    int exit = 0;
    int partition = 0;
    double bandwidthBps = 0.0;  // shaper rate; 0 = measure only (no shaping)
    std::string edgeEndpoint;
    bool probe = false;       // dynamic mode: probe the uplink when a sample sends nothing
    core::net::Codec codec;   // how the cut tensor travels (the raw input always goes as it is)
    core::EarlyExits early;   // per-input early exits before the partition (core/model/Confidence.h)
    uint64_t generation = 0;  // bumped on every change
};

struct StreamRequest {
    int64_t count = 0;    // 0: until stopped
    double rateHz = 0.0;  // 0: back-to-back
    double phaseMs = 0.0;  // with a rate: the schedule starts this much later (devices of a fleet out of step)
    std::string dataset = "fashion-mnist";
    std::string dataDir;
    bool trainSplit = false;
    int64_t offset = 0;
    std::optional<core::ShiftSpec> shift;  // the images shifted (core/data/Shift.h)
};

struct WorkerCounters {
    std::atomic<uint64_t> framesIn{0};
    std::atomic<uint64_t> framesBad{0};
    std::atomic<uint64_t> framesOut{0};
    std::atomic<uint64_t> framesUnsent{0};  // edge: answers that could not be sent (device gone)
    std::atomic<uint64_t> samples{0};
    std::atomic<uint64_t> bytesSent{0};
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> badRequests{0};
    std::atomic<double> transferMsSum{0.0};
    std::atomic<uint64_t> transferBitsSum{0};
    // Edge: frames answered `busy`, the queue's peak, and the time spent serving (decode + layers).
    std::atomic<uint64_t> shed{0};
    std::atomic<uint64_t> queuePeak{0};
    std::atomic<uint64_t> serviceNs{0};
    std::atomic<uint64_t> queueNsSum{0};
    // Device: busy answers heard.
    std::atomic<uint64_t> busyHeard{0};
};

class Worker {
public:
    explicit Worker(WorkerOptions options);
    ~Worker();

    // Binds the sockets; afterwards endpoints() tells where.
    core::Status bind();
    QJsonObject endpoints() const;
    // Runs until `shutdown` or a signal; returns the process exit code.
    int run(const std::atomic<bool>& stopSignal);

private:
    std::unique_ptr<core::energy::EnergySensor> energy_;  // device: read around each sample
    using Identity = std::string;

    void onControl();
    void onData();
    void onEdgeReply();
    // Sends [identity, frame, ...] on the data socket; counts an answer that could not go.
    void sendToDevice(std::vector<zmq::message_t>& parts, uint64_t sequence, bool result);
    void startServers();
    void stopServers();
    void serveLoop();
    // Edge: runs one activation frame that waited queuedNs; the encoded result frame, or why not.
    core::Result<std::string> runActivation(const core::net::FrameView& frame, uint64_t queuedNs);
    void onSample();
    void handle(const Identity& from, const QJsonObject& request, std::vector<zmq::message_t>& extra);
    void send(const Identity& to, const QJsonObject& message);
    void sendHeartbeats();
    void startStream(const Identity& owner, const StreamRequest& request);
    void stopStream();
    void streamLoop(StreamRequest request, uint64_t streamId);
    void streamBody(StreamRequest request, uint64_t streamId);
    void reportStreamFailure(uint64_t streamId, const std::string& why);
    void startProfile(const Identity& owner, const QJsonObject& request);
    void stopProfile();
    void startAdapt(const Identity& owner, const core::AdaptOptions& options);
    void stopAdapt();
    QJsonObject stats() const;

    WorkerOptions options_;
    zmq::context_t context_;
    zmq::socket_t control_;
    zmq::socket_t data_;        // edge: ROUTER for activation frames
    zmq::socket_t sampleSink_;  // PULL from the stream and profiling threads
    std::string controlEndpoint_;
    std::string dataEndpoint_;
    std::string serverSecretKey_, serverPublicKey_, clientSecretKey_, clientPublicKey_;
    std::unique_ptr<std::thread> zapThread_;
    std::atomic<bool> zapStop_{false};

    std::shared_ptr<core::MultiExitNet> net_;  // replaced whole on load-model
    mutable std::mutex netMutex_;
    std::string modelName_;

    mutable std::mutex configMutex_;
    DeviceConfig config_;
    core::net::TokenBucketShaper shaper_;

    std::unique_ptr<std::thread> stream_;
    std::atomic<bool> streamStop_{false};
    std::atomic<bool> streamRunning_{false};
    uint64_t streamId_ = 0;
    Identity streamOwner_;

    std::unique_ptr<std::thread> profile_;
    std::atomic<bool> profileCancel_{false};
    std::atomic<bool> profileRunning_{false};
    Identity profileOwner_;
    QJsonObject lastProfile_;  // the finished profile, until the next one starts

    std::unique_ptr<std::thread> adapt_;
    std::atomic<bool> adaptCancel_{false};
    std::atomic<bool> adaptRunning_{false};
    Identity adaptOwner_;
    QJsonObject lastAdapt_;  // the finished adaptation's report, until the next one starts

    std::map<Identity, std::chrono::steady_clock::time_point> peers_;  // controllers heard from
    std::chrono::steady_clock::time_point lastHeartbeat_{};
    // Edge: frames waiting for a server thread, by the device connection they came from.
    struct EdgeJob {
        zmq::message_t frame;
        std::chrono::steady_clock::time_point arrived;
    };
    mutable std::mutex edgeMutex_;
    std::condition_variable edgeWake_;
    std::unique_ptr<core::net::FairQueue<EdgeJob>> edgeQueue_;
    std::vector<std::thread> servers_;
    bool serversStop_ = false;  // under edgeMutex_
    zmq::socket_t edgeReplies_;  // PULL: the servers' answers, sent on by the main thread
    const std::chrono::steady_clock::time_point startedAt_ = std::chrono::steady_clock::now();

    WorkerCounters counters_;
    mutable std::mutex dataErrorMutex_;
    std::string lastDataError_;
    bool shutdownRequested_ = false;
};

}  // namespace edgent::workers
