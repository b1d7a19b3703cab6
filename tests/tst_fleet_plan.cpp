// Planning many devices that share one edge (core/plan/Fleet.h): the joint planner against an
// exhaustive search over every device's (exit, partition), with the worst-case bounds
// recomputed here by hand.
#include "core/plan/Fleet.h"
#include "core/plan/FleetProject.h"
#include "core/plan/FleetSim.h"

#include <QtTest>

#include <cmath>
#include <random>

using namespace edgent::core;
using namespace edgent::core::plan;

namespace {

struct Choice {
    int exit, partition;
    double ms, service, accuracy;
};

// The bound of the fleet's header comment, written out: a device that offloads waits for the
// edge time of every other device that offloads.
std::vector<double> bounds(const std::vector<Choice>& c) {
    double sum = 0.0;
    for (const auto& x : c) sum += x.service;
    std::vector<double> out;
    for (const auto& x : c) out.push_back(x.ms + (x.service > 0 ? sum - x.service : 0.0));
    return out;
}

// A context whose every layer takes `deviceMs + exit * stepMs` on the device and `edgeMs` on
// the edge, its exits more accurate the later they are.
PlanContext uniformContext(double deviceMs, double stepMs, double edgeMs) {
    const ModelSpec spec = alexNet5Spec(1, 28, 28, 10);
    std::vector<std::vector<double>> device, edge;
    for (int e = 0; e < spec.numExits(); ++e) {
        device.emplace_back(static_cast<size_t>(spec.pathLength(e)), deviceMs + e * stepMs);
        edge.emplace_back(static_cast<size_t>(spec.pathLength(e)), edgeMs);
    }
    PlanContext context;
    context.spec = spec;
    context.table = LatencyTable::fromLayerTimes(spec, device, edge, 0.5).value();
    context.exitAccuracy = {0.80, 0.84, 0.87, 0.89, 0.91};
    return context;
}

}  // namespace

class TestFleetPlan : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void jointPlansMeetTheirBoundsAndComeCloseToTheBestAccuracy() {
        std::mt19937_64 rng(11);
        const ModelSpec spec = alexNet5Spec(1, 28, 28, 10);
        int jointBeatsIndependent = 0, tables = 0;
        double worstGap = 0.0;
        for (int round = 0; round < 40; ++round) {
            std::uniform_real_distribution<double> ms(0.0, 6.0), acc(0.5, 0.95), speedup(2.0, 20.0), mbps(0.5, 20.0),
                deadline(10.0, 80.0);
            std::vector<std::vector<double>> device, edge;
            std::vector<double> accuracy;
            for (int e = 0; e < spec.numExits(); ++e) {
                const double s = speedup(rng);
                device.emplace_back();
                edge.emplace_back();
                for (int i = 0; i < spec.pathLength(e); ++i) {
                    device.back().push_back(ms(rng));
                    edge.back().push_back(device.back().back() / s);
                }
                accuracy.push_back(acc(rng));
            }
            std::sort(accuracy.begin(), accuracy.end());  // later exits are more accurate, as in a real model
            auto table = LatencyTable::fromLayerTimes(spec, device, edge, 0.5);
            QVERIFY(table.ok());
            PlanContext context;
            context.spec = spec;
            context.table = *table;
            context.exitAccuracy = accuracy;
            PlanGoal goal;
            goal.codec = "fp32";
            const int n = 2 + round % 2;
            std::vector<FleetDevice> devices;
            for (int i = 0; i < n; ++i) devices.push_back({mbps(rng) * 1e6, deadline(rng)});

            const FleetPlan joint = planJointly(context, goal, devices);
            const FleetPlan alone = planIndependently(context, goal, devices);
            QCOMPARE(static_cast<int>(joint.plans.size()), n);
            // The bounds the planner reports are the header's formula.
            for (const FleetPlan* f : {&joint, &alone}) {
                std::vector<Choice> c;
                for (const auto& p : f->plans)
                    c.push_back({p.exit, p.partition, table->predictMs(p.exit, p.partition, devices[c.size()].bandwidthBps),
                                 p.partition < table->pathLength(p.exit) ? table->edgeMs(p.exit, p.partition) : 0.0,
                                 p.accuracy});
                const auto b = bounds(c);
                for (int i = 0; i < n; ++i) {
                    QVERIFY(std::abs(b[static_cast<size_t>(i)] - f->boundMs[static_cast<size_t>(i)]) < 1e-9);
                    QCOMPARE(f->plans[static_cast<size_t>(i)].feasible, b[static_cast<size_t>(i)] <= devices[static_cast<size_t>(i)].deadlineMs);
                }
            }
            // Exhaustive: the most devices that can all meet their bounds, then the best accuracy.
            std::vector<std::vector<Choice>> options(static_cast<size_t>(n));
            for (int i = 0; i < n; ++i)
                for (int e = 0; e < spec.numExits(); ++e)
                    for (int p = 0; p <= table->pathLength(e); ++p)
                        options[static_cast<size_t>(i)].push_back(
                            {e, p, table->predictMs(e, p, devices[static_cast<size_t>(i)].bandwidthBps),
                             p < table->pathLength(e) ? table->edgeMs(e, p) : 0.0, accuracy[static_cast<size_t>(e)]});
            int bestFeasible = -1;
            double bestAccuracy = 0.0;
            std::vector<size_t> idx(static_cast<size_t>(n), 0);
            while (true) {
                std::vector<Choice> c;
                for (int i = 0; i < n; ++i) c.push_back(options[static_cast<size_t>(i)][idx[static_cast<size_t>(i)]]);
                const auto b = bounds(c);
                int feasible = 0;
                double a = 0.0;
                for (int i = 0; i < n; ++i) {
                    feasible += b[static_cast<size_t>(i)] <= devices[static_cast<size_t>(i)].deadlineMs;
                    a += c[static_cast<size_t>(i)].accuracy / n;
                }
                if (feasible > bestFeasible || (feasible == bestFeasible && a > bestAccuracy)) {
                    bestFeasible = feasible;
                    bestAccuracy = a;
                }
                size_t k = 0;
                while (k < idx.size() && ++idx[k] == options[k].size()) idx[k++] = 0;
                if (k == idx.size()) break;
            }
            ++tables;
            QCOMPARE(joint.feasible, bestFeasible);
            if (bestFeasible == n) worstGap = std::max(worstGap, bestAccuracy - joint.meanAccuracy);
            QVERIFY(joint.feasible >= alone.feasible);
            if (joint.feasible > alone.feasible) ++jointBeatsIndependent;
        }
        qInfo("joint vs exhaustive over %d tables: worst accuracy gap %.4f; joint met more bounds than independent in %d",
              tables, worstGap, jointBeatsIndependent);
        QVERIFY2(worstGap <= 0.02, "the greedy step-down stays within 2 points of the best mean accuracy");
        QVERIFY2(jointBeatsIndependent > 0, "the random fleets include some where planning alone overloads the edge");
    }

    // Identical devices: more devices leave each less of the edge; joint planning keeps every
    // bound, while planning alone offloads them all and breaks the bounds.
    // A device the fleet measured slower than its profile is planned on a rescaled table; it
    // keeps the codec options (their encode times scaled with the device) and the slice cost.
    void aScaledDeviceKeepsItsCodecsAndSliceCost() {
        PlanContext context = uniformContext(0.4, 0.1, 0.1);
        LatencyTable& t = context.table;
        CodecCosts int8;
        int8.codec = net::codecFromName("int8").value();
        for (int e = 0; e < t.numExits(); ++e) {
            const size_t n = static_cast<size_t>(t.pathLength(e)) + 1;
            int8.bytes.emplace_back(n, 100.0);
            int8.encodeMs.emplace_back(n, 0.25);
            int8.decodeMs.emplace_back(n, 0.125);
            int8.accuracyDrop.emplace_back(n, 0.0);
        }
        t.addCodec(int8);
        t.setSliceMs(0.3, 0.2);
        const PlanContext scaled = scaledDevice(context, 2.0);
        QCOMPARE(scaled.table.numCodecs(), 2);
        QVERIFY(scaled.table.codecAt(1) == int8.codec);
        QCOMPARE(scaled.table.deviceSliceMs(), 0.6);
        QCOMPARE(scaled.table.edgeSliceMs(), 0.2);
        for (int e = 0; e < t.numExits(); ++e)
            for (int p = 1; p < t.pathLength(e); ++p) {
                QVERIFY(scaled.table.codecApplies(1, e, p));
                QVERIFY(std::abs(scaled.table.deviceMs(e, p) - 2.0 * t.deviceMs(e, p)) < 1e-9);
                QVERIFY(std::abs(scaled.table.edgeMs(e, p) - t.edgeMs(e, p)) < 1e-12);
                // Twice the device and twice the encode; the wire, the decode and the edge as before.
                const double added = scaled.table.predictMs(e, p, 1e6, 1) - t.predictMs(e, p, 1e6, 1);
                QVERIFY(std::abs(added - (t.deviceMs(e, p) + 0.25)) < 1e-9);
            }
    }

    void moreDevicesPushJointPlansTowardsTheDevice() {
        const PlanContext context = uniformContext(1.0, 0.2, 0.25);
        const LatencyTable* table = &context.table;
        PlanGoal goal;
        goal.codec = "fp32";
        double lastAccuracy = 1.0;
        for (int n : {1, 2, 4, 8, 16}) {
            const std::vector<FleetDevice> devices(static_cast<size_t>(n), FleetDevice{4e6, 20.0});
            const FleetPlan joint = planJointly(context, goal, devices);
            const FleetPlan alone = planIndependently(context, goal, devices);
            int offloading = 0;
            for (const auto& p : joint.plans) offloading += p.partition < table->pathLength(p.exit);
            QCOMPARE(joint.feasible, n);
            // Dropping one device from a fleet's plans leaves the others' bounds met: the mean
            // accuracy cannot rise with the fleet's size.
            QVERIFY(joint.meanAccuracy <= lastAccuracy + 1e-9);
            lastAccuracy = joint.meanAccuracy;
            qInfo("%2d devices: joint offloads %d, mean accuracy %.3f, round %.2f ms; alone meets %d bounds", n, offloading,
                  joint.meanAccuracy, joint.roundMs, alone.feasible);
            if (n >= 8) QVERIFY2(alone.feasible < n, "alone, every device offloads and the edge's round breaks the bounds");
        }
    }

    // Paced devices: where the edge has room for every device's plan alone, joint planning
    // keeps them (the worst case would have sent devices to compute alone); where it has not,
    // it steps devices down until the simulated queue meets every deadline within the load cap.
    void pacedDevicesArePlannedAgainstTheQueueTheyForm() {
        const PlanContext context = uniformContext(1.0, 0.2, 0.25);
        PlanGoal goal;
        goal.codec = "fp32";
        const int n = 8;
        const std::vector<FleetDevice> unpaced(n, FleetDevice{4e6, 20.0});
        const FleetPlan alone = planIndependently(context, goal, unpaced);
        const FleetPlan worstCase = planJointly(context, goal, unpaced);
        QVERIFY(!worstCase.paced);
        double aloneWork = 0.0;  // the edge's ms per round of every device's plan alone
        for (double s : alone.serviceMs) aloneWork += s;
        QVERIFY(aloneWork > 0.0);
        QVERIFY2(worstCase.meanAccuracy < alone.meanAccuracy, "the worst case sends devices away from the edge");
        auto load = [&](const FleetPlan& f, double rate) {
            double sum = 0.0;
            for (double s : f.serviceMs) sum += s;
            return sum * rate / 1000.0;
        };
        // Half loaded by the plans alone: they stand, and every device meets its deadline.
        const double light = 0.5 * 1000.0 / aloneWork;
        const FleetPlan roomy = planJointly(context, goal, std::vector<FleetDevice>(n, FleetDevice{4e6, 20.0, 1.0, light}));
        QVERIFY(roomy.paced);
        QCOMPARE(roomy.feasible, n);
        QVERIFY(std::abs(roomy.meanAccuracy - alone.meanAccuracy) < 1e-9);
        for (int i = 0; i < n; ++i) QVERIFY(roomy.boundMs[static_cast<size_t>(i)] <= 20.0);
        // Twice over-loaded: devices step down until the load fits; still every deadline met, and
        // no less accurate than the worst case.
        const double heavy = 2.0 * 1000.0 / aloneWork;
        const FleetPlan tight = planJointly(context, goal, std::vector<FleetDevice>(n, FleetDevice{4e6, 20.0, 1.0, heavy}));
        QCOMPARE(tight.feasible, n);
        QVERIFY(load(tight, heavy) <= kPacedLoadCap + 1e-9);
        QVERIFY(tight.meanAccuracy < alone.meanAccuracy);
        QVERIFY(tight.meanAccuracy >= worstCase.meanAccuracy - 1e-9);
        // The simulated latencies are what a fleet of those plans meets: check against the simulation.
        std::vector<SimDevice> sim;
        for (size_t i = 0; i < tight.plans.size(); ++i) {
            const double s = tight.serviceMs[i];
            sim.push_back({{tight.plans[i].predictedMs - s}, {0.0}, s > 0 ? std::vector<double>{s} : std::vector<double>{}});
        }
        SimOptions so;
        so.rateHz = heavy;
        so.inputs = 40;
        so.capacity = 1 << 20;
        const SimResult r = simulateFleet(sim, so);
        QVERIFY(!r.latencyMs.empty());
        for (double x : r.latencyMs) QVERIFY(x > 0.0 && x <= 20.0);
        qInfo("8 paced devices: alone %.3f, worst case %.3f, light %.3f, heavy %.3f (load %.2f)", alone.meanAccuracy,
              worstCase.meanAccuracy, roomy.meanAccuracy, tight.meanAccuracy, load(tight, heavy));
    }

    // A projection plans every size anew from the measured service model: samples measured at
    // twice the profile's device compute plan with a device scale of 2; one device meets
    // exactly its parts' predicted times times their ratios; at 500 devices, planning each
    // alone overloads the edge while the joint plans keep every deadline their bounds promise.
    void aProjectionRePlansEverySizeFromTheMeasuredServiceModel() {
        const PlanContext context = uniformContext(0.5, 0.1, 0.25);
        const ModelSpec& spec = context.spec;
        const LatencyTable* table = &context.table;
        PlanGoal goal;
        goal.codec = "fp32";
        goal.deadlineMs = 20.0;
        const double bps = 4e6;
        ServiceModel model;
        const int last = spec.numExits() - 1, n = spec.pathLength(last);
        for (int k = 0; k < 50; ++k) {
            const int p = 1 + k % (n - 1);  // a cut inside the path: every part measured
            const double transfer = table->predictMs(last, p, bps) - table->deviceMs(last, p) - table->edgeMs(last, p);
            model.add(*table, last, p, bps, 2.0 * table->deviceMs(last, p), transfer, table->edgeMs(last, p), true);
        }
        model.add(*table, last, n, bps, 2.0 * table->deviceMs(last, n), 0.0, 0.0, false);
        QCOMPARE(model.device.size(), size_t{51});
        QCOMPARE(model.edge.size(), size_t{50});
        QVERIFY(model.deviceFloorMs.empty());
        QCOMPARE(model.deviceScale(), 2.0);
        ServiceModel floor;  // nothing on the device (the raw input sent): its measured time itself
        floor.add(*table, last, 0, bps, 0.3, 1.0, 1.0, true);
        QVERIFY(floor.device.empty());
        QCOMPARE(floor.deviceFloorMs, std::vector<double>{0.3});
        QCOMPARE(floor.edge.size(), size_t{1});
        for (double r : model.transfer) QVERIFY(std::abs(r - 1.0) < 1e-9);
        model.add(*table, last + 1, 0, bps, 1.0, 0.0, 0.0, false);  // no such exit: ignored
        QCOMPARE(model.device.size(), size_t{51});

        SimOptions o;
        o.rateHz = 20.0;
        o.inputs = 40;
        o.capacity = 1 << 20;
        const Projection one = projectFleet(context, goal, "independent", 1, bps, FleetService{model, {}}, o);
        QCOMPARE(one.plan.plans.size(), size_t{1});
        const PlanResult& p = one.plan.plans.front();
        const FleetPlan scaled = planIndependently(context, goal, {FleetDevice{bps, 20.0, 2.0}});
        QVERIFY(sameConfiguration(p, scaled.plans.front()));
        const double expected = p.partition < table->pathLength(p.exit)
                                    ? table->predictMs(p.exit, p.partition, bps) + table->deviceMs(p.exit, p.partition)
                                    : 2.0 * table->deviceMs(p.exit, p.partition);
        QVERIFY2(std::abs(one.sim.p50Ms - expected) < 1e-6, qPrintable(QString("p50 %1, expected %2").arg(one.sim.p50Ms).arg(expected)));

        const Projection alone = projectFleet(context, goal, "independent", 500, bps, FleetService{model, {}}, o);
        const Projection joint = projectFleet(context, goal, "joint", 500, bps, FleetService{model, {}}, o);
        QCOMPARE(alone.plan.plans.size(), size_t{500});
        QVERIFY2(alone.offloading == 500, "alone, every device offloads");
        QVERIFY(alone.sim.utilisation > 0.95);
        QVERIFY(alone.sim.hitRate < 0.5);
        QCOMPARE(joint.plan.feasible, 500);
        QVERIFY(joint.offloading < 500);
        QCOMPARE(joint.sim.hitRate, 1.0);
        qInfo("500 devices: alone hit rate %.3f (utilisation %.2f), joint %.3f with %d offloading", alone.sim.hitRate,
              alone.sim.utilisation, joint.sim.hitRate, joint.offloading);

        // Per measured device: device i computes as measured device i mod 3 did. The third
        // measured device computed nothing (it sent its raw input): it takes the median scale.
        ServiceModel slow;
        for (int p = 1; p < n; ++p) slow.add(*table, last, p, bps, 4.0 * table->deviceMs(last, p), 0.0, 0.0, false);
        ServiceModel rawOnly;
        rawOnly.add(*table, last, 0, bps, 0.2, 1.0, table->edgeMs(last, 0), true);
        const FleetService three{model, {model, slow, rawOnly}};
        const double slowLink = 50e3;  // too slow to send anything in time: the scale picks the exit
        const Projection mixed = projectFleet(context, goal, "independent", 6, slowLink, three, o);
        std::vector<FleetDevice> sixDevices;
        for (double scale : {2.0, 4.0, 4.0, 2.0, 4.0, 4.0}) sixDevices.push_back(FleetDevice{slowLink, 20.0, scale});
        // (the median of the measured scales {2, 4} is the upper middle, 4)
        const FleetPlan byHand = planIndependently(context, goal, sixDevices);
        for (size_t i = 0; i < 6; ++i)
            QVERIFY2(sameConfiguration(mixed.plan.plans[i], byHand.plans[i]), qPrintable(QString("device %1").arg(i)));
        QVERIFY2(mixed.plan.plans[0].exit > mixed.plan.plans[1].exit, "the slower device takes an earlier exit");
    }

    // The simulation on cases worked out by hand: constant times, so every latency is exact.
    void theSimulationQueuesShedsAndMissesAsWorkedOutByHand() {
        SimDevice offloads{{2.0}, {1.0}, {5.0}};  // 2 ms compute, 1 ms uplink, 5 ms at the edge
        SimOptions o;
        o.inputs = 10;
        o.deadlineMs = 9.0;
        // Alone, at 50 per second: 2 + 1 + 5 = 8 ms every time, the edge busy 5 of every 20 ms.
        o.rateHz = 50.0;
        auto one = simulateFleet({offloads}, o);
        QCOMPARE(one.latencyMs.size(), size_t(10));
        for (double x : one.latencyMs) QCOMPARE(x, 8.0);
        QCOMPARE(one.hitRate, 1.0);
        // Two devices back to back, in step: the second frame waits the first's 5 ms; from then
        // on each device's frame arrives 3 ms after its answer and waits the 2 ms left of the
        // other's service: 10 ms every time.
        o.rateHz = 0.0;
        auto two = simulateFleet({offloads, offloads}, o);
        QCOMPARE(two.latencyMs.front(), 8.0);
        QCOMPARE(two.latencyMs[10], 13.0);
        for (size_t i : {size_t(1), size_t(9), size_t(11), size_t(19)}) QCOMPARE(two.latencyMs[i], 10.0);
        QCOMPARE(two.p95Ms, 10.0);
        QCOMPARE(two.hitRate, 0.05);  // only the very first answer within 9 ms
        QVERIFY(std::abs(two.utilisation - 1.0) < 0.1);  // the edge never rests
        // An edge that holds no waiting frame sheds the second of two frames arriving together.
        o.capacity = 0;
        o.inputs = 1;
        auto shed = simulateFleet({offloads, offloads}, o);
        QCOMPARE(shed.shed, int64_t(1));
        QCOMPARE(shed.latencyMs[1], -1.0);
        // A device-only device never touches the edge.
        auto alone = simulateFleet({SimDevice{{12.0}, {}, {}}}, o);
        QCOMPARE(alone.latencyMs.front(), 12.0);
        QCOMPARE(alone.utilisation, 0.0);
        // Two edges, one device each: neither waits for the other, 8 ms every time; the
        // utilisation is over both edges' servers.
        o.capacity = 16;
        o.inputs = 10;
        o.edges = 2;
        auto apart = simulateFleet({offloads, offloads}, o);
        for (double x : apart.latencyMs) QCOMPARE(x, 8.0);
        QCOMPARE(apart.hitRate, 1.0);
        QVERIFY(apart.utilisation < 0.7 && apart.utilisation > 0.55);  // 5 of every 8 ms, on each edge
        // Placed on one edge by edgeOf, they queue as on one edge.
        o.edgeOf = {1, 1};
        auto together = simulateFleet({offloads, offloads}, o);
        QCOMPARE(together.latencyMs[10], 13.0);
        QCOMPARE(together.p95Ms, 10.0);
    }

    // Over two edges, each edge's devices are planned against it alone: eight devices over two
    // edges are planned as two fleets of four, and have room for more accurate plans than eight
    // on one.
    void devicesOverSeveralEdgesArePlannedPerEdge() {
        const PlanContext context = uniformContext(1.0, 0.2, 0.25);
        PlanGoal goal;
        goal.codec = "fp32";
        const std::vector<FleetDevice> eight(8, FleetDevice{4e6, 20.0}), four(4, FleetDevice{4e6, 20.0});
        const std::vector<int> edgeOf{0, 1, 0, 1, 0, 1, 0, 1};
        for (const std::string planning : {"joint", "independent"}) {
            const FleetPlan split = planOverEdges(context, goal, eight, edgeOf, 1, planning);
            const FleetPlan half = planning == "joint" ? planJointly(context, goal, four) : planIndependently(context, goal, four);
            const FleetPlan one = planOverEdges(context, goal, eight, {}, 1, planning);
            QCOMPARE(split.plans.size(), size_t(8));
            for (size_t i = 0; i < 8; ++i) {
                QVERIFY(sameConfiguration(split.plans[i], half.plans[i / 2]));
                QCOMPARE(split.boundMs[i], half.boundMs[i / 2]);
            }
            QCOMPARE(split.feasible, 2 * half.feasible);
            QCOMPARE(split.roundMs, half.roundMs);
            QVERIFY(std::abs(split.meanAccuracy - half.meanAccuracy) < 1e-12);
            if (planning == "joint") {
                QCOMPARE(split.feasible, 8);
                QVERIFY2(split.meanAccuracy > one.meanAccuracy, "two edges leave room for more accurate plans");
            }
        }
    }
};

QTEST_APPLESS_MAIN(TestFleetPlan)
#include "tst_fleet_plan.moc"
