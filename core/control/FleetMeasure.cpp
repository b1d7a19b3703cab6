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
    if (outcome.edge.size() >= 2) {
        const auto& a = outcome.edge.front();
        const auto& b = outcome.edge.back();
        const double servers = std::max<qint64>(1, outcome.edgeStats.value("servers").toInteger(1));
        if (b.tMs > a.tMs) f.edgeUtilisation = (b.serviceMsSum - a.serviceMsSum) / (b.tMs - a.tMs) / servers;
    }
    f.shed = outcome.edgeStats.value("shed").toInteger();
    f.queuePeak = outcome.edgeStats.value("queue_peak").toInteger();
    return f;
}

Result<MeasuredFleet> measuredFleet(store::RunStore& db, int64_t fleetId, const plan::LatencyTable* table) {
    auto fleet = db.fleet(fleetId);
    if (!fleet) return makeError(fleet.error());
    MeasuredFleet m;
    m.planning = fleet->planning;
    const QJsonObject params = QJsonDocument::fromJson(QByteArray::fromStdString(fleet->paramsJson)).object();
    m.options.deadlineMs = params.value("deadline_ms").toDouble();
    m.options.servers = params.value("edge_servers").toInt(1);
    m.options.capacity = params.value("edge_queue").toInt(16);
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
        plan::ServiceModel own;
        LiveRunOutcome out;
        size_t offloaded = 0;
        for (const auto& r : *rows) offloaded += r.sample.sentToEdge && !r.sample.busy;
        const bool offloads = offloaded * 2 > rows->size();
        for (const auto& r : *rows) {
            const net::Sample& x = r.sample;
            out.samples.push_back(x);
            if (x.busy) continue;
            // Links shaped outside the workbench: the bandwidth the fleet planned with.
            const double bps = x.bandwidthBps > 0 ? x.bandwidthBps : (std::isnan(d.bandwidthBps) ? 0.0 : d.bandwidthBps);
            if (bps > 0) bandwidths.push_back(bps);
            if (table && (!x.sentToEdge || x.codec == net::codecName(net::Codec{})))  // the table's times are fp32's
                for (plan::ServiceModel* s : {&m.service.pooled, &own})
                    s->add(*table, x.exit, x.partition, bps, x.deviceMs + x.encodeMs, x.transferMs, x.edgeMs + x.decodeMs,
                           x.sentToEdge);
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
        if (table) m.service.devices.push_back(std::move(own));
        outcome.runs.push_back(std::move(out));
    }
    if (!bandwidths.empty()) {
        std::sort(bandwidths.begin(), bandwidths.end());
        m.bandwidthBps = bandwidths[bandwidths.size() / 2];
    }
    if (m.devices.empty()) return makeError("fleet " + std::to_string(fleetId) + " has no samples to simulate from");
    for (const auto& e : fleet->edge) outcome.edge.push_back(e);
    outcome.edgeStats = QJsonObject{{"servers", m.options.servers}};
    const FleetSummary s = summarizeFleet(outcome, m.options.deadlineMs);
    m.p95Ms = s.all.latencyMsP95;
    m.hitRate = s.all.deadlineHitRate;
    m.utilisation = s.edgeUtilisation;
    m.throughputHz = s.throughputHz;
    return m;
}

Result<FleetProjection> projectStoredFleet(store::RunStore& db, int64_t fleetId, const ModelBytes& model,
                                           const std::string& predictor, const std::vector<std::string>& plannings,
                                           const std::vector<int>& sizes, const plan::SimOptions& sim) {
    auto fleet = measuredFleet(db, fleetId);  // its model and predictor, for the table
    if (!fleet) return makeError(fleet.error());
    const std::string hash = store::modelRecord(model).hash;
    if (!fleet->modelHash.empty() && fleet->modelHash != hash)
        return makeError("fleet " + std::to_string(fleetId) + " ran another model than " + model.file.spec.name);
    const std::string name = !predictor.empty() ? predictor : (fleet->predictor.empty() ? "auto" : fleet->predictor);
    auto context = planContextFor(db, model.file, hash, name, energy::PowerProfile{});
    if (!context) return makeError(context.error());
    auto m = measuredFleet(db, fleetId, &context->table);
    if (!m) return makeError(m.error());
    if (m->service.pooled.empty()) return makeError("fleet " + std::to_string(fleetId) + " has no fp32 samples to measure its service from");
    if (m->bandwidthBps <= 0) return makeError("fleet " + std::to_string(fleetId) + " has no bandwidth to plan with");
    FleetProjection out;
    out.deviceScale = m->service.pooled.deviceScale();
    for (const auto& d : m->service.devices) out.deviceScales.push_back(d.device.empty() ? NAN : d.deviceScale());
    plan::SimOptions o = m->options;
    o.inputs = sim.inputs;
    o.seed = sim.seed;
    o.randomPhases = sim.randomPhases;
    plan::PlanGoal goal;
    goal.deadlineMs = o.deadlineMs;
    goal.codec = "fp32";  // the service model is fp32's
    const int own = static_cast<int>(m->devices.size());
    for (const std::string& planning : plannings) {
        std::vector<int> at{own};
        for (int n : sizes)
            if (n != own) at.push_back(n);
        for (int n : at) {
            auto r = plan::projectFleet(*context, goal, planning, n, m->bandwidthBps, m->service, o);
            out.points.push_back({planning, n, r.offloading, r.plan.meanAccuracy, std::move(r.sim)});
        }
    }
    out.measured = std::move(*m);
    return out;
}

}  // namespace edgent::core::control
