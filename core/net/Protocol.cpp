#include "core/net/Protocol.h"

#include <cmath>
#include <utility>

#include <QJsonDocument>

namespace edgent::core::net {

const char* roleName(Role role) { return role == Role::Device ? "device" : "edge"; }

Result<Role> roleFromName(const std::string& name) {
    if (name == "device") return Role::Device;
    if (name == "edge") return Role::Edge;
    return makeError("unknown role '" + name + "' (device or edge)");
}

namespace {

template <typename E, size_t N>
std::optional<E> lookup(const std::pair<E, const char*> (&table)[N], std::string_view name) {
    for (const auto& [value, text] : table)
        if (name == text) return value;
    return std::nullopt;
}

template <typename E, size_t N>
const char* nameOf(const std::pair<E, const char*> (&table)[N], E value) {
    for (const auto& [v, text] : table)
        if (v == value) return text;
    return "unknown";
}

constexpr std::pair<Command, const char*> kCommands[] = {
    {Command::Hello, "hello"},
    {Command::LoadModel, "load-model"},
    {Command::Configure, "configure"},
    {Command::StartStream, "start-stream"},
    {Command::Stop, "stop"},
    {Command::Stats, "stats"},
    {Command::Shutdown, "shutdown"},
    {Command::Profile, "profile"},
    {Command::ProfileResult, "profile-result"},
    {Command::Adapt, "adapt"},
    {Command::AdaptResult, "adapt-result"},
};

constexpr std::pair<EventKind, const char*> kEventKinds[] = {
    {EventKind::StreamFinished, "stream-finished"},
    {EventKind::StreamError, "stream-error"},
    {EventKind::ProfileProgress, "profile-progress"},
    {EventKind::ProfileDone, "profile-done"},
    {EventKind::ProfileError, "profile-error"},
    {EventKind::AdaptProgress, "adapt-progress"},
    {EventKind::AdaptDone, "adapt-done"},
    {EventKind::AdaptError, "adapt-error"},
    {EventKind::Log, "log"},
    {EventKind::WorkerUp, "worker-up"},
    {EventKind::WorkerDown, "worker-down"},
    {EventKind::Bandwidth, "bandwidth"},
    {EventKind::Plan, "plan"},
    {EventKind::ChangePoint, "change-point"},
    {EventKind::Goal, "goal"},
    {EventKind::Pause, "pause"},
    {EventKind::Resume, "resume"},
    {EventKind::Unknown, "unknown"},
};

}  // namespace

const char* commandName(Command command) { return nameOf(kCommands, command); }
std::optional<Command> commandFromName(std::string_view name) { return lookup(kCommands, name); }

const char* eventKindName(EventKind kind) { return nameOf(kEventKinds, kind); }

EventKind eventKindFromName(std::string_view name) {
    if (auto k = lookup(kEventKinds, name)) return *k;
    if (name == "up") return EventKind::WorkerUp;
    if (name == "down") return EventKind::WorkerDown;
    if (name == "slider") return EventKind::Bandwidth;
    return EventKind::Unknown;
}

QJsonObject sampleToJson(const Sample& s) {
    QJsonObject o;
    o["v"] = kProtocolVersion;
    o["type"] = "sample";
    o["seq"] = static_cast<qint64>(s.sequence);
    o["image"] = static_cast<qint64>(s.imageIndex);
    o["exit"] = s.exit;
    o["partition"] = s.partition;
    o["exit_taken"] = s.exitTaken;
    o["sent"] = s.sentToEdge;
    if (!std::isnan(s.confidence)) o["confidence"] = s.confidence;
    o["label"] = s.label;
    o["prediction"] = s.prediction;
    o["device_ms"] = s.deviceMs;
    o["transfer_ms"] = s.transferMs;
    o["edge_ms"] = s.edgeMs;
    o["total_ms"] = s.totalMs;
    o["bytes_sent"] = static_cast<qint64>(s.bytesSent);
    o["bandwidth_bps"] = s.bandwidthBps;
    o["throughput_bps"] = s.throughputBps;
    o["device_time_ms"] = s.deviceTimeMs;
    if (!std::isnan(s.sensorEnergyMj)) {
        o["energy_mj"] = s.sensorEnergyMj;
        o["energy_sensor"] = QString::fromStdString(s.sensorName);
    }
    if (!s.codec.empty()) {
        o["codec"] = QString::fromStdString(s.codec);
        o["encode_ms"] = s.encodeMs;
        o["decode_ms"] = s.decodeMs;
    }
    if (s.queueMs > 0.0) o["queue_ms"] = s.queueMs;
    if (s.busy) o["busy"] = true;
    if (s.probeBytes > 0) {
        o["probe_bytes"] = static_cast<qint64>(s.probeBytes);
        o["probe_ms"] = s.probeMs;
    }
    return o;
}

Result<Sample> sampleFromJson(const QJsonObject& o) {
    for (const char* key :
         {"seq", "exit", "partition", "label", "prediction", "device_ms", "transfer_ms", "edge_ms", "total_ms", "bytes_sent"})
        if (!o.value(key).isDouble()) return makeError(std::string("sample lacks a numeric '") + key + "'");
    Sample s;
    s.sequence = static_cast<uint64_t>(o.value("seq").toInteger());
    s.imageIndex = o.value("image").toInteger();
    s.exit = o.value("exit").toInt();
    s.partition = o.value("partition").toInt();
    s.exitTaken = o.value("exit_taken").toInt(s.exit);
    s.sentToEdge = o.value("sent").toBool(false);
    s.confidence = o.value("confidence").toDouble(NAN);
    s.label = o.value("label").toInt();
    s.prediction = o.value("prediction").toInt();
    s.deviceMs = o.value("device_ms").toDouble();
    s.transferMs = o.value("transfer_ms").toDouble();
    s.edgeMs = o.value("edge_ms").toDouble();
    s.totalMs = o.value("total_ms").toDouble();
    s.bytesSent = o.value("bytes_sent").toInteger();
    s.bandwidthBps = o.value("bandwidth_bps").toDouble();
    s.throughputBps = o.value("throughput_bps").toDouble();
    s.deviceTimeMs = o.value("device_time_ms").toDouble();
    if (o.value("energy_mj").isDouble()) {
        s.sensorEnergyMj = o.value("energy_mj").toDouble();
        s.sensorName = o.value("energy_sensor").toString().toStdString();
    }
    s.codec = o.value("codec").toString().toStdString();
    s.encodeMs = o.value("encode_ms").toDouble(0.0);
    s.decodeMs = o.value("decode_ms").toDouble(0.0);
    s.queueMs = o.value("queue_ms").toDouble(0.0);
    s.busy = o.value("busy").toBool(false);
    s.probeBytes = o.value("probe_bytes").toInteger(0);
    s.probeMs = o.value("probe_ms").toDouble(0.0);
    return s;
}

QJsonObject makeRequest(uint64_t id, Command command) {
    QJsonObject o;
    o["v"] = kProtocolVersion;
    o["type"] = "request";
    o["id"] = static_cast<qint64>(id);
    o["cmd"] = commandName(command);
    return o;
}

QJsonObject makeReply(uint64_t id, bool ok, const std::string& error) {
    QJsonObject o;
    o["v"] = kProtocolVersion;
    o["type"] = "reply";
    o["id"] = static_cast<qint64>(id);
    o["ok"] = ok;
    if (!ok) o["error"] = QString::fromStdString(error);
    return o;
}

QJsonObject makeHeartbeat() {
    QJsonObject o;
    o["v"] = kProtocolVersion;
    o["type"] = "heartbeat";
    return o;
}

QJsonObject makeEvent(EventKind kind, const std::string& message) {
    QJsonObject o;
    o["v"] = kProtocolVersion;
    o["type"] = "event";
    o["event"] = eventKindName(kind);
    o["message"] = QString::fromStdString(message);
    return o;
}

std::string toWire(const QJsonObject& o) { return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString(); }

Result<QJsonObject> fromWire(const void* data, size_t size) {
    if (size > static_cast<size_t>(16 * 1024 * 1024)) return makeError("control message is too large for JSON");
    QJsonParseError error;
    const QJsonDocument doc =
        QJsonDocument::fromJson(QByteArray::fromRawData(static_cast<const char*>(data), static_cast<qsizetype>(size)), &error);
    if (!doc.isObject()) return makeError("control message is not a JSON object");
    const QJsonObject o = doc.object();
    if (!o.value("v").isDouble()) return makeError("control message has no protocol version");
    const int v = o.value("v").toInt();
    if (v != kProtocolVersion)
        return makeError("protocol version " + std::to_string(v) + " is not supported (this side speaks " +
                         std::to_string(kProtocolVersion) + ")");
    if (!o.value("type").isString()) return makeError("control message has no type");
    return o;
}

std::string zmqBindSpec(const std::string& endpoint) {
    const std::string suffix = ":0";
    if (endpoint.size() > suffix.size() && endpoint.compare(endpoint.size() - suffix.size(), suffix.size(), suffix) == 0)
        return endpoint.substr(0, endpoint.size() - 1) + "*";
    return endpoint;
}

}  // namespace edgent::core::net
