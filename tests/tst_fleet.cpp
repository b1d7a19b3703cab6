// Many devices sharing edges (core/control/FleetRun.h) on real local workers: what a fleet
// stores, a device on its own bandwidth trace, a device killed mid-run, the edge killed mid-run,
// one of two edges killed mid-run, and an overloaded edge that sheds.
//
// The fleets plan on a latency table made up for the test (the device ten times slower per
// layer than the edge), so every device's plan offloads; every latency in the samples is real.
#include "RunTestUtil.h"
#include "TestUtil.h"

#include "core/control/FleetRun.h"
#include "core/model/ModelImport.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

#include <csignal>
#include <thread>

using namespace edgent::core;
using namespace edgent::core::control;

namespace {

using edgent::test::scalar;
using edgent::test::waitUntil;

long residentKb(long pid) {
    QFile f(QStringLiteral("/proc/%1/status").arg(pid));
    if (!f.open(QIODevice::ReadOnly)) return -1;
    for (const QByteArray& line : f.readAll().split('\n'))
        if (line.startsWith("VmRSS:")) return line.mid(6).trimmed().split(' ').first().toLong();
    return -1;
}

}  // namespace

class TestFleet : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string db_;
    std::optional<ModelBytes> model_;

    FleetOptions options(int devices, int64_t count, double rateHz) const {
        const ModelSpec& spec = model_->file.spec;
        FleetOptions o;
        o.run.dbPath = db_;
        o.run.source = "test";
        o.run.count = count;
        o.run.rateHz = rateHz;
        o.planning.context.spec = spec;
        o.planning.context.table = edgent::test::madeUpTable(spec, 1.0, 0.1, 0.2);
        o.planning.context.exitAccuracy = spec.exitAccuracy;
        o.planning.goal.deadlineMs = 200.0;
        o.planning.goal.codec = "fp32";
        o.planning.predictor = "test table";
        o.bandwidthsBps.assign(static_cast<size_t>(devices), 50e6);
        o.model = *model_;
        return o;
    }

private Q_SLOTS:
    void initTestCase() {
        db_ = dir_.filePath("runs.sqlite").toStdString();
        auto bytes = readAnyModel(edgent::test::defaultModel());
        QVERIFY2(bytes.ok(), bytes.ok() ? "" : bytes.error().c_str());
        model_ = std::move(*bytes);
    }

    void threeDevicesShareOneEdgeAndTheStoreTiesTheirRunsTogether() {
        auto fleet = FleetRun::start(options(3, 25, 0.0));
        QVERIFY2(fleet.ok(), fleet.ok() ? "" : fleet.error().c_str());
        QVERIFY((*fleet)->waitFor(60000));
        const FleetOutcome& out = (*fleet)->outcome();
        QCOMPARE(out.status, std::string("finished"));
        QCOMPARE(out.runs.size(), size_t(3));
        const std::string f = std::to_string(out.fleetId);
        QCOMPARE(scalar(db_, "SELECT count(*) FROM fleet_devices WHERE end_reason='finished' AND fleet_id=" + f), 3.0);
        QCOMPARE(scalar(db_, "SELECT count(*) FROM fleets WHERE status='finished' AND planning='joint' AND id=" + f), 1.0);
        QVERIFY(scalar(db_, "SELECT count(*) FROM fleet_edge WHERE fleet_id=" + f) >= 1.0);
        for (int d = 0; d < 3; ++d) {
            const auto& run = out.runs[static_cast<size_t>(d)];
            QCOMPARE(run.status, std::string("finished"));
            QCOMPARE(run.sampleCount, int64_t(25));
            const std::string id = std::to_string(run.runId);
            // Every sample keeps its device, and the run its fleet.
            QCOMPARE(scalar(db_, "SELECT count(*) FROM samples WHERE device=" + std::to_string(d) + " AND run_id=" + id), 25.0);
            QCOMPARE(scalar(db_, "SELECT count(*) FROM run_params WHERE key='fleet_id' AND value='" + f + "' AND run_id=" + id),
                     1.0);
            QCOMPARE(scalar(db_, "SELECT count(*) FROM fleet_devices WHERE device=" + std::to_string(d) + " AND run_id=" + id),
                     1.0);
            // The plan offloads: every sample went to the edge and waited a measured time in its queue.
            QCOMPARE(scalar(db_, "SELECT count(*) FROM samples WHERE sent_to_edge=1 AND busy=0 AND queue_ms >= 0 AND run_id=" + id),
                     25.0);
        }
        // Three devices back to back on one edge server: frames did wait behind each other.
        QVERIFY2(scalar(db_, "SELECT max(queue_ms) FROM samples s JOIN fleet_devices d ON d.run_id=s.run_id WHERE d.fleet_id=" +
                                 f) > 0.0,
                 "a shared edge queues frames");
        QCOMPARE(out.edgeStats.size(), size_t(1));
        QCOMPARE(out.edgeStats[0].value("frames_out").toInteger() >= 75, true);
        const FleetSummary s = summarizeFleet(out, 200.0);
        QCOMPARE(s.all.inferences, int64_t(75));
        QVERIFY(s.throughputHz > 0.0);
        QVERIFY(s.all.queueMsMean > 0.0);
    }

    // Device 0 follows its own trace, from 50 Mbit/s down to 20 kbit/s, where sending anything
    // misses the deadline: the fleet re-plans it to compute alone; device 1 keeps offloading.
    void aDeviceOnItsOwnTraceIsRePlannedAtItsStep() {
        FleetOptions o = options(2, 40, 20.0);
        auto trace = plan::parseBandwidthTrace("time_s,kbps\n0,50000\n0.6,20\n", "test trace");
        QVERIFY2(trace.ok(), trace.ok() ? "" : trace.error().c_str());
        o.traces = {*trace, std::nullopt};
        auto fleet = FleetRun::start(o);
        QVERIFY2(fleet.ok(), fleet.ok() ? "" : fleet.error().c_str());
        QVERIFY((*fleet)->waitFor(60000));
        const FleetOutcome& out = (*fleet)->outcome();
        QCOMPARE(out.status, std::string("finished"));
        QVERIFY(out.replans >= 1);
        const std::string f = std::to_string(out.fleetId);
        QCOMPARE(scalar(db_, "SELECT bandwidth_bps FROM fleet_devices WHERE device=0 AND fleet_id=" + f), 20000.0);
        QCOMPARE(scalar(db_, "SELECT bandwidth_bps FROM fleet_devices WHERE device=1 AND fleet_id=" + f), 50e6);
        const std::string traced = std::to_string(out.runs[0].runId), fixed = std::to_string(out.runs[1].runId);
        QCOMPARE(scalar(db_, "SELECT count(*) FROM samples WHERE run_id=" + traced), 40.0);
        // Offloaded before the step, on the device alone after it (the last sample included).
        QVERIFY(scalar(db_, "SELECT count(*) FROM samples WHERE sent_to_edge=1 AND run_id=" + traced) >= 1.0);
        QVERIFY(scalar(db_, "SELECT count(*) FROM samples WHERE sent_to_edge=0 AND run_id=" + traced) >= 10.0);
        QCOMPARE(scalar(db_, "SELECT sent_to_edge FROM samples WHERE run_id=" + traced + " ORDER BY seq DESC LIMIT 1"), 0.0);
        QVERIFY(scalar(db_, "SELECT max(seq) FROM samples WHERE sent_to_edge=1 AND run_id=" + traced) <
                scalar(db_, "SELECT min(seq) FROM samples WHERE sent_to_edge=0 AND run_id=" + traced));
        QCOMPARE(scalar(db_, "SELECT count(*) FROM samples WHERE sent_to_edge=1 AND run_id=" + fixed), 40.0);
        QVERIFY(scalar(db_, "SELECT count(*) FROM events WHERE message LIKE '%trace step%' AND run_id=" + traced) >= 1.0);
    }

    void aKilledDeviceEndsOnlyItsRunAndTheOthersGoOn() {
        auto fleet = FleetRun::start(options(3, 0, 40.0));
        QVERIFY2(fleet.ok(), fleet.ok() ? "" : fleet.error().c_str());
        FleetRun& f = **fleet;
        QVERIFY(waitUntil([&] {
            for (const auto& d : f.devices())
                if (d.samples < 5) return false;
            return true;
        }, 20000));
        const long pid = f.devicePid(1);
        QVERIFY(pid > 0);
        QCOMPARE(::kill(static_cast<pid_t>(pid), SIGKILL), 0);
        QVERIFY(waitUntil([&] { return f.devices()[1].state == "ended"; }, 15000));
        const int64_t before0 = f.devices()[0].samples, before2 = f.devices()[2].samples;
        QVERIFY(waitUntil([&] { return f.devices()[0].samples > before0 + 10 && f.devices()[2].samples > before2 + 10; }, 15000));
        QCOMPARE(f.devices()[0].state, std::string("running"));
        f.stop("finished");
        QVERIFY(f.waitFor(30000));
        const FleetOutcome& out = f.outcome();
        QCOMPARE(out.status, std::string("finished"));
        QVERIFY2(out.error.find("1 of 3 devices failed") != std::string::npos, out.error.c_str());
        QCOMPARE(out.runs[1].status, std::string("failed"));
        QCOMPARE(out.runs[0].status, std::string("finished"));
        QCOMPARE(out.runs[2].status, std::string("finished"));
        QVERIFY(out.replans >= 1);  // the others were re-planned when it left
        const std::string fid = std::to_string(out.fleetId);
        // Its death is on record, with its time and cause.
        QCOMPARE(scalar(db_, "SELECT count(*) FROM fleet_devices WHERE device=1 AND left_ms > joined_ms AND end_reason LIKE "
                             "'%killed by signal 9%' AND fleet_id=" + fid),
                 1.0);
        // What it sent before dying is kept.
        QCOMPARE(scalar(db_, "SELECT count(*) FROM samples WHERE run_id=" + std::to_string(out.runs[1].runId)),
                 static_cast<double>(out.runs[1].sampleCount));
        QVERIFY(out.runs[1].sampleCount >= 5);
    }

    void aKilledEdgeEndsEveryRunAndEveryAcknowledgedSampleIsKept() {
        auto fleet = FleetRun::start(options(2, 0, 40.0));
        QVERIFY2(fleet.ok(), fleet.ok() ? "" : fleet.error().c_str());
        FleetRun& f = **fleet;
        QVERIFY(waitUntil([&] { return f.devices()[0].samples >= 10 && f.devices()[1].samples >= 10; }, 20000));
        QCOMPARE(::kill(static_cast<pid_t>(f.edgePid()), SIGKILL), 0);
        QVERIFY2(f.waitFor(20000), "every device's run ends once the edge is gone");
        const FleetOutcome& out = f.outcome();
        QCOMPARE(out.status, std::string("failed"));
        QVERIFY2(out.error.find("edge 0 (pid") != std::string::npos && out.error.find("killed by signal 9") != std::string::npos,
                 out.error.c_str());
        for (const auto& run : out.runs) {
            QCOMPARE(run.status, std::string("failed"));
            QVERIFY(run.sampleCount >= 10);
            QCOMPARE(scalar(db_, "SELECT count(*) FROM samples WHERE run_id=" + std::to_string(run.runId)),
                     static_cast<double>(run.sampleCount));
            QCOMPARE(scalar(db_, "SELECT count(*) FROM runs WHERE status='failed' AND id=" + std::to_string(run.runId)), 1.0);
        }
    }

    // Four devices over two edges: devices 0 and 2 on edge 0, 1 and 3 on edge 1, each edge
    // polled on its own. Edge 1 killed: its devices' runs end (failed, samples kept), the others
    // go on, and a device that joins afterwards goes to the edge that still lives.
    void aFleetOverTwoEdgesLosesOnlyTheDevicesOfTheEdgeThatDies() {
        FleetOptions o = options(4, 0, 40.0);
        o.edges = 2;
        auto fleet = FleetRun::start(o);
        QVERIFY2(fleet.ok(), fleet.ok() ? "" : fleet.error().c_str());
        FleetRun& f = **fleet;
        QCOMPARE(f.edges(), 2);
        QVERIFY(f.edgePid(0) > 0 && f.edgePid(1) > 0 && f.edgePid(0) != f.edgePid(1));
        for (const auto& d : f.devices()) QCOMPARE(d.edge, d.device % 2);
        QVERIFY(waitUntil([&] {
            for (const auto& d : f.devices())
                if (d.samples < 8) return false;
            return true;
        }, 20000));
        QCOMPARE(::kill(static_cast<pid_t>(f.edgePid(1)), SIGKILL), 0);
        QVERIFY(waitUntil([&] { return f.devices()[1].state == "ended" && f.devices()[3].state == "ended"; }, 20000));
        const int64_t before = f.devices()[0].samples;
        QVERIFY(waitUntil([&] { return f.devices()[0].samples > before + 10; }, 15000));
        QCOMPARE(f.devices()[2].state, std::string("running"));
        f.addDevice(50e6);
        QVERIFY(waitUntil([&] { return f.devices().size() == 5 && f.devices()[4].samples >= 5; }, 20000));
        QCOMPARE(f.devices()[4].edge, 0);
        f.stop("finished");
        QVERIFY(f.waitFor(30000));
        const FleetOutcome& out = f.outcome();
        QCOMPARE(out.status, std::string("finished"));
        QVERIFY2(out.error.find("1 of 2 edges died") != std::string::npos && out.error.find("edge 1 (pid") != std::string::npos,
                 out.error.c_str());
        QCOMPARE(out.edgeFailures.size(), size_t(1));
        for (size_t d : {size_t(1), size_t(3)}) {
            QCOMPARE(out.runs[d].status, std::string("failed"));
            QCOMPARE(scalar(db_, "SELECT count(*) FROM samples WHERE run_id=" + std::to_string(out.runs[d].runId)),
                     static_cast<double>(out.runs[d].sampleCount));
        }
        for (size_t d : {size_t(0), size_t(2), size_t(4)}) QCOMPARE(out.runs[d].status, std::string("finished"));
        const std::string fid = std::to_string(out.fleetId);
        QCOMPARE(scalar(db_, "SELECT group_concat(edge, '') FROM (SELECT edge FROM fleet_devices WHERE fleet_id=" + fid +
                                 " ORDER BY device)") , 1010.0);
        QVERIFY(scalar(db_, "SELECT count(*) FROM fleet_edge WHERE edge=1 AND fleet_id=" + fid) >= 1.0);
        QVERIFY(scalar(db_, "SELECT count(*) FROM fleet_edge WHERE edge=0 AND fleet_id=" + fid) >
                scalar(db_, "SELECT count(*) FROM fleet_edge WHERE edge=1 AND fleet_id=" + fid));
        const FleetSummary s = summarizeFleet(out, o.planning.goal.deadlineMs);
        QCOMPARE(s.edgeUtilisations.size(), size_t(2));
        QVERIFY(s.edgeUtilisations[0] > 0.0);
    }

    // Four devices back to back on an edge that holds one waiting frame: it sheds with busy
    // answers, the devices count them, and its memory does not grow with the load.
    void anOverloadedEdgeAnswersBusyWithinBoundedMemory() {
        FleetOptions o = options(4, 0, 0.0);
        o.edgeQueue = 1;
        o.edgeQueuePerDevice = 1;
        auto fleet = FleetRun::start(o);
        QVERIFY2(fleet.ok(), fleet.ok() ? "" : fleet.error().c_str());
        FleetRun& f = **fleet;
        QVERIFY(waitUntil([&] { return f.devices()[3].samples >= 20; }, 20000));
        const long early = residentKb(f.edgePid());
        QVERIFY(waitUntil([&] { return f.devices()[3].samples >= 200; }, 60000));
        const long late = residentKb(f.edgePid());
        f.stop("finished");
        QVERIFY(f.waitFor(30000));
        const FleetOutcome& out = f.outcome();
        QCOMPARE(out.status, std::string("finished"));
        const FleetSummary s = summarizeFleet(out, o.planning.goal.deadlineMs);
        qInfo("busy %lld of %lld; edge shed %lld, queue peak %lld; edge RSS %ld -> %ld kB", static_cast<long long>(s.all.busy),
              static_cast<long long>(s.all.inferences), static_cast<long long>(s.shed), static_cast<long long>(s.queuePeak), early,
              late);
        QVERIFY2(s.shed > 0 && s.all.busy > 0, "the edge shed load and the devices heard it");
        QVERIFY(s.queuePeak <= 1);
        // A shed input misses its deadline, however soon the busy answer came.
        QVERIFY(s.all.deadlineHitRate <= 1.0 - static_cast<double>(s.all.busy) / static_cast<double>(s.all.inferences) + 1e-9);
        QVERIFY2(early > 0 && late - early < 20 * 1024, "the edge's memory stays within 20 MB of where it was");
    }
};

QTEST_GUILESS_MAIN(TestFleet)
#include "tst_fleet.moc"
