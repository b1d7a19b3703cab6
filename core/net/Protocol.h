#pragma once
// The control channel: versioned JSON messages over ZeroMQ DEALER (controller) <-> ROUTER
// (worker), with heartbeats both ways (after zguide's Paranoid Pirate). Binary payloads
// (a model's weights) ride as extra frames of the same multipart message.
//
// Every message is an object with "v" (protocol version) and "type":
//   request   {"id", "cmd", ...}          controller -> worker
//   reply     {"id", "ok", "error"?, ...} worker -> controller, exactly one per request
//   heartbeat {}                          both ways, every kHeartbeatIntervalMs
//   sample    {Sample fields}             device -> controller, one per inference
//   event     {"event", "message", ...}   worker -> controller
//
// Commands and event kinds are the enums below; their names are what travels on the wire
// (and, for events, what the run store's events.kind holds). Nothing else spells them.

#include "core/util/Result.h"

#include <QJsonObject>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgent::core::net {

inline constexpr int kProtocolVersion = 1;
inline constexpr int kHeartbeatIntervalMs = 500;
// Silence after which a peer is declared dead (the controller must notice within 3 s).
inline constexpr int kPeerDeadAfterMs = 2500;
// Cap on any control message (a model's weights travel on this channel).
inline constexpr int64_t kMaxControlMessageBytes = 256LL * 1024 * 1024;

enum class Role { Device, Edge };
const char* roleName(Role role);
Result<Role> roleFromName(const std::string& name);

// Requests, controller -> worker. The reply of each is described where the worker handles it
// (workers/Worker.cpp).
enum class Command {
    Hello,          // role, protocol, host, versions, endpoints
    LoadModel,      // extra frames: the model JSON and its weights
    Configure,      // device: exit, partition, bandwidth_bps, probe, edge_endpoint (merged)
    StartStream,    // device: count, rate_hz, dataset, data_dir, split, offset
    Stop,           // ends a stream or a profile
    Stats,          // counters
    Shutdown,       // the worker exits after replying
    Profile,        // starts per-layer profiling (repeats, synthetic)
    ProfileResult,  // the finished profile, once ready
    Adapt,          // device: fine-tunes its slice on a shifted stream (core/train/Adapt.h options)
    AdaptResult,    // the finished adaptation's report (and, asked, the adapted weights), once ready
};
const char* commandName(Command command);
std::optional<Command> commandFromName(std::string_view name);

// Events. Workers send the first group; the controller raises WorkerUp and WorkerDown; a live
// run (core/control/LiveRun.h) records the last group. Unknown stands for a name this
// version does not know (a newer worker, an older store).
enum class EventKind {
    StreamFinished,   // the device's stream ended (samples: how many it sent)
    StreamError,      // the device's stream failed, with the reason
    ProfileProgress,  // done of total items of a profiling stage
    ProfileDone,
    ProfileError,
    AdaptProgress,  // done of total steps of an adaptation
    AdaptDone,
    AdaptError,
    Log,
    WorkerUp,
    WorkerDown,
    Bandwidth,    // the shaper's rate was set (value: bit/s)
    Plan,         // a new configuration went to the device (value: the bandwidth it was planned for)
    ChangePoint,  // dynamic mode saw the bandwidth change (value: the new estimate, bit/s)
    Goal,         // the deadline, policy or predictor changed during the run (value: deadline ms)
    Pause,
    Resume,
    Unknown,
};
const char* eventKindName(EventKind kind);
// Also reads the names older stores used: "up", "down" and "slider".
EventKind eventKindFromName(std::string_view name);

// One inference, as the device reports it. Every duration is measured on the host where it
// happens: device compute and transfer on the device, edge compute on the edge.
struct Sample {
    uint64_t sequence = 0;
    int64_t imageIndex = 0;
    int exit = 0;       // the configured (final) exit
    int partition = 0;  // on that exit's path
    // Per-input early exits: the exit that answered, the confidence rule's value there
    // (entropy, top probability or appeal probability; NaN without a rule), and whether the
    // input went to the edge. Without early exits: exit, NaN, partition < path length.
    int exitTaken = -1;
    double confidence = std::numeric_limits<double>::quiet_NaN();
    bool sentToEdge = false;
    int label = -1;
    int prediction = -1;
    double deviceMs = 0.0;       // layers [0, p) on the device
    double transferMs = 0.0;     // send + wait for the result, minus encode, decode, queueing and the edge's compute
    double edgeMs = 0.0;         // layers [p, n) on the edge, as the edge measured them
    // The time the frame waited in the edge's queue before the edge began on it (core/net/FairQueue.h),
    // and whether the edge shed it instead (a busy answer: no prediction, the deadline missed).
    double queueMs = 0.0;
    bool busy = false;
    double totalMs = 0.0;        // from taking the input to holding the prediction
    int64_t bytesSent = 0;       // frame bytes sent to the edge: tensor + header (0 when device-only)
    // The cut tensor's codec (core/net/Codec.h; empty when no cut tensor was sent), the
    // device's time to encode it and the edge's time to decode it (both 0 for fp32).
    std::string codec;
    double encodeMs = 0.0;
    double decodeMs = 0.0;
    double bandwidthBps = 0.0;   // shaper rate in force (0 in measure-only mode)
    double throughputBps = 0.0;  // bytesSent*8 / transferMs, 0 when nothing was sent
    double deviceTimeMs = 0.0;   // device-local clock, ms since the stream started
    // Dynamic mode's probe: when a configuration sends nothing (all layers on the device),
    // the device sends the raw input after the prediction is made, so the bandwidth can
    // still be observed. Not part of this sample's latency.
    int64_t probeBytes = 0;
    double probeMs = 0.0;  // the probe's transfer time, less the edge's compute
    // Measured by a real sensor on the device over the sample (core/energy/EnergySensor.h);
    // NaN when the device has none and the power model applies.
    double sensorEnergyMj = std::numeric_limits<double>::quiet_NaN();
    std::string sensorName;  // e.g. rapl:package-0
    // Set by the controller in dynamic mode (not sent by the device).
    int64_t bandwidthStateBps = -1;  // lower edge of the bandwidth state in force; -1: none
    std::string configSource;        // what chose this configuration: initial, change-point, ...
    bool correct() const { return prediction == label; }
};

QJsonObject sampleToJson(const Sample& s);
Result<Sample> sampleFromJson(const QJsonObject& o);

QJsonObject makeRequest(uint64_t id, Command command);
QJsonObject makeReply(uint64_t id, bool ok, const std::string& error = {});
QJsonObject makeHeartbeat();
QJsonObject makeEvent(EventKind kind, const std::string& message);

std::string toWire(const QJsonObject& o);
// Parses and checks "v" and "type"; a version mismatch is an explicit error.
Result<QJsonObject> fromWire(const void* data, size_t size);

// "tcp://127.0.0.1:0" -> "tcp://127.0.0.1:*" (ZeroMQ's spelling of an ephemeral port).
std::string zmqBindSpec(const std::string& endpoint);

}  // namespace edgent::core::net
