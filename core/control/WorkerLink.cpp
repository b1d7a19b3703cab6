#include "core/control/WorkerLink.h"

namespace edgent::core::control {

using net::Command;
using net::Role;

WorkerLink::WorkerLink(WorkerLinkOptions options) : options_(std::move(options)) {
    Controller::Options o;
    o.curveKeysDir = options_.curveKeysDir;
    controller_ = std::make_unique<Controller>(o);
}

WorkerLink::~WorkerLink() { shutdown(); }

Status WorkerLink::start() {
    auto stepAllowed = [&]() -> Status {
        if (aborted_) return makeError("starting the workers was cancelled");
        return Status::success();
    };
    std::string deviceEp = options_.deviceEndpoint, edgeEp = options_.edgeEndpoint;
    if (options_.local) {
        {
            std::lock_guard lock(mutex_);
            if (auto s = stepAllowed(); !s) return s;
            if (options_.sharedEdgeEndpoint.empty())
                if (auto s = spawnWorker(edge_, Role::Edge, options_.edgeThreads, options_.curveKeysDir, options_.timeoutMs); !s)
                    return s;
            if (auto s = stepAllowed(); !s) return s;
            if (auto s = spawnWorker(device_, Role::Device, options_.deviceThreads, options_.curveKeysDir, options_.timeoutMs,
                                     options_.deviceSlowdown, {"--slowdown-wait", options_.slowdownWait});
                !s)
                return s;
        }
        deviceEp = device_.controlEndpoint;
        edgeEp = options_.sharedEdgeEndpoint.empty() ? edge_.controlEndpoint : options_.sharedEdgeEndpoint;
    }
    if (auto s = stepAllowed(); !s) return s;
    if (auto s = controller_->connect(Role::Edge, edgeEp, options_.timeoutMs); !s) return s;
    if (auto s = stepAllowed(); !s) return s;
    return controller_->connect(Role::Device, deviceEp, options_.timeoutMs);
}

Status WorkerLink::loadModel(const ModelBytes& model, int timeoutMs) {
    for (Role r : {Role::Edge, Role::Device}) {
        if (r == Role::Edge && !options_.sharedEdgeEndpoint.empty()) continue;
        auto loaded = controller_->call(r, Command::LoadModel, {}, timeoutMs, {model.specText, model.weights});
        if (!loaded) return makeError(loaded.error());
    }
    return Status::success();
}

std::string WorkerLink::description() const {
    if (options_.local) return options_.sharedEdgeEndpoint.empty() ? "local" : "local device, shared edge";
    return options_.deviceEndpoint + " " + options_.edgeEndpoint;
}

long WorkerLink::localPid(Role role) const {
    std::lock_guard lock(mutex_);
    const SpawnedWorker& w = role == Role::Device ? device_ : edge_;
    return w.controlEndpoint.empty() ? 0 : static_cast<long>(w.process.pid());
}

void WorkerLink::checkLocalProcesses() {
    if (!options_.local) return;
    std::lock_guard lock(mutex_);
    for (SpawnedWorker* w : {&device_, &edge_}) {
        if (w->controlEndpoint.empty() || w->process.running()) continue;
        const std::string why = std::string(net::roleName(w->role)) + " worker (pid " + std::to_string(w->process.pid()) + ") " +
                                w->process.exitDescription();
        if (controller_->info(w->role).alive) controller_->markDead(w->role, why);
    }
}

void WorkerLink::abort(const std::string& reason) {
    aborted_ = true;
    controller_->abort(reason);
}

void WorkerLink::shutdown() {
    std::lock_guard lock(mutex_);
    if (shutDown_) return;
    shutDown_ = true;
    if (!options_.local) return;
    for (SpawnedWorker* w : {&device_, &edge_}) {
        if (w->controlEndpoint.empty()) continue;
        if (!aborted_ && controller_->info(w->role).alive) (void)controller_->call(w->role, Command::Shutdown, {}, 2000);
        w->process.stop(3000);
    }
}

}  // namespace edgent::core::control
