#include "workers/Worker.h"

#include "workers/WorkerShared.h"

#include "core/model/ModelIO.h"
#include "core/plan/Adaptive.h"
#include "core/net/Curve.h"
#include "core/net/Frame.h"
#include "core/util/Slowdown.h"

#include <QJsonDocument>
#include <QSysInfo>

#include <zmq_addon.hpp>

#include <unistd.h>

namespace edgent::workers {

using namespace edgent::core;
using namespace edgent::core::net;

namespace {

constexpr auto kPeerForgetAfter = std::chrono::seconds(10);
// A stream stops when the controller that started it has been silent this long.
constexpr auto kOwnerSilenceLimit = std::chrono::milliseconds(2 * kPeerDeadAfterMs);

std::string lastEndpoint(zmq::socket_t& s) { return s.get(zmq::sockopt::last_endpoint); }

// ZAP handler: admits CURVE clients whose public key is authorised.
// `rep` is bound by the caller before any CURVE socket exists: without a bound handler
// libzmq would admit every client.
void zapLoop(zmq::socket_t rep, std::set<std::string> allowedZ85, const std::atomic<bool>& stop) {
    std::set<std::string> allowed;
    for (const auto& z : allowedZ85) {
        uint8_t key[32];
        if (zmq_z85_decode(key, z.c_str())) allowed.insert(std::string(reinterpret_cast<char*>(key), 32));
    }
    while (!stop.load()) {
        zmq::pollitem_t items[] = {{rep.handle(), 0, ZMQ_POLLIN, 0}};
        try {
            zmq::poll(items, 1, std::chrono::milliseconds(100));
        } catch (const zmq::error_t& e) {
            if (e.num() == EINTR) continue;
            return;
        }
        if (!(items[0].revents & ZMQ_POLLIN)) continue;
        std::vector<zmq::message_t> req;
        if (!zmq::recv_multipart(rep, std::back_inserter(req))) continue;
        // version, request id, domain, address, identity, mechanism, credentials...
        const bool ok = req.size() >= 7 && req[5].to_string() == "CURVE" && allowed.count(req[6].to_string());
        std::array<zmq::const_buffer, 6> reply = {
            zmq::str_buffer("1.0"),
            zmq::buffer(req.size() > 1 ? req[1].data() : nullptr, req.size() > 1 ? req[1].size() : 0),
            ok ? zmq::str_buffer("200") : zmq::str_buffer("400"),
            ok ? zmq::str_buffer("OK") : zmq::str_buffer("client key not authorised"),
            zmq::str_buffer(""),
            zmq::str_buffer("")};
        zmq::send_multipart(rep, reply);
    }
}

}  // namespace

std::string dataBindFor(const std::string& controlBind) {
    const std::string scheme = "tcp://";
    if (controlBind.rfind(scheme, 0) != 0) return "tcp://127.0.0.1:0";
    const size_t colon = controlBind.rfind(':');
    if (colon == std::string::npos || colon < scheme.size()) return controlBind + ":0";
    return controlBind.substr(0, colon) + ":0";
}

Worker::Worker(WorkerOptions options) : options_(std::move(options)), context_(1), shaper_(1e9) {
    if (options_.maxFrameBytes == 0) options_.maxFrameBytes = kDefaultMaxFrameBytes;
}

Worker::~Worker() {
    stopStream();
    stopProfile();
    stopAdapt();
    stopServers();
    zapStop_ = true;
    if (zapThread_) zapThread_->join();
}

Status Worker::bind() {
    if (options_.role == Role::Device) {
        auto sensor = energy::findEnergySensor(options_.energySensor);
        if (!sensor) return makeError(sensor.error());
        energy_ = std::move(*sensor);
    }
    try {
        if (!options_.curveKeysDir.empty()) {
            auto keys = loadCurveKeys(options_.curveKeysDir, true);
            if (!keys) return makeError(keys.error());
            serverSecretKey_ = keys->serverSecret;
            serverPublicKey_ = keys->serverPublic;
            clientSecretKey_ = keys->clientSecret;
            clientPublicKey_ = keys->clientPublic;
            zmq::socket_t rep(context_, zmq::socket_type::rep);
            rep.set(zmq::sockopt::linger, 0);
            rep.bind("inproc://zeromq.zap.01");
            zapThread_ = std::make_unique<std::thread>(zapLoop, std::move(rep), keys->authorizedClients, std::cref(zapStop_));
        }
        auto secure = [&](zmq::socket_t& s) {
            if (serverSecretKey_.empty()) return;
            s.set(zmq::sockopt::curve_server, 1);
            s.set(zmq::sockopt::curve_secretkey, serverSecretKey_);
            s.set(zmq::sockopt::zap_domain, "edgent");
        };
        control_ = zmq::socket_t(context_, zmq::socket_type::router);
        control_.set(zmq::sockopt::maxmsgsize, kMaxControlMessageBytes);
        control_.set(zmq::sockopt::linger, 1000);
        secure(control_);
        control_.bind(zmqBindSpec(options_.controlBind));
        controlEndpoint_ = lastEndpoint(control_);
        if (options_.role == Role::Edge) {
            data_ = zmq::socket_t(context_, zmq::socket_type::router);
            data_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(options_.maxFrameBytes));
            data_.set(zmq::sockopt::linger, 0);
            data_.set(zmq::sockopt::router_mandatory, 1);  // an answer to a gone device fails visibly
            // The main thread drains the socket into the bounded queue at once; this caps what
            // may pile up in ZeroMQ's own buffer meanwhile.
            data_.set(zmq::sockopt::rcvhwm, std::max(64, 4 * options_.queueCapacity));
            secure(data_);
            data_.bind(zmqBindSpec(options_.dataBind));
            dataEndpoint_ = lastEndpoint(data_);
            startServers();
        }
        sampleSink_ = zmq::socket_t(context_, zmq::socket_type::pull);
        sampleSink_.set(zmq::sockopt::rcvhwm, 0);
        sampleSink_.bind(kSampleQueue);
    } catch (const zmq::error_t& e) {
        return makeError(std::string("cannot bind: ") + e.what());
    }
    return Status::success();
}

QJsonObject Worker::endpoints() const {
    QJsonObject o;
    o["role"] = roleName(options_.role);
    o["control"] = QString::fromStdString(controlEndpoint_);
    if (!dataEndpoint_.empty()) o["data"] = QString::fromStdString(dataEndpoint_);
    o["pid"] = static_cast<qint64>(::getpid());
    o["protocol"] = kProtocolVersion;
    o["curve"] = !serverSecretKey_.empty();
    return o;
}

int Worker::run(const std::atomic<bool>& stopSignal) {
    while (!shutdownRequested_ && !stopSignal.load()) {
        std::vector<zmq::pollitem_t> items{{control_.handle(), 0, ZMQ_POLLIN, 0}, {sampleSink_.handle(), 0, ZMQ_POLLIN, 0}};
        if (options_.role == Role::Edge) {
            items.push_back({data_.handle(), 0, ZMQ_POLLIN, 0});
            items.push_back({edgeReplies_.handle(), 0, ZMQ_POLLIN, 0});
        }
        try {
            zmq::poll(items.data(), items.size(), std::chrono::milliseconds(50));
            if (items[0].revents & ZMQ_POLLIN) onControl();
            if (items[1].revents & ZMQ_POLLIN) onSample();
            if (items.size() > 2 && (items[2].revents & ZMQ_POLLIN)) onData();
            if (items.size() > 3 && (items[3].revents & ZMQ_POLLIN)) onEdgeReply();
        } catch (const zmq::error_t& e) {
            if (e.num() == EINTR) continue;
            std::fprintf(stderr, "edgent-worker: socket error: %s\n", e.what());
            return 1;
        }
        const auto now = Clock::now();
        if (now - lastHeartbeat_ >= std::chrono::milliseconds(kHeartbeatIntervalMs)) {
            sendHeartbeats();
            // A local worker does not outlive the controller that spawned it (killed GUI or CLI).
            if (options_.parentPid > 0 && ::getppid() != options_.parentPid) {
                std::fprintf(stderr, "edgent-worker: the process that started this worker (pid %ld) is gone; exiting\n",
                             options_.parentPid);
                break;
            }
        }
        if (streamRunning_ && !streamOwner_.empty()) {
            auto it = peers_.find(streamOwner_);
            if (it == peers_.end() || now - it->second > kOwnerSilenceLimit) {
                std::fprintf(stderr, "edgent-worker: controller went silent; stopping the stream\n");
                stopStream();
            }
        }
    }
    stopStream();
    stopProfile();
    stopAdapt();
    stopServers();
    return 0;
}

void Worker::send(const Identity& to, const QJsonObject& message) {
    const std::string wire = toWire(message);
    std::array<zmq::const_buffer, 2> parts = {zmq::buffer(to), zmq::buffer(wire)};
    zmq::send_multipart(control_, parts, zmq::send_flags::dontwait);
}

void Worker::sendHeartbeats() {
    const auto now = Clock::now();
    lastHeartbeat_ = now;
    for (auto it = peers_.begin(); it != peers_.end();) {
        if (now - it->second > kPeerForgetAfter) {
            it = peers_.erase(it);
            continue;
        }
        send(it->first, makeHeartbeat());
        ++it;
    }
}

void Worker::onControl() {
    std::vector<zmq::message_t> parts;
    if (!zmq::recv_multipart(control_, std::back_inserter(parts), zmq::recv_flags::dontwait)) return;
    if (parts.size() < 2) return;
    const Identity from = parts[0].to_string();
    peers_[from] = Clock::now();
    auto message = fromWire(parts[1].data(), parts[1].size());
    if (!message) {
        ++counters_.badRequests;
        // Answer with the request id when the JSON at least carries one.
        const auto lenient = QJsonDocument::fromJson(QByteArray(parts[1].data<char>(), static_cast<qsizetype>(parts[1].size())));
        const uint64_t id = static_cast<uint64_t>(lenient.object().value("id").toInteger(0));
        send(from, makeReply(id, false, message.error()));
        return;
    }
    const QString type = message->value("type").toString();
    if (type == "heartbeat") return;
    if (type != "request") {
        ++counters_.badRequests;
        return;
    }
    ++counters_.requests;
    std::vector<zmq::message_t> extra;
    for (size_t i = 2; i < parts.size(); ++i) extra.push_back(std::move(parts[i]));
    // The exception boundary of requests (loading a model and profiling call into LibTorch):
    // the controller gets an error reply and the worker goes on serving.
    try {
        handle(from, *message, extra);
    } catch (const zmq::error_t&) {
        throw;
    } catch (const std::exception& e) {
        const std::string what = e.what();
        send(from, makeReply(static_cast<uint64_t>(message->value("id").toInteger()), false,
                             "the worker could not carry out '" + message->value("cmd").toString().toStdString() +
                                 "': " + what.substr(0, what.find('\n'))));
    }
}

void Worker::handle(const Identity& from, const QJsonObject& request, std::vector<zmq::message_t>& extra) {
    const uint64_t id = static_cast<uint64_t>(request.value("id").toInteger());
    const std::string name = request.value("cmd").toString().toStdString();
    auto fail = [&](const std::string& why) { send(from, makeReply(id, false, why)); };
    const std::optional<Command> command = commandFromName(name);
    if (!command) return fail("unknown command '" + name + "'");
    QJsonObject reply = makeReply(id, true);

    switch (*command) {
    case Command::Hello:
        reply["role"] = roleName(options_.role);
        reply["protocol"] = kProtocolVersion;
        reply["host"] = QSysInfo::machineHostName();
        reply["os"] = QSysInfo::prettyProductName();
        reply["libtorch"] = TORCH_VERSION;
        reply["threads"] = torch::get_num_threads();
        reply["slowdown"] = options_.slowdown;
        reply["slowdown_wait"] = slowdownSpins() ? "spin" : "sleep";
        reply["energy_sensor"] = energy_ ? QString::fromStdString(energy_->name()) : QString();
        reply["pid"] = static_cast<qint64>(::getpid());
        reply["control"] = QString::fromStdString(controlEndpoint_);
        if (!dataEndpoint_.empty()) reply["data"] = QString::fromStdString(dataEndpoint_);
        reply["model"] = QString::fromStdString(modelName_);
        if (options_.role == Role::Edge) {
            reply["servers"] = options_.servers;
            reply["queue_capacity"] = options_.queueCapacity;
            reply["queue_per_device"] = options_.queuePerDevice;
        }
        break;
    case Command::LoadModel: {
        if (streamRunning_) return fail("stop the stream before loading a model");
        if (adaptRunning_) return fail("an adaptation is running; wait for it or stop it");
        if (extra.size() != 2) return fail("load-model needs two extra frames: the model JSON and its weights");
        auto net = loadModelFromBytes(extra[0].to_string(), extra[1].to_string(), "model sent by the controller");
        if (!net) return fail(net.error());
        {
            // One pass through every exit before answering, so that a run's first inference
            // costs what the others do: LibTorch sets its kernels up on first use (the first
            // frame on a fresh edge took up to 0.9 s).
            torch::InferenceMode guard;
            const auto& dims = (*net)->spec().input.dims;
            std::vector<int64_t> sizes{1};
            sizes.insert(sizes.end(), dims.begin(), dims.end());
            (void)(*net)->forwardAll(torch::zeros(sizes));
        }
        {
            std::lock_guard lock(netMutex_);
            net_ = *net;
            modelName_ = net_->spec().name;
        }
        reply["model"] = QString::fromStdString(modelName_);
        reply["exits"] = net_->numExits();
        break;
    }
    case Command::Configure: {
        std::shared_ptr<MultiExitNet> net;
        {
            std::lock_guard lock(netMutex_);
            net = net_;
        }
        if (!net) return fail("no model loaded");
        std::lock_guard lock(configMutex_);
        DeviceConfig next = config_;
        if (request.contains("exit")) next.exit = request.value("exit").toInt(-1);
        if (request.contains("partition")) next.partition = request.value("partition").toInt(-1);
        if (request.contains("probe")) next.probe = request.value("probe").toBool(false);
        if (request.contains("bandwidth_bps")) next.bandwidthBps = request.value("bandwidth_bps").toDouble(-1.0);
        if (request.contains("codec")) {
            auto codec = codecFromName(request.value("codec").toString().toStdString());
            if (!codec) return fail(codec.error());
            next.codec = *codec;
        }
        if (request.contains("early")) {
            auto early = earlyExitsFromJson(request.value("early"));
            if (!early) return fail(early.error());
            next.early = *early;
        }
        if (request.contains("edge_endpoint")) {
            next.edgeEndpoint = request.value("edge_endpoint").toString().toStdString();
            if (next.edgeEndpoint.rfind("tcp://", 0) != 0 && next.edgeEndpoint.rfind("ipc://", 0) != 0)
                return fail("edge_endpoint must be a tcp:// or ipc:// address, got '" + next.edgeEndpoint + "'");
        }
        if (next.exit < 0 || next.exit >= net->numExits())
            return fail("exit " + std::to_string(next.exit) + " is out of range (the model has " +
                        std::to_string(net->numExits()) + " exits)");
        if (next.partition < 0 || next.partition > net->pathLength(next.exit))
            return fail("partition " + std::to_string(next.partition) + " is out of range for exit " + std::to_string(next.exit) +
                        " (0.." + std::to_string(net->pathLength(next.exit)) + ")");
        if (next.bandwidthBps < 0.0 || (next.bandwidthBps > 0.0 && next.bandwidthBps < 1000.0))
            return fail("bandwidth must be 0 (measure only) or at least 1 kbps");
        if (auto s = plan::checkEarlyExits(net->spec(), next.early, next.exit); !s) return fail(s.error());
        ++next.generation;
        config_ = next;
        if (config_.bandwidthBps > 0.0) shaper_.setRate(config_.bandwidthBps);
        reply["generation"] = static_cast<qint64>(config_.generation);
        break;
    }
    case Command::StartStream: {
        if (options_.role != Role::Device) return fail("only the device streams inputs");
        if (!net_) return fail("no model loaded");
        if (streamRunning_) return fail("a stream is already running");
        if (profileRunning_) return fail("profiling is running; wait for it or stop it");
        if (adaptRunning_) return fail("an adaptation is running; wait for it or stop it");
        StreamRequest s;
        s.count = request.value("count").toInteger(0);
        s.rateHz = request.value("rate_hz").toDouble(0.0);
        s.phaseMs = request.value("phase_ms").toDouble(0.0);
        if (!(s.phaseMs >= 0.0 && s.phaseMs <= 60000.0)) return fail("phase_ms must be from 0 to 60000");
        s.dataset = request.value("dataset").toString("fashion-mnist").toStdString();
        s.dataDir = request.value("data_dir").toString().toStdString();
        if (const QString shift = request.value("shift").toString(); !shift.isEmpty()) {
            auto spec = parseShift(shift.toStdString());
            if (!spec) return fail(spec.error());
            s.shift = *spec;
        }
        s.trainSplit = request.value("split").toString("test") == "train";
        s.offset = request.value("offset").toInteger(0);
        if (s.count < 0 || s.rateHz < 0.0 || s.offset < 0) return fail("count, rate_hz and offset must not be negative");
        if (s.rateHz > 0.0 && s.rateHz < 0.01) return fail("rate_hz must be 0 (back-to-back) or at least 0.01");
        startStream(from, s);
        reply["stream"] = static_cast<qint64>(streamId_);
        break;
    }
    case Command::Profile:
        if (!net_) return fail("no model loaded");
        if (streamRunning_) return fail("stop the stream before profiling (they would disturb each other)");
        if (profileRunning_) return fail("profiling is already running");
        lastProfile_ = QJsonObject();
        startProfile(from, request);
        reply["started"] = true;
        break;
    case Command::Adapt: {
        if (options_.role != Role::Device) return fail("only the device adapts its slice");
        if (!net_) return fail("no model loaded");
        if (streamRunning_ || profileRunning_) return fail("stop the stream or profiling before adapting");
        if (adaptRunning_) return fail("an adaptation is already running");
        auto o = adaptOptionsFromJson(request.value("options").toObject());
        if (!o) return fail(o.error());
        if (auto s = checkAdaptOptions(net_->spec(), *o); !s) return fail(s.error());
        startAdapt(from, *o);
        reply["started"] = true;
        break;
    }
    case Command::AdaptResult: {
        const bool ready = !adaptRunning_ && !lastAdapt_.isEmpty();
        reply["ready"] = ready;
        if (ready) reply["report"] = lastAdapt_;
        if (ready && request.value("weights").toBool()) {
            // The adapted model's weights, as the native format stores them.
            const std::string w = encodeWeights(*net_);
            reply["weights"] = QString::fromLatin1(QByteArray::fromStdString(w).toBase64());
            reply["weights_crc32"] = static_cast<qint64>(crc32Of(w));
        }
        break;
    }
    case Command::ProfileResult: {
        const bool ready = !profileRunning_ && !lastProfile_.isEmpty();
        reply["ready"] = ready;
        if (ready) reply["profile"] = lastProfile_;
        break;
    }
    case Command::Stop:
        stopStream();
        stopProfile();
        stopAdapt();
        reply["samples"] = static_cast<qint64>(counters_.samples.load());
        break;
    case Command::Stats: reply["stats"] = stats(); break;
    case Command::Shutdown: shutdownRequested_ = true; break;
    }
    send(from, reply);
}

QJsonObject Worker::stats() const {
    QJsonObject s;
    s["role"] = roleName(options_.role);
    s["frames_in"] = static_cast<qint64>(counters_.framesIn.load());
    s["frames_bad"] = static_cast<qint64>(counters_.framesBad.load());
    s["frames_out"] = static_cast<qint64>(counters_.framesOut.load());
    s["frames_unsent"] = static_cast<qint64>(counters_.framesUnsent.load());
    s["samples"] = static_cast<qint64>(counters_.samples.load());
    s["bytes_sent"] = static_cast<qint64>(counters_.bytesSent.load());
    s["requests"] = static_cast<qint64>(counters_.requests.load());
    s["bad_requests"] = static_cast<qint64>(counters_.badRequests.load());
    s["streaming"] = streamRunning_.load();
    s["profiling"] = profileRunning_.load();
    s["adapting"] = adaptRunning_.load();
    const double ms = counters_.transferMsSum.load();
    s["throughput_bps"] = ms > 0 ? static_cast<double>(counters_.transferBitsSum.load()) / (ms / 1000.0) : 0.0;
    {
        std::lock_guard lock(dataErrorMutex_);
        s["last_data_error"] = QString::fromStdString(lastDataError_);
    }
    if (options_.role == Role::Edge) {
        // The edge's service: what a fleet's planner and its simulation are fitted to.
        size_t waiting = 0;
        {
            std::lock_guard lock(edgeMutex_);
            waiting = edgeQueue_ ? edgeQueue_->size() : 0;
        }
        s["queue_length"] = static_cast<qint64>(waiting);
        s["queue_peak"] = static_cast<qint64>(counters_.queuePeak.load());
        s["queue_capacity"] = options_.queueCapacity;
        s["queue_per_device"] = options_.queuePerDevice;
        s["servers"] = options_.servers;
        s["shed"] = static_cast<qint64>(counters_.shed.load());
        s["service_ms_sum"] = static_cast<double>(counters_.serviceNs.load()) / 1e6;
        s["queue_ms_sum"] = static_cast<double>(counters_.queueNsSum.load()) / 1e6;
        s["uptime_ms"] = std::chrono::duration<double, std::milli>(Clock::now() - startedAt_).count();
    } else {
        s["busy_heard"] = static_cast<qint64>(counters_.busyHeard.load());
    }
    return s;
}

void Worker::onSample() {
    zmq::message_t m;
    while (sampleSink_.recv(m, zmq::recv_flags::dontwait)) {
        auto message = fromWire(m.data(), m.size());
        if (!message) continue;
        Identity to = streamOwner_;
        if (message->value("type").toString() == "event") {
            const QString event = message->value("event").toString();
            const EventKind kind = eventKindFromName(event.toStdString());
            // A background job's events (profiling, adaptation) go to whoever started it; its
            // result is kept for the *-result request, and its thread is joined when it ends.
            const auto job = [&](EventKind progress, EventKind done, EventKind error, const Identity& owner, const char* key,
                                 QJsonObject& result, std::atomic<bool>& running, std::unique_ptr<std::thread>& thread) {
                if (kind != progress && kind != done && kind != error) return;
                to = owner;
                if (kind == done) {
                    result = message->value(key).toObject();
                    message->remove(key);  // fetched with the result request; keep the event small
                    const std::string slim = toWire(*message);
                    m = zmq::message_t(slim.data(), slim.size());
                }
                if (kind != progress) {
                    running = false;
                    if (thread) {
                        thread->join();
                        thread.reset();
                    }
                }
            };
            job(EventKind::AdaptProgress, EventKind::AdaptDone, EventKind::AdaptError, adaptOwner_, "report", lastAdapt_,
                adaptRunning_, adapt_);
            job(EventKind::ProfileProgress, EventKind::ProfileDone, EventKind::ProfileError, profileOwner_, "profile", lastProfile_,
                profileRunning_, profile_);
            if ((kind == EventKind::StreamFinished || kind == EventKind::StreamError) &&
                message->value("stream").toInteger() == static_cast<qint64>(streamId_)) {
                streamRunning_ = false;
                if (stream_) {
                    stream_->join();
                    stream_.reset();
                }
            }
        }
        if (!to.empty()) {
            std::array<zmq::const_buffer, 2> parts = {zmq::buffer(to), zmq::buffer(m.data(), m.size())};
            zmq::send_multipart(control_, parts, zmq::send_flags::dontwait);
        }
    }
}

}  // namespace edgent::workers
