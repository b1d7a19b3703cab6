#include "core/control/FleetEdges.h"

#include "core/control/FleetRun.h"

namespace edgent::core::control {

using net::Command;
using net::Role;

Result<std::unique_ptr<FleetEdge>> FleetEdge::start(int index, const std::string& endpoint, const FleetOptions& o) {
    std::unique_ptr<FleetEdge> e(new FleetEdge());
    e->index_ = index;
    const std::string name = "edge " + std::to_string(index);
    Controller::Options co;
    co.curveKeysDir = o.curveKeysDir;
    e->controller_ = std::make_unique<Controller>(co);
    e->control_ = endpoint;
    if (e->control_.empty()) {
        const std::vector<std::string> args{"--queue", std::to_string(o.edgeQueue), "--queue-per-device",
                                            std::to_string(o.edgeQueuePerDevice), "--servers", std::to_string(o.edgeServers)};
        if (auto s = spawnWorker(e->process_, Role::Edge, o.edgeThreads, o.curveKeysDir, o.timeoutMs, 1.0, args); !s)
            return makeError(name + ": " + s.error());
        e->control_ = e->process_.controlEndpoint;
    }
    if (auto s = e->controller_->connect(Role::Edge, e->control_, o.timeoutMs); !s) return makeError(name + ": " + s.error());
    if (auto r = e->controller_->call(Role::Edge, Command::LoadModel, {}, 30000, {o.model.specText, o.model.weights}); !r)
        return makeError(name + ": " + r.error());
    return e;
}

FleetEdge::~FleetEdge() { finish(); }

bool FleetEdge::noticeDeath() {
    if (!failure_.empty() || !controller_) return false;
    const std::string name = "edge " + std::to_string(index_);
    if (!process_.controlEndpoint.empty() && !process_.process.running())
        failure_ = name + " (pid " + std::to_string(process_.process.pid()) + ") " + process_.process.exitDescription();
    else if (!controller_->info(Role::Edge).alive)
        failure_ = name + ": " + controller_->info(Role::Edge).deathReason;
    return !failure_.empty();
}

std::optional<store::FleetEdgeRow> FleetEdge::poll(double tMs) {
    if (!failure_.empty() || !controller_) return std::nullopt;
    auto stats = controller_->call(Role::Edge, Command::Stats, {}, 2000);
    if (!stats) return std::nullopt;
    stats_ = stats->value("stats").toObject();
    store::FleetEdgeRow row;
    row.edge = index_;
    row.tMs = tMs;
    row.queueLength = stats_.value("queue_length").toInteger();
    row.queuePeak = stats_.value("queue_peak").toInteger();
    row.framesOut = stats_.value("frames_out").toInteger();
    row.shed = stats_.value("shed").toInteger();
    row.serviceMsSum = stats_.value("service_ms_sum").toDouble();
    return row;
}

void FleetEdge::finish() {
    if (!controller_) return;
    if (failure_.empty() && controller_->info(Role::Edge).alive) {
        if (auto s = controller_->call(Role::Edge, Command::Stats, {}, 2000)) stats_ = s->value("stats").toObject();
        if (!process_.controlEndpoint.empty()) (void)controller_->call(Role::Edge, Command::Shutdown, {}, 2000);
    }
    if (!process_.controlEndpoint.empty()) process_.process.stop(3000);
    controller_.reset();
}

long FleetEdge::pid() const { return process_.controlEndpoint.empty() ? 0 : static_cast<long>(process_.process.pid()); }

}  // namespace edgent::core::control
