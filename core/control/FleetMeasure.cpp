#include "core/control/FleetMeasure.h"

#include "core/control/FleetRun.h"
#include "core/control/ProfileRun.h"
#include "core/store/Export.h"

#include <algorithm>
#include <cmath>

#include <QJsonDocument>
#include <QJsonObject>

namespace edgent::core::control {

FleetSummary summarizeFleet(const FleetOutcome& outcome, double deadlineMs) {
    FleetSummary f;
    std::vector<net::Sample> all;
    double spanMs = 0.0;
    int64_t answered = 0;
    for (const auto& run : outcome.runs) {
        f.devices.push_back(summarize(run.samples, deadlineMs));
        const RunSummary& d = f.devices.back();
        if (d.inferences > 0) {
            f.worstDeviceP95Ms = std::max(f.worstDeviceP95Ms, d.latencyMsP95);
            if (d.deadlineHitRate >= 0) f.worstDeviceHitRate = std::min(f.worstDeviceHitRate, d.deadlineHitRate);
        }
        for (const auto& x : run.samples) {
            spanMs = std::max(spanMs, x.deviceTimeMs + x.totalMs);
            answered += !x.busy;
        }
        all.insert(all.end(), run.samples.begin(), run.samples.end());
    }
    f.all = summarize(all, deadlineMs);
    f.throughputHz = spanMs > 0 ? static_cast<double>(answered) / (spanMs / 1000.0) : 0.0;
    // Each edge's utilisation over its polled interval, per server.
    for (size_t e = 0; e < outcome.edgeStats.size(); ++e) {
        const store::FleetEdgeRow* first = nullptr;
        const store::FleetEdgeRow* last = nullptr;
        for (const auto& row : outcome.edge)
            if (row.edge == static_cast<int>(e)) {
                if (!first) first = &row;
                last = &row;
            }
        const QJsonObject& stats = outcome.edgeStats[e];
        const double servers = std::max<qint64>(1, stats.value("servers").toInteger(1));
        f.edgeUtilisations.push_back(first && last->tMs > first->tMs
                                         ? (last->serviceMsSum - first->serviceMsSum) / (last->tMs - first->tMs) / servers
                                         : 0.0);
        f.edgeUtilisation += f.edgeUtilisations.back() / static_cast<double>(outcome.edgeStats.size());
        f.shed += stats.value("shed").toInteger();
        f.queuePeak = std::max<int64_t>(f.queuePeak, stats.value("queue_peak").toInteger());
    }
    return f;
}

Result<MeasuredFleet> measuredFleet(store::RunStore& db, int64_t fleetId) {
    auto fleet = db.fleet(fleetId);
    if (!fleet) return makeError(fleet.error());
    MeasuredFleet m;
    m.fleetId = fleetId;
    m.planning = fleet->planning;
    const QJsonObject params = QJsonDocument::fromJson(QByteArray::fromStdString(fleet->paramsJson)).object();
    m.options.deadlineMs = params.value("deadline_ms").toDouble();
    m.options.servers = params.value("edge_servers").toInt(1);
    m.options.capacity = params.value("edge_queue").toInt(16);
    m.options.edges = std::max(1, params.value("edges").toInt(1));
    m.options.inputs = params.value("count").toInteger(200);
    m.predictor = params.value("predictor").toString().toStdString();
    std::vector<double> bandwidths;
    FleetOutcome outcome;  // the measured figures, through the same summary as a live fleet's
    for (const auto& d : fleet->devices) {
        if (d.runId <= 0) continue;
        auto run = db.run(d.runId);
        auto rows = db.samples(d.runId);
        if (!run || !rows) return makeError(!run ? run.error() : rows.error());
        if (auto it = run->params.find("rate_hz"); it != run->params.end()) m.options.rateHz = std::stod(it->second);
        if (m.modelHash.empty()) m.modelHash = run->modelHash;
        plan::SimDevice dev;
        std::vector<net::Sample> answered;
        LiveRunOutcome out;
        size_t offloaded = 0;
        for (const auto& r : *rows) offloaded += r.sample.sentToEdge && !r.sample.busy;
        const bool offloads = offloaded * 2 > rows->size();
        for (const auto& r : *rows) {
            const net::Sample& x = r.sample;
            out.samples.push_back(x);
            if (x.busy) continue;
            answered.push_back(x);
            // Links shaped outside the workbench: the bandwidth the fleet planned with.
            if (answered.back().bandwidthBps <= 0) answered.back().bandwidthBps = std::isnan(d.bandwidthBps) ? 0.0 : d.bandwidthBps;
            if (answered.back().bandwidthBps > 0) bandwidths.push_back(answered.back().bandwidthBps);
            if (offloads && x.sentToEdge) {
                dev.deviceMs.push_back(x.deviceMs + x.encodeMs);
                dev.transferMs.push_back(x.transferMs);
                dev.serviceMs.push_back(x.edgeMs + x.decodeMs);
            } else if (!offloads && !x.sentToEdge) {
                dev.deviceMs.push_back(x.totalMs);
            }
        }
        if (dev.deviceMs.empty()) continue;
        m.devices.push_back(std::move(dev));
        m.options.edgeOf.push_back(d.edge);
        m.answered.push_back(std::move(answered));
        outcome.runs.push_back(std::move(out));
    }
    if (!bandwidths.empty()) {
        std::sort(bandwidths.begin(), bandwidths.end());
        m.bandwidthBps = bandwidths[bandwidths.size() / 2];
    }
    if (m.devices.empty()) return makeError("fleet " + std::to_string(fleetId) + " has no samples to simulate from");
    for (const auto& e : fleet->edge) outcome.edge.push_back(e);
    outcome.edgeStats.assign(static_cast<size_t>(m.options.edges), QJsonObject{{"servers", m.options.servers}});
    const FleetSummary s = summarizeFleet(outcome, m.options.deadlineMs);
    m.p95Ms = s.all.latencyMsP95;
    m.hitRate = s.all.deadlineHitRate;
    m.utilisation = s.edgeUtilisation;
    m.throughputHz = s.throughputHz;
    return m;
}

plan::FleetService serviceModelOf(const MeasuredFleet& fleet, const plan::LatencyTable& table) {
    plan::FleetService service;
    for (const auto& samples : fleet.answered) {
        plan::ServiceModel own;
        for (const net::Sample& x : samples)
            if (!x.sentToEdge || x.codec == net::codecName(net::Codec{}))  // the table's times are fp32's
                for (plan::ServiceModel* s : {&service.pooled, &own})
                    s->add(table, x.exit, x.partition, x.bandwidthBps, x.deviceMs + x.encodeMs, x.transferMs,
                           x.edgeMs + x.decodeMs, x.sentToEdge);
        service.devices.push_back(std::move(own));
    }
    return service;
}

Result<FleetProjection> projectStoredFleet(store::RunStore& db, const MeasuredFleet& m, const ModelBytes& model,
                                           const std::string& predictor, const std::vector<std::string>& plannings,
                                           const std::vector<int>& sizes, const plan::SimOptions& sim) {
    const std::string fleet = "fleet " + std::to_string(m.fleetId);
    const std::string hash = store::modelRecord(model).hash;
    if (!m.modelHash.empty() && m.modelHash != hash) return makeError(fleet + " ran another model than " + model.file.spec.name);
    const std::string name = !predictor.empty() ? predictor : (m.predictor.empty() ? "auto" : m.predictor);
    auto context = planContextFor(db, model.file, hash, name, energy::PowerProfile{});
    if (!context) return makeError(context.error());
    const plan::FleetService service = serviceModelOf(m, context->table);
    if (service.pooled.empty()) return makeError(fleet + " has no fp32 samples to measure its service from");
    if (m.bandwidthBps <= 0) return makeError(fleet + " has no bandwidth to plan with");
    FleetProjection out;
    out.deviceScale = service.pooled.deviceScale();
    for (const auto& d : service.devices) out.deviceScales.push_back(d.device.empty() ? NAN : d.deviceScale());
    plan::PlanGoal goal;
    goal.deadlineMs = sim.deadlineMs;
    goal.codec = "fp32";  // the service model is fp32's
    const int own = static_cast<int>(m.devices.size());
    for (const std::string& planning : plannings) {
        std::vector<int> at{own};
        for (int n : sizes)
            if (n != own) at.push_back(n);
        for (int n : at) {
            auto r = plan::projectFleet(*context, goal, planning, n, m.bandwidthBps, service, sim);
            out.points.push_back({planning, n, r.offloading, r.plan.meanAccuracy, std::move(r.sim)});
        }
    }
    return out;
}

}  // namespace edgent::core::control
