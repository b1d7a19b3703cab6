// The edge role: activation frames in, results out.
#include "workers/Worker.h"

#include "workers/WorkerShared.h"

#include "core/net/Frame.h"
#include "core/util/Slowdown.h"

#include <zmq_addon.hpp>

namespace edgent::workers {

using namespace edgent::core;
using namespace edgent::core::net;

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
        return bad("frame for exit " + std::to_string(h.exit) + " partition " + std::to_string(h.partition) + " is out of range");
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
    stretchComputation(t0, options_.slowdown);
    const uint64_t edgeNs =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());

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

}  // namespace edgent::workers
