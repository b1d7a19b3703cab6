// `edgent fleet-sim`: a stored fleet's queueing simulated (core/plan/FleetSim.h) against what
// it measured, and its curve extended to fleets this host cannot emulate.
#include "app/cli/CliCommon.h"

#include "core/control/FleetMeasure.h"
#include "core/control/FleetRun.h"

#include <QJsonArray>

#include <cmath>
#include <cstdio>

namespace edgent::app {

int runFleetSim(const QStringList& args) {
    Command cmd(QStringLiteral("fleet-sim"),
                QStringLiteral("Simulates a stored fleet (edgent run --devices) from its own measured device, uplink and "
                               "edge times: first at its own size, beside what it measured, then at each size of "
                               "--devices, the devices' measured times repeated in turn."),
                QStringLiteral("--db DB --fleet ID [--devices 1,8,100,1000] [--replan joint,independent] [--inputs N] [--json]"));
    cmd.addOptions({
        {"db", "Run database.", "DB"},
        {"fleet", "The fleet to simulate (edgent run --devices prints its id).", "ID"},
        {"devices", "Fleet sizes to simulate (default: its own).", "LIST"},
        {"inputs", "Inputs per device (default: the fleet's count).", "N"},
        {"edges",
         "Edges to spread the simulated sizes over (default: the fleet's own), device i on edge i mod N, each its own queue "
         "of the fleet's servers.",
         "N"},
        {"seed", "Random seed of the draws (default 1).", "S", "1"},
        {"phases", "Devices' phases in their period: spread (evenly, as a fleet starts them) or random.", "HOW", "spread"},
        {"replan",
         "Also plan every size anew with these plannings (any of joint, paced and independent), their times drawn from "
         "the fleet's measured service model: each part's measured over predicted ratios (core/plan/FleetProject.h).",
         "LIST"},
        {"predictor", "With --replan: the latency model to plan with (default: the one the fleet planned with).", "NAME"},
    });
    cmd.addOptions({modelCliOption()});
    int code = 0;
    if (!cmd.parse(args, &code)) return code;
    const auto& p = cmd.parser();
    if (!p.isSet("db") || !p.isSet("fleet")) return cmd.fail("--db and --fleet are required");
    const auto fleetId = cmd.intOption("fleet", 0, 1, 1'000'000'000, &code);
    if (!fleetId) return code;
    auto db = core::store::RunStore::open(p.value("db").toStdString(), core::store::RunStore::Mode::ReadOnly);
    if (!db) return cmd.fail(QString::fromStdString(db.error()));
    std::vector<std::string> replans;
    std::optional<core::ModelBytes> model;
    if (p.isSet("replan")) {
        const auto r = planningList(p.value("replan"));
        if (!r) return cmd.fail("--replan must list joint, paced or independent");
        replans = *r;
        model = readModelOption(cmd, &code);
        if (!model) return code;
    }
    auto m = core::control::measuredFleet(**db, *fleetId);
    if (!m) return cmd.fail(QString::fromStdString(m.error()));
    core::plan::SimOptions o = m->options;
    const auto inputs = cmd.intOption("inputs", o.inputs > 0 ? o.inputs : 200, 1, 10'000'000, &code);
    const auto seed = cmd.intOption("seed", 1, 0, 1'000'000'000, &code);
    const auto edges = cmd.intOption("edges", o.edges, 1, core::control::kMaxFleetEdges, &code);
    if (!inputs || !seed || !edges) return code;
    o.inputs = *inputs;
    o.seed = static_cast<uint64_t>(*seed);
    if (p.value("phases") != "spread" && p.value("phases") != "random") return cmd.fail("--phases must be spread or random");
    o.randomPhases = p.value("phases") == "random";
    std::vector<int> sizes;
    const int own = static_cast<int>(m->devices.size());
    if (p.isSet("devices")) {
        for (const QString& x : p.value("devices").split(',', Qt::SkipEmptyParts)) {
            bool ok = false;
            const int n = x.trimmed().toInt(&ok);
            if (!ok || n < 1 || n > 10000) return cmd.fail("--devices must list sizes from 1 to 10000, got '" + x + "'");
            sizes.push_back(n);
        }
    } else {
        sizes.push_back(own);
    }
    const auto ownSim = core::plan::simulateFleet(m->devices, o);  // on the edges each device had
    // Larger sizes: device i computes as measured device i mod M did, on that device's edge, or
    // on edge i mod --edges.
    const std::vector<int> ownEdges = o.edgeOf;
    const bool otherEdges = p.isSet("edges");
    o.edges = static_cast<int>(*edges);
    o.edgeOf.clear();
    QJsonObject out;
    out["fleet_id"] = static_cast<qint64>(*fleetId);
    out["planning"] = QString::fromStdString(m->planning);
    out["devices"] = own;
    out["rate_hz"] = o.rateHz;
    out["deadline_ms"] = o.deadlineMs;
    out["edges"] = m->options.edges;
    out["simulated_edges"] = o.edges;
    out["measured_p95_ms"] = m->p95Ms;
    out["simulated_p95_ms"] = ownSim.p95Ms;
    out["p95_error"] = m->p95Ms > 0 ? (ownSim.p95Ms - m->p95Ms) / m->p95Ms : 0.0;
    out["measured_hit_rate"] = m->hitRate;
    out["simulated_hit_rate"] = ownSim.hitRate;
    out["measured_utilisation"] = m->utilisation;
    out["simulated_utilisation"] = ownSim.utilisation;
    QJsonArray curve;
    for (int n : sizes) {
        std::vector<core::plan::SimDevice> devices;
        core::plan::SimOptions at = o;
        for (int i = 0; i < n; ++i) {
            devices.push_back(m->devices[static_cast<size_t>(i % own)]);
            at.edgeOf.push_back(otherEdges ? i % o.edges : ownEdges[static_cast<size_t>(i % own)]);
        }
        const auto r = core::plan::simulateFleet(devices, at);
        curve.append(QJsonObject{{"devices", n},
                                 {"p95_ms", r.p95Ms},
                                 {"p50_ms", r.p50Ms},
                                 {"hit_rate", r.hitRate},
                                 {"utilisation", r.utilisation},
                                 {"throughput_hz", r.throughputHz},
                                 {"shed", static_cast<qint64>(r.shed)}});
    }
    out["curve"] = curve;
    QJsonArray planned;
    double deviceScale = 1.0, bandwidthBps = 0.0;
    if (!replans.empty()) {
        auto projection =
            core::control::projectStoredFleet(**db, *m, *model, p.value("predictor").toStdString(), replans, sizes, o);
        if (!projection) return cmd.fail(QString::fromStdString(projection.error()));
        deviceScale = projection->deviceScale;
        QJsonArray scales;
        for (double x : projection->deviceScales) scales.append(std::isnan(x) ? QJsonValue() : QJsonValue(x));
        out["device_scales"] = scales;
        bandwidthBps = m->bandwidthBps;
        for (const auto& x : projection->points)
            planned.append(QJsonObject{{"planning", QString::fromStdString(x.planning)},
                                       {"devices", x.devices},
                                       {"offloading", x.offloading},
                                       {"mean_accuracy", x.meanAccuracy},
                                       {"p95_ms", x.sim.p95Ms},
                                       {"hit_rate", x.sim.hitRate},
                                       {"utilisation", x.sim.utilisation},
                                       {"throughput_hz", x.sim.throughputHz},
                                       {"shed", static_cast<qint64>(x.sim.shed)}});
        out["planned"] = planned;
        out["device_scale"] = deviceScale;
        out["bandwidth_bps"] = bandwidthBps;
    }
    if (cmd.json()) {
        printJson(out);
        return 0;
    }
    std::printf("fleet %lld (%d devices, %s): p95 measured %.2f ms, simulated %.2f ms (%+.1f%%); hit rate measured %.3f, "
                "simulated %.3f; edge utilisation measured %.2f, simulated %.2f\n",
                static_cast<long long>(*fleetId), own, m->planning.c_str(), m->p95Ms, ownSim.p95Ms,
                100 * out["p95_error"].toDouble(), m->hitRate, ownSim.hitRate, m->utilisation, ownSim.utilisation);
    for (const auto& v : curve) {
        const QJsonObject c = v.toObject();
        std::printf("  %6d devices: p95 %.2f ms, hit rate %.3f, utilisation %.2f, %.1f answered per second, %lld shed\n",
                    c.value("devices").toInt(), c.value("p95_ms").toDouble(), c.value("hit_rate").toDouble(),
                    c.value("utilisation").toDouble(), c.value("throughput_hz").toDouble(),
                    static_cast<long long>(c.value("shed").toInteger()));
    }
    if (!replans.empty())
        std::printf("planned anew at %.0f kbit/s, device i computing as measured device i mod %d (pooled: %.2f x the profile):\n",
                    bandwidthBps / 1000.0, own, deviceScale);
    for (const auto& v : planned) {
        const QJsonObject c = v.toObject();
        std::printf("  %-11s %6d devices (%d offloading, accuracy %.2f%%): p95 %.2f ms, hit rate %.3f, utilisation %.2f, "
                    "%.1f answered per second, %lld shed\n",
                    c.value("planning").toString().toUtf8().constData(), c.value("devices").toInt(),
                    c.value("offloading").toInt(), 100 * c.value("mean_accuracy").toDouble(), c.value("p95_ms").toDouble(),
                    c.value("hit_rate").toDouble(), c.value("utilisation").toDouble(), c.value("throughput_hz").toDouble(),
                    static_cast<long long>(c.value("shed").toInteger()));
    }
    return 0;
}

}  // namespace edgent::app
