#include "workers/Worker.h"

#include "core/data/Dataset.h"
#include "core/model/ModelIO.h"
#include "core/net/Curve.h"
#include "core/net/Frame.h"
#include "core/profile/Profiler.h"

#include <QJsonDocument>
#include <QSysInfo>

#include <zmq_addon.hpp>

#include <unistd.h>

namespace edgent::workers {

using namespace edgent::core;
using namespace edgent::core::net;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kSampleQueue = "inproc://edgent-samples";
constexpr auto kPeerForgetAfter = std::chrono::seconds(10);
// A stream stops when the controller that started it has been silent this long.
constexpr auto kOwnerSilenceLimit = std::chrono::milliseconds(2 * kPeerDeadAfterMs);
constexpr int kEdgeReplyTimeoutMs = 5000;

double msBetween(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

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
        std::array<zmq::const_buffer, 6> reply = {zmq::str_buffer("1.0"), zmq::buffer(req.size() > 1 ? req[1].data() : nullptr, req.size() > 1 ? req[1].size() : 0),
                                                  ok ? zmq::str_buffer("200") : zmq::str_buffer("400"),
                                                  ok ? zmq::str_buffer("OK") : zmq::str_buffer("client key not authorised"),
                                                  zmq::str_buffer(""), zmq::str_buffer("")};
        zmq::send_multipart(rep, reply);
    }
}

}  // namespace

Worker::Worker(WorkerOptions options) : options_(std::move(options)), context_(1), shaper_(1e9) {
    if (options_.maxFrameBytes == 0) options_.maxFrameBytes = kDefaultMaxFrameBytes;
}

Worker::~Worker() {
    stopStream();
    stopProfile();
    zapStop_ = true;
    if (zapThread_) zapThread_->join();
}

Status Worker::bind() {
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
            secure(data_);
            data_.bind(zmqBindSpec(options_.dataBind));
            dataEndpoint_ = lastEndpoint(data_);
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
        if (options_.role == Role::Edge) items.push_back({data_.handle(), 0, ZMQ_POLLIN, 0});
        try {
            zmq::poll(items.data(), items.size(), std::chrono::milliseconds(50));
            if (items[0].revents & ZMQ_POLLIN) onControl();
            if (items[1].revents & ZMQ_POLLIN) onSample();
            if (items.size() > 2 && (items[2].revents & ZMQ_POLLIN)) onData();
        } catch (const zmq::error_t& e) {
            if (e.num() == EINTR) continue;
            std::fprintf(stderr, "edgent-worker: socket error: %s\n", e.what());
            return 1;
        }
        const auto now = Clock::now();
        if (now - lastHeartbeat_ >= std::chrono::milliseconds(kHeartbeatIntervalMs)) sendHeartbeats();
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
    handle(from, *message, extra);
}

void Worker::handle(const Identity& from, const QJsonObject& request, std::vector<zmq::message_t>& extra) {
    const uint64_t id = static_cast<uint64_t>(request.value("id").toInteger());
    const std::string cmd = request.value("cmd").toString().toStdString();
    auto fail = [&](const std::string& why) { send(from, makeReply(id, false, why)); };
    QJsonObject reply = makeReply(id, true);

    if (cmd == "hello") {
        reply["role"] = roleName(options_.role);
        reply["protocol"] = kProtocolVersion;
        reply["host"] = QSysInfo::machineHostName();
        reply["os"] = QSysInfo::prettyProductName();
        reply["libtorch"] = TORCH_VERSION;
        reply["threads"] = torch::get_num_threads();
        reply["pid"] = static_cast<qint64>(::getpid());
        reply["control"] = QString::fromStdString(controlEndpoint_);
        if (!dataEndpoint_.empty()) reply["data"] = QString::fromStdString(dataEndpoint_);
        reply["model"] = QString::fromStdString(modelName_);
    } else if (cmd == "load-model") {
        if (streamRunning_) return fail("stop the stream before loading a model");
        if (extra.size() != 2) return fail("load-model needs two extra frames: the model JSON and its weights");
        auto net = loadModelFromBytes(extra[0].to_string(), extra[1].to_string(), "model sent by the controller");
        if (!net) return fail(net.error());
        {
            std::lock_guard lock(netMutex_);
            net_ = *net;
            modelName_ = net_->spec().name;
        }
        reply["model"] = QString::fromStdString(modelName_);
        reply["exits"] = net_->numExits();
    } else if (cmd == "configure") {
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
        if (request.contains("bandwidth_bps")) next.bandwidthBps = request.value("bandwidth_bps").toDouble(-1.0);
        if (request.contains("edge_endpoint")) {
            next.edgeEndpoint = request.value("edge_endpoint").toString().toStdString();
            if (next.edgeEndpoint.rfind("tcp://", 0) != 0 && next.edgeEndpoint.rfind("ipc://", 0) != 0)
                return fail("edge_endpoint must be a tcp:// or ipc:// address, got '" + next.edgeEndpoint + "'");
        }
        if (next.exit < 0 || next.exit >= net->numExits())
            return fail("exit " + std::to_string(next.exit) + " is out of range (the model has " +
                        std::to_string(net->numExits()) + " exits)");
        if (next.partition < 0 || next.partition > net->pathLength(next.exit))
            return fail("partition " + std::to_string(next.partition) + " is out of range for exit " +
                        std::to_string(next.exit) + " (0.." + std::to_string(net->pathLength(next.exit)) + ")");
        if (next.bandwidthBps < 0.0 || (next.bandwidthBps > 0.0 && next.bandwidthBps < 1000.0))
            return fail("bandwidth must be 0 (measure only) or at least 1 kbps");
        ++next.generation;
        config_ = next;
        if (config_.bandwidthBps > 0.0) shaper_.setRate(config_.bandwidthBps);
        reply["generation"] = static_cast<qint64>(config_.generation);
    } else if (cmd == "start-stream") {
        if (options_.role != Role::Device) return fail("only the device streams inputs");
        if (!net_) return fail("no model loaded");
        if (streamRunning_) return fail("a stream is already running");
        if (profileRunning_) return fail("profiling is running; wait for it or stop it");
        StreamRequest s;
        s.count = request.value("count").toInteger(0);
        s.rateHz = request.value("rate_hz").toDouble(0.0);
        s.dataset = request.value("dataset").toString("fashion-mnist").toStdString();
        s.dataDir = request.value("data_dir").toString().toStdString();
        s.trainSplit = request.value("split").toString("test") == "train";
        s.offset = request.value("offset").toInteger(0);
        if (s.count < 0 || s.rateHz < 0.0 || s.offset < 0) return fail("count, rate_hz and offset must not be negative");
        if (s.rateHz > 0.0 && s.rateHz < 0.01) return fail("rate_hz must be 0 (back-to-back) or at least 0.01");
        startStream(from, s);
        reply["stream"] = static_cast<qint64>(streamId_);
    } else if (cmd == "profile") {
        if (!net_) return fail("no model loaded");
        if (streamRunning_) return fail("stop the stream before profiling (they would disturb each other)");
        if (profileRunning_) return fail("profiling is already running");
        lastProfile_ = QJsonObject();
        startProfile(from, request);
        reply["started"] = true;
    } else if (cmd == "profile-result") {
        const bool ready = !profileRunning_ && !lastProfile_.isEmpty();
        reply["ready"] = ready;
        if (ready) reply["profile"] = lastProfile_;
    } else if (cmd == "stop") {
        stopStream();
        stopProfile();
        reply["samples"] = static_cast<qint64>(counters_.samples.load());
    } else if (cmd == "stats") {
        reply["stats"] = stats();
    } else if (cmd == "shutdown") {
        shutdownRequested_ = true;
    } else {
        return fail("unknown command '" + cmd + "'");
    }
    send(from, reply);
}

QJsonObject Worker::stats() const {
    QJsonObject s;
    s["role"] = roleName(options_.role);
    s["frames_in"] = static_cast<qint64>(counters_.framesIn.load());
    s["frames_bad"] = static_cast<qint64>(counters_.framesBad.load());
    s["frames_out"] = static_cast<qint64>(counters_.framesOut.load());
    s["samples"] = static_cast<qint64>(counters_.samples.load());
    s["bytes_sent"] = static_cast<qint64>(counters_.bytesSent.load());
    s["requests"] = static_cast<qint64>(counters_.requests.load());
    s["bad_requests"] = static_cast<qint64>(counters_.badRequests.load());
    s["streaming"] = streamRunning_.load();
    s["profiling"] = profileRunning_.load();
    const double ms = counters_.transferMsSum.load();
    s["throughput_bps"] = ms > 0 ? static_cast<double>(counters_.transferBitsSum.load()) / (ms / 1000.0) : 0.0;
    s["last_data_error"] = QString::fromStdString(lastDataError_);
    return s;
}

void Worker::onData() {
    std::vector<zmq::message_t> parts;
    if (!zmq::recv_multipart(data_, std::back_inserter(parts), zmq::recv_flags::dontwait)) return;
    ++counters_.framesIn;
    auto bad = [&](const std::string& why) {
        ++counters_.framesBad;
        lastDataError_ = why;
    };
    if (parts.size() != 2) return bad("data message of " + std::to_string(parts.size()) + " parts");
    auto frame = decodeFrame(parts[1].data<uint8_t>(), parts[1].size(), options_.maxFrameBytes);
    if (!frame) return bad(frame.error());
    const FrameHeader& h = frame->header;
    if (h.type != FrameType::Activation) return bad("edge received a non-activation frame");
    std::shared_ptr<MultiExitNet> net;
    {
        std::lock_guard lock(netMutex_);
        net = net_;
    }
    if (!net) return bad("activation frame before a model was loaded");
    if (h.exit >= net->numExits() || h.partition >= net->pathLength(h.exit))
        return bad("frame for exit " + std::to_string(h.exit) + " partition " + std::to_string(h.partition) +
                   " is out of range");
    // The shape the frame must carry: the raw input, or the output of layer p-1.
    const Shape expected = h.partition == 0 ? net->spec().input : net->pathInfo(h.exit)[h.partition - 1u].output;
    const DType expectedType = h.partition == 0 ? DType::UInt8 : DType::Float32;
    std::vector<uint32_t> expectedDims(expected.dims.begin(), expected.dims.end());
    if (h.dims != expectedDims || h.dtype != expectedType)
        return bad("frame shape or dtype does not match exit " + std::to_string(h.exit) + " partition " +
                   std::to_string(h.partition));

    torch::InferenceMode guard;
    const auto t0 = Clock::now();
    std::vector<int64_t> sizes{1};
    sizes.insert(sizes.end(), expected.dims.begin(), expected.dims.end());
    torch::Tensor x = torch::from_blob(const_cast<uint8_t*>(frame->payload), sizes,
                                       expectedType == DType::UInt8 ? torch::kUInt8 : torch::kFloat32);
    if (h.partition == 0) x = net->preprocess(x);
    auto logits = net->runSlice(h.exit, h.partition, net->pathLength(h.exit), x);
    if (!logits) return bad(logits.error());
    const torch::Tensor out = logits->contiguous();
    const int32_t prediction = static_cast<int32_t>(out.argmax(1).item<int64_t>());
    const uint64_t edgeNs = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());

    FrameHeader r;
    r.type = FrameType::Result;
    r.dtype = DType::Float32;
    r.sequence = h.sequence;
    r.exit = h.exit;
    r.partition = h.partition;
    r.prediction = prediction;
    r.edgeComputeNs = edgeNs;
    r.dims = {static_cast<uint32_t>(out.size(1))};
    zmq::message_t reply(encodedFrameBytes(r));
    if (!encodeFrameInto(r, out.data_ptr(), static_cast<size_t>(out.numel()) * 4, reply.data<uint8_t>(), reply.size()))
        return bad("cannot encode the result frame");
    data_.send(parts[0], zmq::send_flags::sndmore);
    data_.send(reply, zmq::send_flags::dontwait);
    ++counters_.framesOut;
}

void Worker::onSample() {
    zmq::message_t m;
    while (sampleSink_.recv(m, zmq::recv_flags::dontwait)) {
        auto message = fromWire(m.data(), m.size());
        if (!message) continue;
        Identity to = streamOwner_;
        if (message->value("type").toString() == "event") {
            const QString event = message->value("event").toString();
            if (event.startsWith("profile-")) {
                to = profileOwner_;
                if (event == "profile-done") {
                    lastProfile_ = message->value("profile").toObject();
                    message->remove("profile");  // fetched with profile-result; keep the event small
                    const std::string slim = toWire(*message);
                    m = zmq::message_t(slim.data(), slim.size());
                }
                if (event != "profile-progress") {
                    profileRunning_ = false;
                    if (profile_) {
                        profile_->join();
                        profile_.reset();
                    }
                }
            }
            if ((event == "stream-finished" || event == "stream-error") &&
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

void Worker::startStream(const Identity& owner, const StreamRequest& request) {
    stopStream();
    streamOwner_ = owner;
    streamStop_ = false;
    streamRunning_ = true;
    ++streamId_;
    counters_.samples = 0;
    stream_ = std::make_unique<std::thread>(&Worker::streamLoop, this, request, streamId_);
}

void Worker::stopStream() {
    streamStop_ = true;
    if (stream_) {
        stream_->join();
        stream_.reset();
    }
    streamRunning_ = false;
    // Samples the stream queued before it stopped still go to the controller.
    if (sampleSink_) onSample();
}

void Worker::startProfile(const Identity& owner, const QJsonObject& request) {
    stopProfile();
    profileOwner_ = owner;
    profileCancel_ = false;
    profileRunning_ = true;
    profile::ProfileOptions o;
    o.repeats = std::clamp(request.value("repeats").toInt(o.repeats), 3, 1000);
    o.warmup = std::clamp(request.value("warmup").toInt(o.warmup), 0, 1000);
    o.synthetic = request.value("synthetic").toBool(true);
    std::shared_ptr<MultiExitNet> net = net_;
    profile_ = std::make_unique<std::thread>([this, o, net] {
        torch::set_num_threads(std::max(1, options_.threads));
        zmq::socket_t out(context_, zmq::socket_type::push);
        out.set(zmq::sockopt::linger, 1000);
        out.set(zmq::sockopt::sndhwm, 0);
        out.connect(kSampleQueue);
        auto emit = [&](const QJsonObject& e) {
            const std::string wire = toWire(e);
            out.send(zmq::buffer(wire), zmq::send_flags::none);
        };
        auto last = Clock::now() - std::chrono::seconds(1);
        Result<profile::ProfileResult> result = makeError("profiling did not run");
        try {
        result = profile::profileNet(*net, o, [&](const profile::ProfileProgress& p) {
            const auto now = Clock::now();
            if (now - last < std::chrono::milliseconds(200) && p.done != p.total) return;
            last = now;
            QJsonObject e = makeEvent("profile-progress", p.stage);
            e["done"] = p.done;
            e["total"] = p.total;
            emit(e);
        }, &profileCancel_);
        } catch (const std::exception& e) {
            std::string what = e.what();
            result = makeError("profiling failed: " + what.substr(0, what.find('\n')));
        }
        if (!result) return emit(makeEvent("profile-error", result.error()));
        QJsonObject done = makeEvent("profile-done", "profiled " + std::to_string(result->layers.size()) + " layer configurations");
        done["profile"] = profile::profileToJson(*result);
        done["threads"] = torch::get_num_threads();
        emit(done);
    });
}

void Worker::stopProfile() {
    profileCancel_ = true;
    if (profile_) {
        profile_->join();
        profile_.reset();
    }
    profileRunning_ = false;
}

void Worker::streamLoop(StreamRequest request, uint64_t streamId) {
    // The thread's exception boundary: a socket or LibTorch error ends the stream with a
    // reason instead of terminating the worker.
    try {
        streamBody(request, streamId);
    } catch (const zmq::error_t& e) {
        reportStreamFailure(streamId, std::string("socket error: ") + e.what());
    } catch (const std::exception& e) {
        std::string what = e.what();
        reportStreamFailure(streamId, "inference error: " + what.substr(0, what.find('\n')));
    }
}

void Worker::reportStreamFailure(uint64_t streamId, const std::string& why) {
    zmq::socket_t out(context_, zmq::socket_type::push);
    out.set(zmq::sockopt::linger, 1000);
    out.connect(kSampleQueue);
    QJsonObject e = makeEvent("stream-error", why);
    e["stream"] = static_cast<qint64>(streamId);
    e["samples"] = static_cast<qint64>(counters_.samples.load());
    const std::string wire = toWire(e);
    out.send(zmq::buffer(wire), zmq::send_flags::none);
}

void Worker::streamBody(StreamRequest request, uint64_t streamId) {
    torch::set_num_threads(std::max(1, options_.threads));
    zmq::socket_t out(context_, zmq::socket_type::push);
    out.set(zmq::sockopt::linger, 1000);
    out.set(zmq::sockopt::sndhwm, 0);  // never block: the main thread may be joining us
    out.connect(kSampleQueue);
    auto emit = [&](const QJsonObject& o) {
        const std::string wire = toWire(o);
        out.send(zmq::buffer(wire), zmq::send_flags::none);
    };
    auto finish = [&](const char* event, const std::string& message, uint64_t count) {
        QJsonObject e = makeEvent(event, message);
        e["stream"] = static_cast<qint64>(streamId);
        e["samples"] = static_cast<qint64>(count);
        emit(e);
    };

    auto ds = openDataset(request.dataset, request.dataDir);
    if (!ds) return finish("stream-error", ds.error(), 0);
    auto set = (*ds)->load(request.trainSplit ? Split::Train : Split::Test);
    if (!set) return finish("stream-error", set.error(), 0);
    if (set->count == 0) return finish("stream-error", "the dataset split is empty", 0);

    zmq::socket_t edge;
    std::string connectedTo;
    torch::InferenceMode guard;
    const auto start = Clock::now();
    uint64_t done = 0;
    for (uint64_t seq = 0; request.count == 0 || seq < static_cast<uint64_t>(request.count); ++seq) {
        if (streamStop_) break;
        if (request.rateHz > 0.0 &&
            !TokenBucketShaper::waitUntil(start + std::chrono::duration_cast<Clock::duration>(
                                                      std::chrono::duration<double>(static_cast<double>(seq) / request.rateHz)),
                                          &streamStop_))
            break;
        DeviceConfig cfg;
        {
            std::lock_guard lock(configMutex_);
            cfg = config_;
        }
        std::shared_ptr<MultiExitNet> net;
        {
            std::lock_guard lock(netMutex_);
            net = net_;
        }
        const Shape& in = net->spec().input;
        if (!(in == Shape{{set->channels, set->height, set->width}}))
            return finish("stream-error", "the model takes " + in.toString() + " input, the dataset has other images", done);
        const int n = net->pathLength(cfg.exit);
        if (cfg.partition > n) return finish("stream-error", "partition out of range for the loaded model", done);

        Sample s;
        s.sequence = seq;
        s.imageIndex = static_cast<int64_t>((static_cast<uint64_t>(request.offset) + seq) % static_cast<uint64_t>(set->count));
        s.exit = cfg.exit;
        s.partition = cfg.partition;
        s.label = set->labels[static_cast<size_t>(s.imageIndex)];
        s.bandwidthBps = cfg.bandwidthBps;
        uint8_t* pixels = const_cast<uint8_t*>(set->image(s.imageIndex));

        const auto t0 = Clock::now();
        torch::Tensor h;
        if (cfg.partition > 0) {
            torch::Tensor x = net->preprocess(torch::from_blob(pixels, {1, in.dims[0], in.dims[1], in.dims[2]}, torch::kUInt8));
            auto r = net->runSlice(cfg.exit, 0, cfg.partition, x);
            if (!r) return finish("stream-error", r.error(), done);
            h = r->contiguous();
        }
        const auto t1 = Clock::now();
        s.deviceMs = msBetween(t0, t1);

        if (cfg.partition < n) {
            if (cfg.edgeEndpoint.empty()) return finish("stream-error", "no edge endpoint configured", done);
            if (cfg.edgeEndpoint != connectedTo) {
                edge = zmq::socket_t(context_, zmq::socket_type::dealer);
                edge.set(zmq::sockopt::linger, 0);
                edge.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(options_.maxFrameBytes));
                if (!clientSecretKey_.empty()) {
                    edge.set(zmq::sockopt::curve_serverkey, serverPublicKey_);
                    edge.set(zmq::sockopt::curve_publickey, clientPublicKey_);
                    edge.set(zmq::sockopt::curve_secretkey, clientSecretKey_);
                }
                edge.connect(cfg.edgeEndpoint);
                connectedTo = cfg.edgeEndpoint;
            }
            FrameHeader fh;
            fh.type = FrameType::Activation;
            fh.sequence = seq;
            fh.exit = static_cast<uint16_t>(cfg.exit);
            fh.partition = static_cast<uint16_t>(cfg.partition);
            const void* payload;
            size_t payloadBytes;
            if (cfg.partition == 0) {
                fh.dtype = DType::UInt8;
                fh.dims.assign(in.dims.begin(), in.dims.end());
                payload = pixels;
                payloadBytes = static_cast<size_t>(set->imageBytes());
            } else {
                fh.dtype = DType::Float32;
                for (int64_t d = 1; d < h.dim(); ++d) fh.dims.push_back(static_cast<uint32_t>(h.size(d)));
                payload = h.data_ptr();
                payloadBytes = static_cast<size_t>(h.numel()) * 4;
            }
            zmq::message_t frame(encodedFrameBytes(fh));
            if (!encodeFrameInto(fh, payload, payloadBytes, frame.data<uint8_t>(), frame.size()))
                return finish("stream-error", "cannot encode an activation frame", done);
            s.bytesSent = static_cast<int64_t>(frame.size());
            if (cfg.bandwidthBps > 0.0 && !TokenBucketShaper::waitUntil(shaper_.reserve(s.bytesSent), &streamStop_)) break;
            edge.send(frame, zmq::send_flags::none);

            // Wait for this frame's result; drop stale ones from an earlier timeout.
            bool answered = false;
            FrameHeader result;
            const auto deadline = Clock::now() + std::chrono::milliseconds(kEdgeReplyTimeoutMs);
            while (!answered && !streamStop_ && Clock::now() < deadline) {
                zmq::pollitem_t items[] = {{edge.handle(), 0, ZMQ_POLLIN, 0}};
                try {
                    zmq::poll(items, 1, std::chrono::milliseconds(50));
                } catch (const zmq::error_t& e) {
                    if (e.num() != EINTR) throw;
                }
                zmq::message_t reply;
                while (!answered && edge.recv(reply, zmq::recv_flags::dontwait)) {
                    auto decoded = decodeFrame(reply.data<uint8_t>(), reply.size(), options_.maxFrameBytes);
                    if (!decoded) {
                        ++counters_.framesBad;
                        continue;
                    }
                    if (decoded->header.type == FrameType::Result && decoded->header.sequence == seq) {
                        result = decoded->header;
                        answered = true;
                    }
                }
            }
            if (streamStop_) break;
            if (!answered)
                return finish("stream-error",
                              "the edge did not answer frame " + std::to_string(seq) + " within " +
                                  std::to_string(kEdgeReplyTimeoutMs / 1000) + " s",
                              done);
            const auto t2 = Clock::now();
            s.edgeMs = static_cast<double>(result.edgeComputeNs) / 1e6;
            s.transferMs = std::max(0.0, msBetween(t1, t2) - s.edgeMs);
            s.prediction = result.prediction;
            s.throughputBps = s.transferMs > 0 ? static_cast<double>(s.bytesSent) * 8.0 / (s.transferMs / 1000.0) : 0.0;
            counters_.bytesSent += static_cast<uint64_t>(s.bytesSent);
            counters_.transferBitsSum += static_cast<uint64_t>(s.bytesSent) * 8;
            counters_.transferMsSum = counters_.transferMsSum.load() + s.transferMs;
        } else {
            s.prediction = static_cast<int>(h.argmax(1).item<int64_t>());
        }
        const auto t3 = Clock::now();
        s.totalMs = msBetween(t0, t3);
        s.deviceTimeMs = msBetween(start, t0);
        emit(sampleToJson(s));
        ++counters_.samples;
        ++done;
    }
    finish("stream-finished", streamStop_ ? "stopped" : "done", done);
}

}  // namespace edgent::workers
