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

Result<std::string> Worker::runActivation(const FrameView& frame) {
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
        r.dims = {static_cast<uint32_t>(out.size(1))};
        std::string bytes;
        if (auto s = encodeFrame(r, out.data_ptr(), static_cast<size_t>(out.numel()) * 4, bytes); !s) return makeError(s.error());
        return bytes;
    } catch (const std::exception& e) {
        return makeError("inference error: " + firstLine(e.what()));
    }
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
    if (!frame) return bad(frame.error());  // nothing in it can be trusted, not even its sequence: no answer
    auto result = runActivation(*frame);
    zmq::message_t reply;
    if (result) {
        reply = messageOf(*result);
    } else {
        // The device hears at once why its frame failed, instead of waiting for a timeout.
        bad(result.error());
        reply = messageOf(encodeErrorFrame(frame->header.sequence, result.error()));
    }
    // The data socket is ROUTER_MANDATORY: a device that is gone is an error, not a silent drop.
    bool sent = false;
    try {
        sent = data_.send(parts[0], zmq::send_flags::sndmore | zmq::send_flags::dontwait) &&
               data_.send(reply, zmq::send_flags::dontwait);
    } catch (const zmq::error_t& e) {
        if (e.num() != EHOSTUNREACH) throw;
    }
    if (!sent) {
        ++counters_.framesUnsent;
        lastDataError_ = "could not answer frame " + std::to_string(frame->header.sequence) +
                         ": the device that sent it is gone or not reading";
        return;
    }
    if (result) ++counters_.framesOut;
}

}  // namespace edgent::workers
