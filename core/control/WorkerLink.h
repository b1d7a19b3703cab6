#pragma once
// The controller's link to one device worker and one edge worker: local processes spawned on
// loopback, or remote workers reached at their control endpoints; the model uploaded to both.
// `edgent run`, `edgent sweep`, `edgent profile`, the benches and the window all reach their
// workers through this.
//
// Threads: start() and loadModel() block (each wait bounded) and run on the caller's thread;
// abort(), controller() and the queries may be called from any thread. Torch-free.

#include "core/control/Controller.h"
#include "core/control/LocalWorkers.h"
#include "core/model/ModelFile.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

namespace edgent::core::control {

struct WorkerLinkOptions {
    bool local = true;           // spawn both workers on loopback
    std::string deviceEndpoint;  // control endpoints of running workers, when not local
    std::string edgeEndpoint;
    std::string curveKeysDir;  // empty: plain TCP
    int deviceThreads = 1;     // LibTorch threads of local workers
    int edgeThreads = 1;
    double deviceSlowdown = 1.0;  // local device: emulate a device this many times slower
    std::string slowdownWait = "spin";  // and how it waits: spin or sleep (edgent-worker --slowdown-wait)
    // With `local`: spawn the device only and share this running edge (its control endpoint);
    // a fleet's devices do (core/control/FleetRun.h). The edge is left running at shutdown.
    std::string sharedEdgeEndpoint;
    int timeoutMs = 15000;        // any one step: spawning, connecting
};

class WorkerLink {
public:
    explicit WorkerLink(WorkerLinkOptions options);
    ~WorkerLink();  // shutdown()
    WorkerLink(const WorkerLink&) = delete;
    WorkerLink& operator=(const WorkerLink&) = delete;

    // Spawns (when local) and connects to both workers. After abort() it fails at its next step.
    Status start();
    // Sends the model to both workers (the edge first; not to a shared edge, which a fleet
    // loads once); a Pi needs no copy of its own.
    Status loadModel(const ModelBytes& model, int timeoutMs = 30000);

    Controller& controller() { return *controller_; }
    const WorkerLinkOptions& options() const { return options_; }
    bool local() const { return options_.local; }
    // "local", or the two control endpoints: recorded with every run.
    std::string description() const;
    // The local worker's process id (0 when not local or not started), for tests that kill it.
    long localPid(net::Role role) const;
    // A local worker whose process ended is declared dead at once, not only when its
    // heartbeats stop. Cheap: call it as often as you like.
    void checkLocalProcesses();

    // Fails every wait now (the controller's and the next step of start()); for a window that
    // is closing.
    void abort(const std::string& reason);
    // Asks live local workers to shut down and reaps them (bounded); remote workers are left
    // running. Idempotent.
    void shutdown();

private:
    WorkerLinkOptions options_;
    std::unique_ptr<Controller> controller_;
    mutable std::mutex mutex_;  // the processes, for localPid() and checkLocalProcesses()
    SpawnedWorker device_, edge_;
    std::atomic<bool> aborted_{false};
    bool shutDown_ = false;
};

}  // namespace edgent::core::control
