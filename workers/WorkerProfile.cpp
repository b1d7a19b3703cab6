// Profiling on a worker thread, reported to the main loop as events.
#include "workers/Worker.h"

#include "workers/WorkerShared.h"

#include "core/profile/Profiler.h"

#include <zmq_addon.hpp>

namespace edgent::workers {

using namespace edgent::core;
using namespace edgent::core::net;

void Worker::startProfile(const Identity& owner, const QJsonObject& request) {
    stopProfile();
    profileOwner_ = owner;
    profileCancel_ = false;
    profileRunning_ = true;
    profile::ProfileOptions o;
    o.repeats = std::clamp(request.value("repeats").toInt(o.repeats), 3, 1000);
    o.warmup = std::clamp(request.value("warmup").toInt(o.warmup), 0, 1000);
    o.synthetic = request.value("synthetic").toBool(true);
    o.adaptiveRounds = std::clamp(request.value("adaptive_rounds").toInt(o.adaptiveRounds), 0, 50);
    o.spread = std::clamp(request.value("spread").toInt(o.spread), 1, 100);
    o.spanSeconds = std::clamp(request.value("span_s").toDouble(o.spanSeconds), 0.0, 600.0);
    o.slowdown = options_.slowdown;
    std::shared_ptr<MultiExitNet> net = net_;
    profile_ = std::make_unique<std::thread>([this, o, net] {
        torch::set_num_threads(std::max(1, options_.threads));
        zmq::socket_t out = connectToMainLoop(context_);
        auto emit = [&](const QJsonObject& e) { sendJson(out, e); };
        auto last = Clock::now() - std::chrono::seconds(1);
        Result<profile::ProfileResult> result = makeError("profiling did not run");
        try {
            result = profile::profileNet(
                *net, o,
                [&](const profile::ProfileProgress& p) {
                    const auto now = Clock::now();
                    if (now - last < std::chrono::milliseconds(200) && p.done != p.total) return;
                    last = now;
                    QJsonObject e = makeEvent(EventKind::ProfileProgress, p.stage);
                    e["done"] = p.done;
                    e["total"] = p.total;
                    emit(e);
                },
                &profileCancel_);
        } catch (const std::exception& e) {
            std::string what = e.what();
            result = makeError("profiling failed: " + what.substr(0, what.find('\n')));
        }
        if (!result) return emit(makeEvent(EventKind::ProfileError, result.error()));
        QJsonObject done =
            makeEvent(EventKind::ProfileDone, "profiled " + std::to_string(result->layers.size()) + " layer configurations");
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

}  // namespace edgent::workers
