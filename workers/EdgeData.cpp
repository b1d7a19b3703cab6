// The edge role: activation frames in, results out.
#include "workers/Worker.h"

#include "workers/WorkerShared.h"

#include "core/net/Frame.h"
#include "core/util/Slowdown.h"

#include <zmq_addon.hpp>

namespace edgent::workers {

using namespace edgent::core;
using namespace edgent::core::net;

namespace {

std::string firstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

zmq::message_t messageOf(const std::string& bytes) { return zmq::message_t(bytes.data(), bytes.size()); }

}  // namespace

Result<std::string> Worker::runActivation(const FrameView& frame, uint64_t queuedNs) {
    const FrameHeader& h = frame.header;
    if (h.type != FrameType::Activation) return makeError("edge received a non-activation frame");
    std::shared_ptr<MultiExitNet> net;
    {
        std::lock_guard lock(netMutex_);
        net = net_;
    }
    if (!net) return makeError("activation frame before a model was loaded");
    if (h.exit >= net->numExits() || h.partition >= net->pathLength(h.exit))
        return makeError("frame for exit " + std::to_string(h.exit) + " partition " + std::to_string(h.partition) +
                         " is out of range");
    // The shape the frame must carry: the raw input, or the output of layer p-1.
    const Shape expected = h.partition == 0 ? net->spec().input : net->pathInfo(h.exit)[h.partition - 1u].output;
    const DType expectedType = h.partition == 0 ? DType::UInt8 : DType::Float32;
    std::vector<uint32_t> expectedDims(expected.dims.begin(), expected.dims.end());
    if (h.dims != expectedDims || h.dtype != expectedType)
        return makeError("frame shape or dtype does not match exit " + std::to_string(h.exit) + " partition " +
                         std::to_string(h.partition));

    // The exception boundary of LibTorch on the edge's main loop: an input the model cannot
    // take is one frame's error, never the process's end.
    // An encoded cut tensor is decoded first, timed apart from the layers; a payload its codec
    // refuses is this frame's error.
    uint64_t decodeNs = 0;
    const uint8_t* payload = frame.payload;
    thread_local std::vector<float> decoded;
    thread_local std::string decodedBytes;
    if (!h.codec.identity()) {
        const auto d0 = Clock::now();
        const Status s = h.dtype == DType::UInt8
                             ? decodeBytes(h.codec.lossless, frame.payload, frame.payloadBytes, elementCount(h.dims), decodedBytes)
                             : decodeTensor(h.codec, frame.payload, frame.payloadBytes, h.dims, decoded);
        if (!s) return makeError("frame " + std::to_string(h.sequence) + ": " + s.error());
        stretchComputation(d0, options_.slowdown);
        decodeNs = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - d0).count());
        payload = h.dtype == DType::UInt8 ? reinterpret_cast<const uint8_t*>(decodedBytes.data())
                                          : reinterpret_cast<const uint8_t*>(decoded.data());
    }
    try {
        torch::InferenceMode guard;
        const auto t0 = Clock::now();
        std::vector<int64_t> sizes{1};
        sizes.insert(sizes.end(), expected.dims.begin(), expected.dims.end());
        torch::Tensor x = torch::from_blob(const_cast<uint8_t*>(payload), sizes,
                                           expectedType == DType::UInt8 ? torch::kUInt8 : torch::kFloat32);
        if (h.partition == 0) x = net->preprocess(x);
        auto logits = net->runSlice(h.exit, h.partition, net->pathLength(h.exit), x);
        if (!logits) return makeError(logits.error());
        const torch::Tensor out = logits->contiguous().to(torch::kFloat32);
        if (out.dim() != 2 || out.size(0) != 1) return makeError("the model's output is not one row of class scores");
        const int32_t prediction = static_cast<int32_t>(out.argmax(1).item<int64_t>());
        stretchComputation(t0, options_.slowdown);
        FrameHeader r;
        r.type = FrameType::Result;
        r.dtype = DType::Float32;
        r.sequence = h.sequence;
        r.exit = h.exit;
        r.partition = h.partition;
        r.prediction = prediction;
        r.edgeComputeNs = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
        r.edgeDecodeNs = decodeNs;
        r.edgeQueueNs = queuedNs;
        r.dims = {static_cast<uint32_t>(out.size(1))};
        std::string bytes;
        if (auto s = encodeFrame(r, out.data_ptr(), static_cast<size_t>(out.numel()) * 4, bytes); !s) return makeError(s.error());
        return bytes;
    } catch (const std::exception& e) {
        return makeError("inference error: " + firstLine(e.what()));
    }
}

namespace {

// The server threads hand their answers to the main thread here: [device identity, frame,
// empty or the reason the frame failed].
constexpr const char* kEdgeReplyQueue = "inproc://edgent-edge-replies";

bool sendAll(zmq::socket_t& socket, std::vector<zmq::message_t>& parts) {
    for (size_t i = 0; i < parts.size(); ++i)
        if (!socket.send(parts[i], i + 1 < parts.size() ? zmq::send_flags::sndmore | zmq::send_flags::dontwait
                                                       : zmq::send_flags::dontwait))
            return false;
    return true;
}

}  // namespace

void Worker::startServers() {
    edgeQueue_ = std::make_unique<FairQueue<EdgeJob>>(static_cast<size_t>(options_.queueCapacity),
                                                      static_cast<size_t>(options_.queuePerDevice));
    edgeReplies_ = zmq::socket_t(context_, zmq::socket_type::pull);
    edgeReplies_.set(zmq::sockopt::rcvhwm, 0);
    edgeReplies_.bind(kEdgeReplyQueue);
    for (int i = 0; i < options_.servers; ++i) servers_.emplace_back(&Worker::serveLoop, this);
}

void Worker::stopServers() {
    {
        std::lock_guard lock(edgeMutex_);
        serversStop_ = true;
    }
    edgeWake_.notify_all();
    for (auto& t : servers_) t.join();
    servers_.clear();
}

void Worker::serveLoop() {
    zmq::socket_t out(context_, zmq::socket_type::push);
    out.set(zmq::sockopt::linger, 1000);
    out.set(zmq::sockopt::sndhwm, 0);
    out.connect(kEdgeReplyQueue);
    while (true) {
        std::optional<std::pair<std::string, EdgeJob>> job;
        {
            std::unique_lock lock(edgeMutex_);
            edgeWake_.wait(lock, [&] { return serversStop_ || !edgeQueue_->empty(); });
            if (serversStop_) return;
            job = edgeQueue_->pop();
        }
        const auto start = Clock::now();
        const uint64_t queuedNs =
            static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(start - job->second.arrived).count());
        counters_.queueNsSum += queuedNs;
        const zmq::message_t& m = job->second.frame;
        std::string reply, failed;
        // The server thread's exception boundary: LibTorch's errors end one frame, never the edge.
        auto frame = decodeFrame(m.data<uint8_t>(), m.size(), options_.maxFrameBytes);  // checked on arrival
        const uint64_t sequence = frame ? frame->header.sequence : 0;
        try {
            auto result = frame ? runActivation(*frame, queuedNs) : Result<std::string>(makeError(frame.error()));
            if (result)
                reply = std::move(*result);
            else
                failed = result.error();
        } catch (const std::exception& e) {
            failed = std::string("edge server error: ") + firstLine(e.what());
        }
        if (!failed.empty()) reply = encodeErrorFrame(sequence, failed);
        counters_.serviceNs += static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
        std::vector<zmq::message_t> parts;
        parts.emplace_back(job->first.data(), job->first.size());
        parts.push_back(messageOf(reply));
        parts.push_back(messageOf(failed));
        try {
            (void)sendAll(out, parts);
        } catch (const zmq::error_t&) {
            return;  // the context is closing
        }
    }
}

void Worker::onData() {
    std::vector<zmq::message_t> parts;
    if (!zmq::recv_multipart(data_, std::back_inserter(parts), zmq::recv_flags::dontwait)) return;
    const auto arrived = Clock::now();
    ++counters_.framesIn;
    auto bad = [&](const std::string& why) {
        ++counters_.framesBad;
        std::lock_guard lock(dataErrorMutex_);
        lastDataError_ = why;
    };
    if (parts.size() != 2) return bad("data message of " + std::to_string(parts.size()) + " parts");
    auto frame = decodeFrame(parts[1].data<uint8_t>(), parts[1].size(), options_.maxFrameBytes);
    if (!frame) return bad(frame.error());  // nothing in it can be trusted, not even its sequence: no answer
    const uint64_t sequence = frame->header.sequence;
    std::string refusal;  // an answer at once: an error frame, or busy
    bool busy = false;
    if (frame->header.type != FrameType::Activation) {
        refusal = "edge received a non-activation frame";
        bad(refusal);
    } else {
        FairQueue<EdgeJob>::Admit admit;
        size_t waiting = 0;
        {
            std::lock_guard lock(edgeMutex_);
            admit = edgeQueue_->push(parts[0].to_string(), EdgeJob{std::move(parts[1]), arrived});
            waiting = edgeQueue_->size();
        }
        if (admit == FairQueue<EdgeJob>::Admit::Queued) {
            uint64_t peak = counters_.queuePeak.load();
            while (waiting > peak && !counters_.queuePeak.compare_exchange_weak(peak, waiting)) {
            }
            edgeWake_.notify_one();
            return;
        }
        busy = true;
        ++counters_.shed;
        refusal = admit == FairQueue<EdgeJob>::Admit::Full
                      ? "the edge is busy: its queue is full (" + std::to_string(options_.queueCapacity) + " frames waiting)"
                      : "the edge is busy: this device already has " + std::to_string(options_.queuePerDevice) +
                            " frames waiting";
    }
    std::vector<zmq::message_t> reply;
    reply.push_back(std::move(parts[0]));
    reply.push_back(messageOf(busy ? encodeBusyFrame(sequence, refusal) : encodeErrorFrame(sequence, refusal)));
    reply.emplace_back();
    sendToDevice(reply, sequence, false);
}

void Worker::onEdgeReply() {
    std::vector<zmq::message_t> parts;
    while (zmq::recv_multipart(edgeReplies_, std::back_inserter(parts), zmq::recv_flags::dontwait)) {
        if (parts.size() == 3) {
            const bool ok = parts[2].size() == 0;
            if (!ok) {
                ++counters_.framesBad;
                std::lock_guard lock(dataErrorMutex_);
                lastDataError_ = parts[2].to_string();
            }
            auto header = decodeFrame(parts[1].data<uint8_t>(), parts[1].size(), options_.maxFrameBytes);
            sendToDevice(parts, header ? header->header.sequence : 0, ok);
        }
        parts.clear();
    }
}

void Worker::sendToDevice(std::vector<zmq::message_t>& parts, uint64_t sequence, bool result) {
    // The data socket is ROUTER_MANDATORY: a device that is gone is an error, not a silent drop.
    bool sent = false;
    try {
        sent = data_.send(parts[0], zmq::send_flags::sndmore | zmq::send_flags::dontwait) &&
               data_.send(parts[1], zmq::send_flags::dontwait);
    } catch (const zmq::error_t& e) {
        if (e.num() != EHOSTUNREACH) throw;
    }
    if (!sent) {
        ++counters_.framesUnsent;
        std::lock_guard lock(dataErrorMutex_);
        lastDataError_ = "could not answer frame " + std::to_string(sequence) + ": the device that sent it is gone or not reading";
        return;
    }
    if (result) ++counters_.framesOut;
}

}  // namespace edgent::workers
