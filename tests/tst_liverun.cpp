// The live-run engine (core/control/LiveRun.h) on real local workers: what it stores, pause
// and resume, static and dynamic plans following the bandwidth, and where a run ends.
//
// The planned runs plan on a latency table made up for the test (a device ten times slower
// per layer than the edge), so the right plan at each bandwidth is known in advance; every
// latency in the samples is real.
#include "RunTestUtil.h"
#include "TestUtil.h"

#include "core/control/LiveRun.h"
#include "core/model/ModelImport.h"

#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

#include <mutex>
#include <thread>

using namespace edgent::core;
using namespace edgent::core::control;
using net::EventKind;

namespace {

using edgent::test::scalar;
using edgent::test::waitUntil;

bool finish(LiveRun& run, int timeoutMs = 30000) { return run.waitFor(timeoutMs); }

}  // namespace

class TestLiveRun : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string db_;
    std::unique_ptr<WorkerLink> link_;
    std::optional<ModelBytes> model_;

    LiveRunOptions options() const {
        LiveRunOptions o;
        o.dbPath = db_;
        o.source = "test";
        return o;
    }

    // 1 ms per layer on the device, 0.1 ms on the edge, 0.2 ms per message.
    RunPlanning planning(bool dynamic) const {
        const ModelSpec& spec = model_->file.spec;
        RunPlanning p;
        p.context.spec = spec;
        p.context.table = edgent::test::madeUpTable(spec, 1.0, 0.1, 0.2);
        p.context.exitAccuracy = spec.exitAccuracy;
        p.goal.deadlineMs = 30.0;
        p.goal.policy = plan::Policy::Edgent;
        p.predictor = "test table";
        p.dynamic = dynamic;
        return p;
    }

private Q_SLOTS:
    void initTestCase() {
        db_ = dir_.filePath("runs.sqlite").toStdString();
        auto bytes = readAnyModel(edgent::test::defaultModel());
        QVERIFY2(bytes.ok(), bytes.ok() ? "" : bytes.error().c_str());
        model_ = std::move(*bytes);
        link_ = std::make_unique<WorkerLink>(WorkerLinkOptions{});
        auto s = link_->start();
        QVERIFY2(s.ok(), s.error().c_str());
        s = link_->loadModel(*model_);
        QVERIFY2(s.ok(), s.error().c_str());
    }

    void aManualRunStoresItsSamplesEventsAndParameters() {
        LiveRunOptions o = options();
        o.exit = 4;
        o.partition = 3;
        o.bandwidthBps = 50e6;
        o.count = 20;
        std::thread::id finishedOn;
        LiveRunObserver observer;
        observer.onFinished = [&](const LiveRunOutcome&) { finishedOn = std::this_thread::get_id(); };
        auto run = LiveRun::start(*link_, o, observer);
        QVERIFY2(run.ok(), run.ok() ? "" : run.error().c_str());
        QVERIFY(finish(**run));
        const LiveRunOutcome& out = (*run)->outcome();
        QCOMPARE(out.status, std::string("finished"));
        QCOMPARE(out.sampleCount, int64_t(20));
        QCOMPARE(out.samples.size(), size_t(20));
        for (size_t i = 0; i < out.samples.size(); ++i) {
            QCOMPARE(out.samples[i].sequence, uint64_t(i));
            QCOMPARE(out.samples[i].exit, 4);
            QCOMPARE(out.samples[i].partition, 3);
        }
        const std::string id = std::to_string(out.runId);
        QCOMPARE(scalar(db_, "SELECT count(*) FROM samples WHERE run_id=" + id), 20.0);
        QCOMPARE(scalar(db_, "SELECT count(*) FROM runs WHERE status='finished' AND id=" + id), 1.0);
        QCOMPARE(scalar(db_, "SELECT count(*) FROM run_params WHERE key='source' AND value='test' AND run_id=" + id), 1.0);
        // A manual run predicts nothing: no made-up prediction is stored.
        QCOMPARE(scalar(db_, "SELECT count(predicted_ms) FROM samples WHERE run_id=" + id), 0.0);
        // The end of the run (joining the writer, the final sync) happened on the run's own
        // thread, not on the caller's.
        run->reset();  // joins the run's thread, after its last callback
        QVERIFY(finishedOn != std::thread::id());
        QVERIFY(finishedOn != std::this_thread::get_id());
    }

    void pauseAndResumeContinueTheSequenceAndTheClock() {
        LiveRunOptions o = options();
        o.exit = 2;
        o.partition = 2;
        o.bandwidthBps = 50e6;
        o.rateHz = 50.0;
        auto started = LiveRun::start(*link_, o);
        QVERIFY(started.ok());
        LiveRun& run = **started;
        QVERIFY(waitUntil([&] { return run.samples() >= 10; }, 10000));
        run.pause();
        QVERIFY(run.paused());
        // Once paused, nothing more arrives and the run's clock stands still.
        QVERIFY(waitUntil(
            [&] {
                const int64_t n = run.samples();
                std::this_thread::sleep_for(std::chrono::milliseconds(150));
                return run.samples() == n;
            },
            5000));
        const double clockAtPause = run.elapsedMs();
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
        QVERIFY(std::abs(run.elapsedMs() - clockAtPause) < 1.0);
        const int64_t atPause = run.samples();
        run.resume();
        QVERIFY(waitUntil([&] { return run.samples() >= atPause + 10; }, 10000));
        run.stop();
        QVERIFY(finish(run));
        const std::string id = std::to_string(run.runId());
        const double rows = scalar(db_, "SELECT count(*) FROM samples WHERE run_id=" + id);
        QVERIFY(rows >= 20);
        // One sequence with no gap and no repeat across the pause, on a clock that kept going.
        QCOMPARE(scalar(db_, "SELECT count(DISTINCT seq) FROM samples WHERE run_id=" + id), rows);
        QCOMPARE(scalar(db_, "SELECT max(seq) FROM samples WHERE run_id=" + id), rows - 1);
        QCOMPARE(scalar(db_,
                        "SELECT count(*) FROM samples a JOIN samples b ON a.run_id=b.run_id AND b.seq=a.seq+1 "
                        "WHERE b.device_time_ms < a.device_time_ms AND a.run_id=" +
                            id),
                 0.0);
        // The resumed stream read on through the test set instead of starting it again.
        QCOMPARE(scalar(db_, "SELECT count(DISTINCT image_index) FROM samples WHERE run_id=" + id), rows);
        QCOMPARE(scalar(db_, "SELECT count(*) FROM events WHERE kind='pause' AND run_id=" + id), 1.0);
        QCOMPARE(scalar(db_, "SELECT count(*) FROM events WHERE kind='resume' AND run_id=" + id), 1.0);
        // The 400 ms pause is left out of the clock: the gap between the last sample before it
        // and the first after it is one input interval (20 ms at 50 Hz), give or take.
        const double gap = scalar(db_,
                                  "SELECT b.device_time_ms - a.device_time_ms FROM samples a JOIN samples b ON "
                                  "a.run_id=b.run_id AND b.seq=a.seq+1 WHERE a.seq=" +
                                      std::to_string(atPause - 1) + " AND a.run_id=" + id);
        QVERIFY2(gap >= 0 && gap < 200, qPrintable(QString::number(gap)));
    }

    void aStaticPlanFollowsTheStatedBandwidth() {
        LiveRunOptions o = options();
        o.bandwidthBps = 10e6;
        o.planning = planning(false);
        std::mutex mutex;
        std::vector<RunEvent> events;
        LiveRunObserver observer;
        observer.onEvent = [&](const RunEvent& e) {
            std::lock_guard lock(mutex);
            events.push_back(e);
        };
        // 10 Mbps: the raw image to the edge is fastest; 150 kbps: the device alone.
        const auto fast = plan::choosePlan(o.planning->context.table, o.planning->context.exitAccuracy, 10e6, 30.0, plan::Policy::Edgent);
        const auto slow = plan::choosePlan(o.planning->context.table, o.planning->context.exitAccuracy, 150e3, 30.0, plan::Policy::Edgent);
        QCOMPARE(fast.partition, 0);
        QCOMPARE(slow.partition, model_->file.spec.pathLength(slow.exit));
        auto started = LiveRun::start(*link_, o, observer);
        QVERIFY(started.ok());
        LiveRun& run = **started;
        QCOMPARE(run.currentPlan().exit, fast.exit);
        QCOMPARE(run.currentPlan().partition, fast.partition);
        QVERIFY(waitUntil([&] { return run.samples() >= 5; }, 10000));
        run.setBandwidth(150e3, "slider");
        QVERIFY(waitUntil([&] { return run.currentPlan().partition == slow.partition; }, 5000));
        const int64_t switchedAt = run.samples();
        QVERIFY(waitUntil([&] { return run.samples() >= switchedAt + 10; }, 10000));
        run.stop();
        QVERIFY(finish(run));
        const LiveRunOutcome& out = run.outcome();
        QCOMPARE(out.status, std::string("finished"));
        QCOMPARE(out.reconfigurations, int64_t(1));
        QCOMPARE(out.samples.back().partition, slow.partition);
        QCOMPARE(out.samples.back().exit, slow.exit);
        // Every sample ran under one of the two plans, and carries that plan's prediction.
        for (const auto& s : out.samples)
            QVERIFY((s.exit == fast.exit && s.partition == fast.partition) ||
                    (s.exit == slow.exit && s.partition == slow.partition));
        const std::string id = std::to_string(out.runId);
        QCOMPARE(scalar(db_, "SELECT count(*) FROM samples WHERE predicted_ms IS NULL AND run_id=" + id), 0.0);
        std::lock_guard lock(mutex);
        int plans = 0;
        for (const auto& e : events)
            if (e.kind == EventKind::Plan) {
                ++plans;
                QVERIFY(e.plan.has_value());
            }
        QCOMPARE(plans, 2);  // the initial plan and the switch
    }

    // In dynamic mode the stated bandwidth only sets the shaper: the plan changes when the
    // estimator notices, never at once.
    void inDynamicModeTheBandwidthOnlySetsTheShaper() {
        LiveRunOptions o = options();
        o.bandwidthBps = 10e6;
        o.planning = planning(true);
        o.planning->messageOverheadMs = 0.2;
        auto started = LiveRun::start(*link_, o);
        QVERIFY(started.ok());
        LiveRun& run = **started;
        QCOMPARE(run.currentPlan().partition, 0);
        QVERIFY(waitUntil([&] { return run.samples() >= 20; }, 10000));
        run.setBandwidth(150e3, "slider");
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        // Not yet: the estimator needs the slower transfers to see the change.
        const int64_t stated = run.samples();
        QVERIFY(waitUntil([&] { return run.currentPlan().partition != 0; }, 20000));
        QVERIFY(run.samples() > stated);
        run.stop();
        QVERIFY(finish(run));
        const LiveRunOutcome& out = run.outcome();
        QVERIFY(out.changePoints >= 1);
        const std::string id = std::to_string(out.runId);
        QCOMPARE(scalar(db_, "SELECT count(*) FROM events WHERE kind='plan' AND message LIKE '%slider%' AND run_id=" + id), 0.0);
        QVERIFY(scalar(db_, "SELECT count(*) FROM events WHERE kind='change-point' AND run_id=" + id) >= 1);
        QVERIFY(scalar(db_,
                       "SELECT count(*) FROM events WHERE kind='plan' AND (message LIKE '%change-point%' OR message LIKE "
                       "'%estimate%') AND run_id=" +
                           id) >= 1);
        // The switch came after a change point that followed the slider, not with the slider. (Noise at 10 Mbps
        // may raise an earlier change point of its own; only the ones after the slider count here.)
        const std::string slider = "(SELECT min(t_ms) FROM events WHERE kind='bandwidth' AND run_id=" + id + ")";
        const double firstChangeAfter = scalar(
            db_, "SELECT min(t_ms) FROM events WHERE kind='change-point' AND t_ms >= " + slider + " AND run_id=" + id);
        const double firstPlanAfter =
            scalar(db_, "SELECT min(t_ms) FROM events WHERE kind='plan' AND t_ms > " + slider + " AND run_id=" + id);
        QVERIFY2(scalar(db_, "SELECT count(*) FROM events WHERE kind='change-point' AND t_ms >= " + slider +
                                 " AND run_id=" + id) >= 1,
                 "no change point after the slider");
        QVERIFY2(firstPlanAfter >= firstChangeAfter, "a plan switch came before the change point");
    }

    void badOptionsAreRefusedBeforeAnythingIsStored() {
        const double runsBefore = scalar(db_, "SELECT count(*) FROM runs");
        LiveRunOptions o = options();
        o.count = -1;
        auto r = LiveRun::start(*link_, o);
        QVERIFY(!r.ok());
        QVERIFY(r.error().find("count") != std::string::npos);
        o = options();
        o.planning = planning(false);
        o.planning->goal.deadlineMs = 0;
        r = LiveRun::start(*link_, o);
        QVERIFY(!r.ok());
        QVERIFY(r.error().find("deadline") != std::string::npos);
        QCOMPARE(scalar(db_, "SELECT count(*) FROM runs"), runsBefore);
    }

    void cleanupTestCase() {
        if (link_) link_->shutdown();
    }
};

QTEST_GUILESS_MAIN(TestLiveRun)
#include "tst_liverun.moc"
