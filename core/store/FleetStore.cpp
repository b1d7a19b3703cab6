// The run store's fleets: one run per device, tied together (docs/schema.md, schemas 9 to 11).
#include "core/store/RunStore.h"
#include "core/store/Sql.h"

#include <unistd.h>

namespace edgent::core::store {

Result<int64_t> RunStore::beginFleet(const std::string& experiment, const std::string& planning, const std::string& paramsJson) {
    Stmt s(db_,
           "INSERT INTO fleets(experiment, created_at, planning, status, params_json, host, pid) "
           "VALUES(?1, ?2, ?3, 'running', ?4, ?5, ?6)");
    s.bind(1, experiment).bind(2, nowIso()).bind(3, planning).bind(4, paramsJson).bind(5, hostName());
    s.bind(6, static_cast<int64_t>(::getpid()));
    if (s.step() != SQLITE_DONE) return makeError("database " + path_ + ": " + s.error());
    return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

Status RunStore::saveFleetDevice(int64_t fleetId, const FleetDeviceRow& r) {
    Stmt s(db_,
           "INSERT OR REPLACE INTO fleet_devices(fleet_id, device, run_id, endpoint, bandwidth_bps, joined_ms, left_ms, "
           "end_reason, edge) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    s.bind(1, fleetId).bind(2, r.device);
    if (r.runId > 0)
        s.bind(3, r.runId);
    else
        s.bindNull(3);
    s.bindTextOrNull(4, r.endpoint).bind(5, r.bandwidthBps).bind(6, r.joinedMs).bind(7, r.leftMs).bindTextOrNull(8, r.endReason);
    s.bind(9, r.edge);
    if (s.step() != SQLITE_DONE) return makeError("database " + path_ + ": " + s.error());
    return Status::success();
}

Status RunStore::addFleetEdge(int64_t fleetId, const FleetEdgeRow& r) {
    Stmt s(db_,
           "INSERT OR REPLACE INTO fleet_edge(fleet_id, t_ms, queue_length, queue_peak, frames_out, shed, service_ms_sum, "
           "edge) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    s.bind(1, fleetId).bind(2, r.tMs).bind(3, r.queueLength).bind(4, r.queuePeak).bind(5, r.framesOut).bind(6, r.shed);
    s.bind(7, r.serviceMsSum).bind(8, r.edge);
    if (s.step() != SQLITE_DONE) return makeError("database " + path_ + ": " + s.error());
    return Status::success();
}

Status RunStore::finishFleet(int64_t fleetId, const std::string& status, const std::string& error) {
    Stmt s(db_, "UPDATE fleets SET status=?2, error=?3, finished_at=?4 WHERE id=?1");
    s.bind(1, fleetId).bind(2, status).bindTextOrNull(3, error).bind(4, nowIso());
    if (s.step() != SQLITE_DONE) return makeError("database " + path_ + ": " + s.error());
    if (sqlite3_changes(db_) != 1) return makeError("database " + path_ + " has no fleet " + std::to_string(fleetId));
    return Status::success();
}

Result<FleetInfo> RunStore::fleet(int64_t fleetId) {
    FleetInfo f;
    {
        Stmt s(db_,
               "SELECT id, experiment, created_at, finished_at, planning, status, error, params_json, host, pid FROM fleets "
               "WHERE id=?1");
        s.bind(1, fleetId);
        const int rc = s.step();
        if (rc == SQLITE_DONE) return makeError("database " + path_ + " has no fleet " + std::to_string(fleetId));
        if (rc != SQLITE_ROW) return makeError("database " + path_ + ": " + s.error());
        f.id = s.i64(0);
        f.experiment = s.text(1);
        f.createdAt = s.text(2);
        f.finishedAt = s.text(3);
        f.planning = s.text(4);
        f.status = s.text(5);
        f.error = s.text(6);
        f.paramsJson = s.text(7);
        f.host = s.text(8);
        f.pid = s.isNull(9) ? 0 : s.i64(9);
        // A read-only open cannot record it, but a fleet whose controller on this host is gone
        // was interrupted all the same.
        if (f.status == "running" && f.host == hostName() && !processAlive(f.pid)) f.status = "interrupted";
    }
    {
        Stmt s(db_,
               "SELECT device, run_id, endpoint, bandwidth_bps, joined_ms, left_ms, end_reason, edge FROM fleet_devices WHERE "
               "fleet_id=?1 ORDER BY device");
        s.bind(1, fleetId);
        int rc;
        while ((rc = s.step()) == SQLITE_ROW) {
            FleetDeviceRow r;
            r.device = static_cast<int>(s.i64(0));
            r.runId = s.isNull(1) ? 0 : s.i64(1);
            r.endpoint = s.text(2);
            r.bandwidthBps = s.f64(3);
            r.joinedMs = s.f64(4);
            r.leftMs = s.f64(5);
            r.endReason = s.text(6);
            r.edge = static_cast<int>(s.i64(7));
            f.devices.push_back(r);
        }
        if (rc != SQLITE_DONE) return makeError("database " + path_ + ": " + s.error());
    }
    {
        Stmt s(db_,
               "SELECT edge, t_ms, queue_length, queue_peak, frames_out, shed, service_ms_sum FROM fleet_edge WHERE "
               "fleet_id=?1 ORDER BY t_ms, edge");
        s.bind(1, fleetId);
        int rc;
        while ((rc = s.step()) == SQLITE_ROW)
            f.edge.push_back({static_cast<int>(s.i64(0)), s.f64(1), s.i64(2), s.i64(3), s.i64(4), s.i64(5), s.f64(6)});
        if (rc != SQLITE_DONE) return makeError("database " + path_ + ": " + s.error());
    }
    return f;
}

}  // namespace edgent::core::store
