// On-device adaptation on a worker thread (core/train/Adapt.h), reported to the main loop as
// events; the device's net is adapted in place, so the next stream runs the adapted slice.
#include "workers/Worker.h"

#include "workers/WorkerShared.h"

#include "core/model/ModelIO.h"

namespace edgent::workers {

using namespace edgent::core;
using namespace edgent::core::net;

void Worker::startAdapt(const Identity& owner, const AdaptOptions& o) {
    stopAdapt();
    adaptOwner_ = owner;
    adaptCancel_ = false;
    adaptRunning_ = true;
    lastAdapt_ = QJsonObject();
    std::shared_ptr<MultiExitNet> net = net_;
    adapt_ = std::make_unique<std::thread>([this, o, net] {
        zmq::socket_t out = connectToMainLoop(context_);
        auto emit = [&](const QJsonObject& e) { sendJson(out, e); };
        auto last = Clock::now() - std::chrono::seconds(1);
        Result<AdaptReport> result = makeError("adaptation did not run");
        std::string before;
        try {
            torch::set_num_threads(std::max(1, options_.threads));
            before = encodeWeights(*net);
            result = adaptNet(
                *net, o,
                [&](const AdaptProgress& p) {
                    const auto now = Clock::now();
                    if (now - last < std::chrono::milliseconds(200) && p.step != p.steps) return;
                    last = now;
                    QJsonObject e = makeEvent(EventKind::AdaptProgress, "step " + std::to_string(p.step));
                    e["done"] = p.step;
                    e["total"] = p.steps;
                    e["loss"] = p.loss;
                    emit(e);
                },
                &adaptCancel_);
        } catch (const std::exception& e) {
            std::string what = e.what();
            result = makeError("adaptation failed: " + what.substr(0, what.find('\n')));
        }
        // A failed or cancelled adaptation leaves the device's model as it was.
        if ((!result || result->cancelled) && !before.empty()) {
            Status restored = Status::success();
            try {
                restored = decodeWeightsInto(*net, before, "the weights before adaptation");
            } catch (const std::exception& e) {
                restored = makeError(e.what());
            }
            if (!restored) {
                const std::string why = restored.error().substr(0, restored.error().find('\n'));
                result = makeError((result ? std::string("adaptation cancelled") : result.error()) +
                                   "; the device's model could not be restored (" + why + "): load it again");
            }
        }
        if (!result) return emit(makeEvent(EventKind::AdaptError, result.error()));
        QJsonObject done = makeEvent(EventKind::AdaptDone, result->cancelled ? "cancelled" : "adapted");
        done["report"] = adaptReportToJson(*result);
        emit(done);
    });
}

void Worker::stopAdapt() {
    adaptCancel_ = true;
    if (adapt_) {
        adapt_->join();
        adapt_.reset();
    }
    adaptRunning_ = false;
}

}  // namespace edgent::workers
