#pragma once
// One point of a fleet sweep (`edgent sweep --devices`): N devices at one bandwidth and
// deadline, planned jointly or independently, sharing e edges with k servers each; run to its end
// on real workers (core/control/FleetRun.h), stored as a fleet, and summarised as one CSV row.
// The one engine behind the sweep's fleet rows and bench/fleet.sh. Torch-free.

#include "core/control/FleetRun.h"

#include <atomic>
#include <string>

namespace edgent::core::control {

// Starts a fleet and waits for its end; *cancel stops it as interrupted.
Result<FleetOutcome> runFleetToEnd(FleetOptions options, const std::atomic<bool>* cancel = nullptr);

// A fleet's worker settings from a link's (threads, curve keys, the emulated slowdown and how
// it waits); the devices and the edge are the fleet's own.
void useWorkerOptions(FleetOptions& fleet, const WorkerLinkOptions& link);

struct FleetPointSpec {
    int devices = 1;
    double bandwidthBps = 0.0;  // every device's uplink
    double deadlineMs = 0.0;
    std::string planning = "joint";  // joint, paced or independent (FleetOptions::fleetPlanning)
    int servers = 1;  // each edge's serving threads
    int edges = 1;    // spawned edges, device i on edge i mod edges
};

struct FleetPoint {
    FleetPointSpec spec;
    int64_t fleetId = 0;
    std::string status;
    FleetSummary summary;
    int offloading = 0;  // devices whose first plan sends to the edge
    // The edge's service model as the fleet met it: its compute per offloaded frame measured
    // under the fleet's concurrency, against the profile's for the same plans.
    double edgeMsMeasured = 0.0, edgeMsProfiled = 0.0;
    int64_t replans = 0;
    double wallSeconds = 0.0;
};

// `base` carries the record, stream, planning context, model and workers; the spec sets the
// rest. An error in one line when the fleet could not start, failed, or was interrupted.
Result<FleetPoint> runFleetPoint(const FleetOptions& base, const FleetPointSpec& spec,
                                 const std::atomic<bool>* cancel = nullptr);

// The table's header line and one row (both end in a newline).
std::string fleetPointCsvHeader();
std::string fleetPointCsvRow(const FleetPoint& point);

}  // namespace edgent::core::control
