#pragma once
// The edges of a fleet (core/control/FleetRun.h): each spawned on loopback (with --queue,
// --queue-per-device and --servers) or reached at a running edge's control endpoint, the
// model loaded on it once, its queue and service polled while the fleet runs, and its death
// noticed. Used by the fleet thread only (start() on the caller's). Torch-free.

#include "core/control/Controller.h"
#include "core/control/LocalWorkers.h"
#include "core/store/RunStore.h"

#include <QJsonObject>

#include <memory>
#include <optional>
#include <string>

namespace edgent::core::control {

struct FleetOptions;

class FleetEdge {
public:
    // Edge `index` of the fleet: at `endpoint`, or spawned when it is empty. Every wait is bounded
    // by the options' timeout (30 s for the model's load).
    static Result<std::unique_ptr<FleetEdge>> start(int index, const std::string& endpoint, const FleetOptions& options);
    ~FleetEdge();
    FleetEdge(const FleetEdge&) = delete;
    FleetEdge& operator=(const FleetEdge&) = delete;

    int index() const { return index_; }
    const std::string& control() const { return control_; }  // what its devices are pointed at
    // Why it died ("edge 1 (pid 42) was killed by signal 9"); empty while it lives. Checked by poll().
    const std::string& failure() const { return failure_; }
    // Notices its death (true once, when it is first seen), else asks for its counters and
    // returns them as a row at tMs (nothing when the bounded call fails).
    bool noticeDeath();
    std::optional<store::FleetEdgeRow> poll(double tMs);
    const QJsonObject& stats() const { return stats_; }  // its counters, as last read
    // Its counters once more, then a spawned edge is shut down (bounded).
    void finish();
    long pid() const;

private:
    FleetEdge() = default;
    int index_ = 0;
    SpawnedWorker process_;
    std::unique_ptr<Controller> controller_;
    std::string control_;
    std::string failure_;
    QJsonObject stats_;
};

}  // namespace edgent::core::control
