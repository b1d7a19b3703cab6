// The device role: the input stream, run on its own thread.
#include "workers/Worker.h"

#include "workers/WorkerShared.h"

#include "core/data/Dataset.h"
#include "core/net/Frame.h"
#include "core/net/Shaper.h"
#include "core/util/Slowdown.h"

#include <zmq_addon.hpp>

namespace edgent::workers {

using namespace edgent::core;
using namespace edgent::core::net;

namespace {

// How long the device waits for the edge's answer to one frame.
constexpr int kEdgeReplyTimeoutMs = 5000;
// After a busy answer the device waits this long before its next input, so that a shed device
// does not flood an overloaded edge with frames it cannot take.
constexpr int kBusyBackoffMs = 10;

}  // namespace

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
    zmq::socket_t out = connectToMainLoop(context_);
    QJsonObject e = makeEvent(EventKind::StreamError, why);
    e["stream"] = static_cast<qint64>(streamId);
    e["samples"] = static_cast<qint64>(counters_.samples.load());
    sendJson(out, e);
}

void Worker::streamBody(StreamRequest request, uint64_t streamId) {
    torch::set_num_threads(std::max(1, options_.threads));
    zmq::socket_t out = connectToMainLoop(context_);
    auto emit = [&](const QJsonObject& o) { sendJson(out, o); };
    auto finish = [&](EventKind event, const std::string& message, uint64_t count) {
        QJsonObject e = makeEvent(event, message);
        e["stream"] = static_cast<qint64>(streamId);
        e["samples"] = static_cast<qint64>(count);
        emit(e);
    };

    auto ds = openDataset(request.dataset, request.dataDir);
    if (!ds) return finish(EventKind::StreamError, ds.error(), 0);
    auto set = (*ds)->load(request.trainSplit ? Split::Train : Split::Test);
    if (!set) return finish(EventKind::StreamError, set.error(), 0);
    if (set->count == 0) return finish(EventKind::StreamError, "the dataset split is empty", 0);
    if (request.shift) shiftImages(*set, *request.shift, 0);  // image i shifted as it is everywhere else

    zmq::socket_t edge;
    std::string connectedTo;
    std::string encoded;  // the cut tensor's encoding, reused across samples
    torch::InferenceMode guard;
    const auto start = Clock::now();
    uint64_t done = 0;
    for (uint64_t seq = 0; request.count == 0 || seq < static_cast<uint64_t>(request.count); ++seq) {
        if (streamStop_) break;
        if (request.rateHz > 0.0 &&
            !TokenBucketShaper::waitUntil(start + std::chrono::duration_cast<Clock::duration>(
                                                      std::chrono::duration<double>(static_cast<double>(seq) / request.rateHz +
                                                                                    request.phaseMs / 1000.0)),
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
            return finish(EventKind::StreamError, "the model takes " + in.toString() + " input, the dataset has other images",
                          done);
        const int n = net->pathLength(cfg.exit);
        if (cfg.partition > n) return finish(EventKind::StreamError, "partition out of range for the loaded model", done);

        Sample s;
        s.sequence = seq;
        s.imageIndex = static_cast<int64_t>((static_cast<uint64_t>(request.offset) + seq) % static_cast<uint64_t>(set->count));
        s.exit = cfg.exit;
        s.partition = cfg.partition;
        s.label = set->labels[static_cast<size_t>(s.imageIndex)];
        s.bandwidthBps = cfg.bandwidthBps;
        uint8_t* pixels = const_cast<uint8_t*>(set->image(s.imageIndex));

        double energyAtStart = 0.0;
        if (energy_)
            if (auto e = energy_->microjoules()) energyAtStart = *e;
        const auto t0 = Clock::now();
        // The device's part: layers [0, p) of the exit's path, and with per-input early exits
        // the exits before the cut, stopping at the first confident one.
        MultiExitNet::DevicePart part;
        if (cfg.partition > 0 || cfg.early.active()) {
            torch::Tensor x = net->preprocess(torch::from_blob(pixels, {1, in.dims[0], in.dims[1], in.dims[2]}, torch::kUInt8));
            auto r = net->devicePart(cfg.exit, cfg.partition, cfg.early, x);
            if (!r) return finish(EventKind::StreamError, r.error(), done);
            part = std::move(*r);
            stretchComputation(t0, options_.slowdown);
        }
        const torch::Tensor& h = part.cut;
        const auto t1 = Clock::now();
        s.deviceMs = msBetween(t0, t1);

        // Sends one activation frame through the shaper and waits for its result. Returns
        // false when the stream must end (stopped, or the edge did not answer).
        std::vector<float> edgeLogits;  // the result frame's class scores
        bool shed = false;  // the edge answered busy
        auto exchange = [&](FrameHeader fh, const void* payload, size_t payloadBytes, int64_t& bytes,
                            FrameHeader& result) -> bool {
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
            zmq::message_t frame(encodedFrameBytes(fh, payloadBytes));
            if (!encodeFrameInto(fh, payload, payloadBytes, frame.data<uint8_t>(), frame.size())) {
                finish(EventKind::StreamError, "cannot encode an activation frame", done);
                return false;
            }
            bytes = static_cast<int64_t>(frame.size());
            if (cfg.bandwidthBps > 0.0 && !TokenBucketShaper::waitUntil(shaper_.reserve(bytes), &streamStop_)) return false;
            edge.send(frame, zmq::send_flags::none);

            // Wait for this frame's result; drop stale ones from an earlier timeout.
            bool answered = false;
            std::string refused;
            const auto deadline = Clock::now() + std::chrono::milliseconds(kEdgeReplyTimeoutMs);
            while (!answered && refused.empty() && !streamStop_ && Clock::now() < deadline) {
                zmq::pollitem_t items[] = {{edge.handle(), 0, ZMQ_POLLIN, 0}};
                try {
                    zmq::poll(items, 1, std::chrono::milliseconds(50));
                } catch (const zmq::error_t& e) {
                    if (e.num() != EINTR) throw;
                }
                zmq::message_t reply;
                while (!answered && refused.empty() && edge.recv(reply, zmq::recv_flags::dontwait)) {
                    auto decoded = decodeFrame(reply.data<uint8_t>(), reply.size(), options_.maxFrameBytes);
                    if (!decoded) {
                        ++counters_.framesBad;
                        continue;
                    }
                    if (decoded->header.sequence != fh.sequence) continue;
                    if (decoded->header.type == FrameType::Result) {
                        result = decoded->header;
                        answered = true;
                        if (decoded->header.dtype == DType::Float32) {
                            const auto* f = reinterpret_cast<const float*>(decoded->payload);
                            edgeLogits.assign(f, f + decoded->payloadBytes / sizeof(float));
                        }
                    } else if (decoded->header.type == FrameType::Error) {
                        refused = errorFrameText(*decoded);
                    } else if (decoded->header.type == FrameType::Busy) {
                        result = decoded->header;
                        answered = shed = true;
                    }
                }
            }
            if (streamStop_) return false;
            if (!refused.empty()) {
                finish(EventKind::StreamError, "the edge could not run frame " + std::to_string(fh.sequence) + ": " + refused,
                       done);
                return false;
            }
            if (!answered) {
                finish(EventKind::StreamError,
                       "the edge did not answer frame " + std::to_string(fh.sequence) + " within " +
                           std::to_string(kEdgeReplyTimeoutMs / 1000) + " s at " + cfg.edgeEndpoint +
                           " (is that address reachable from the device? an edge serving another host needs "
                           "--bind on a reachable address)",
                       done);
                return false;
            }
            counters_.bytesSent += static_cast<uint64_t>(bytes);
            return true;
        };
        FrameHeader rawHeader;
        rawHeader.type = FrameType::Activation;
        rawHeader.sequence = seq;
        rawHeader.exit = static_cast<uint16_t>(cfg.exit);
        rawHeader.partition = 0;
        rawHeader.dtype = DType::UInt8;
        rawHeader.dims.assign(in.dims.begin(), in.dims.end());

        s.exitTaken = part.exitTaken >= 0 ? part.exitTaken : cfg.exit;
        if (part.exitTaken < 0 && cfg.partition < n) {
            if (cfg.edgeEndpoint.empty()) return finish(EventKind::StreamError, "no edge endpoint configured", done);
            s.sentToEdge = true;
            FrameHeader fh = rawHeader;
            const void* payload = pixels;
            size_t payloadBytes = static_cast<size_t>(set->imageBytes());
            s.codec = codecName(cfg.codec);
            if (cfg.partition == 0 && cfg.codec.lossless != Lossless::None) {
                // The raw input takes the codec's lossless stage only.
                const auto e0 = Clock::now();
                if (auto st = encodeBytes(cfg.codec.lossless, pixels, payloadBytes, encoded); !st)
                    return finish(EventKind::StreamError, "cannot encode the input: " + st.error(), done);
                stretchComputation(e0, options_.slowdown);
                s.encodeMs = msBetween(e0, Clock::now());
                fh.codec = {Quant::None, cfg.codec.lossless};
                payload = encoded.data();
                payloadBytes = encoded.size();
            }
            if (cfg.partition > 0) {
                fh.partition = static_cast<uint16_t>(cfg.partition);
                fh.dtype = DType::Float32;
                fh.dims.clear();
                for (int64_t d = 1; d < h.dim(); ++d) fh.dims.push_back(static_cast<uint32_t>(h.size(d)));
                const torch::Tensor cut = h.contiguous();
                payload = cut.data_ptr();
                payloadBytes = static_cast<size_t>(cut.numel()) * 4;
                if (!cfg.codec.identity()) {
                    // The device's encode, timed apart from its layers and from the transfer.
                    const auto e0 = Clock::now();
                    if (auto st = encodeTensor(cfg.codec, cut.data_ptr<float>(), fh.dims, encoded); !st)
                        return finish(EventKind::StreamError, "cannot encode the cut tensor: " + st.error(), done);
                    stretchComputation(e0, options_.slowdown);
                    s.encodeMs = msBetween(e0, Clock::now());
                    fh.codec = cfg.codec;
                    payload = encoded.data();
                    payloadBytes = encoded.size();
                }
            }
            FrameHeader result;
            if (!exchange(fh, payload, payloadBytes, s.bytesSent, result)) {
                if (streamStop_) break;
                return;
            }
            const auto t2 = Clock::now();
            s.edgeMs = static_cast<double>(result.edgeComputeNs) / 1e6;
            s.decodeMs = static_cast<double>(result.edgeDecodeNs) / 1e6;
            s.queueMs = static_cast<double>(result.edgeQueueNs) / 1e6;
            s.transferMs = std::max(0.0, msBetween(t1, t2) - s.encodeMs - s.decodeMs - s.edgeMs - s.queueMs);
            s.prediction = shed ? -1 : result.prediction;
            s.busy = shed;
            if (shed) ++counters_.busyHeard;
            s.throughputBps = s.transferMs > 0 ? static_cast<double>(s.bytesSent) * 8.0 / (s.transferMs / 1000.0) : 0.0;
            counters_.transferBitsSum += static_cast<uint64_t>(s.bytesSent) * 8;
            counters_.transferMsSum = counters_.transferMsSum.load() + s.transferMs;
            if (cfg.early.active() && !edgeLogits.empty())
                s.confidence = ruleValue(cfg.early.rule, scoresFromLogits(edgeLogits));
        } else {
            s.prediction = static_cast<int>(part.logits.argmax(1).item<int64_t>());
            if (cfg.early.active()) s.confidence = ruleValue(cfg.early.rule, part.scores);
        }
        const auto t3 = Clock::now();
        s.totalMs = msBetween(t0, t3);
        if (energy_)
            if (auto e = energy_->microjoules()) {
                s.sensorEnergyMj = (*e - energyAtStart) / 1000.0;
                s.sensorName = energy_->name();
            }
        if (!s.sentToEdge && cfg.probe && !cfg.edgeEndpoint.empty()) {
            // The probe: the raw input to the edge after the prediction is made, so that a
            // configuration that sends nothing still observes the uplink.
            FrameHeader result;
            if (!exchange(rawHeader, pixels, static_cast<size_t>(set->imageBytes()), s.probeBytes, result)) {
                if (streamStop_) break;
                return;
            }
            s.probeMs = std::max(0.0, msBetween(t3, Clock::now()) - static_cast<double>(result.edgeComputeNs) / 1e6);
            s.throughputBps = s.probeMs > 0 ? static_cast<double>(s.probeBytes) * 8.0 / (s.probeMs / 1000.0) : 0.0;
        }
        s.deviceTimeMs = msBetween(start, t0);
        emit(sampleToJson(s));
        ++counters_.samples;
        ++done;
        if (shed) TokenBucketShaper::waitUntil(Clock::now() + std::chrono::milliseconds(kBusyBackoffMs), &streamStop_);
    }
    finish(EventKind::StreamFinished, streamStop_ ? "stopped" : "done", done);
}

}  // namespace edgent::workers
