// The command-line contract: --help, --json, and one clear stderr line with a non-zero exit.
#include "RunTestUtil.h"
#include "TestUtil.h"

#include "core/control/LocalWorkers.h"

#include <QCryptographicHash>
#include <QDir>
#ifdef EDGENT_HAVE_WIDGETS
#include <QImage>
#endif
#include <QJsonArray>
#include <QTemporaryDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include <cmath>
#include <csignal>
#include <sqlite3.h>

// Children of `parent` whose command line contains `needle` (to find a spawned worker).
static QList<qint64> childrenWith(qint64 parent, const QByteArray& needle) {
    QList<qint64> found;
    for (const QString& entry : QDir("/proc").entryList(QDir::Dirs)) {
        bool isPid = false;
        const qint64 pid = entry.toLongLong(&isPid);
        if (!isPid) continue;
        QFile stat("/proc/" + entry + "/stat");
        if (!stat.open(QIODevice::ReadOnly)) continue;
        const QByteArray text = stat.readAll();
        const QList<QByteArray> fields = text.mid(text.lastIndexOf(')') + 2).split(' ');
        if (fields.size() < 2 || fields[1].toLongLong() != parent) continue;
        QFile cmd("/proc/" + entry + "/cmdline");
        if (cmd.open(QIODevice::ReadOnly) && cmd.readAll().replace('\0', ' ').contains(needle)) found << pid;
    }
    return found;
}

static QByteArray fileHash(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256) : QByteArray();
}

class TestCli : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

    using Run = edgent::test::CliRun;
    static Run run(const QStringList& args, int timeoutMs = 120000) { return edgent::test::runCli(args, timeoutMs); }

    static void expectOneLineError(const Run& r, const char* fragment) {
        QVERIFY2(r.code != 0 && r.code != -1, qPrintable(QStringLiteral("exit code %1").arg(r.code)));
        QVERIFY2(r.err.count('\n') == 1, r.err.constData());
        QVERIFY2(r.err.contains(fragment), r.err.constData());
        QVERIFY(r.out.isEmpty());
    }

private Q_SLOTS:
    void helpExitsZero() {
        const Run r = run({"eval", "--help"});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.startsWith("Usage: edgent eval"));
        QVERIFY(r.out.contains("--limit"));
    }

    void evalJsonReportsEveryExit() {
        const Run r = run({"eval", "--limit", "300", "--json"});
        QVERIFY2(r.code == 0, r.err.constData());
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(r.out, &error);
        QVERIFY2(doc.isObject(), qPrintable(error.errorString()));
        const QJsonObject o = doc.object();
        QCOMPARE(o["images"].toInt(), 300);
        QCOMPARE(o["dataset"].toString(), QStringLiteral("fashion-mnist"));
        const QJsonArray exits = o["exits"].toArray();
        QCOMPARE(exits.size(), 5);
        int previousLength = 0;
        for (const auto& v : exits) {
            const QJsonObject e = v.toObject();
            QVERIFY(e["accuracy"].toDouble() > 0.5 && e["accuracy"].toDouble() <= 1.0);
            QCOMPARE(e["correct"].toInt(), qRound(e["accuracy"].toDouble() * 300));
            QVERIFY(e["path_length"].toInt() > previousLength);
            previousLength = e["path_length"].toInt();
            QVERIFY(e["flops"].toDouble() > 0 && e["param_bytes"].toDouble() > 0);
        }
    }

    void corruptWeightsGetOneLine() {
        expectOneLineError(run({"eval", "--model", edgent::test::dataPath("tiny-corrupt.json")}), "corrupt");
    }
    void truncatedWeightsGetOneLine() {
        expectOneLineError(run({"eval", "--model", edgent::test::dataPath("tiny-truncated.json")}), "truncated");
    }
    void unknownLayerKindGetsOneLine() {
        expectOneLineError(run({"eval", "--model", edgent::test::dataPath("bad-unknown-kind.json")}), "unknown layer kind");
    }
    void inconsistentShapesGetOneLine() {
        expectOneLineError(run({"eval", "--model", edgent::test::dataPath("bad-inconsistent-shapes.json")}), "does not match");
    }
    void wrongIdxMagicGetsOneLine() {
        expectOneLineError(run({"eval", "--data-dir", edgent::test::dataPath("fmnist-bad-magic")}), "wrong magic number");
    }
    void shortIdxReadGetsOneLine() {
        expectOneLineError(run({"eval", "--data-dir", edgent::test::dataPath("fmnist-short")}), "short read");
    }
    void missingDataDirectoryGetsOneLine() {
        expectOneLineError(run({"eval", "--data-dir", "/nonexistent/data"}), "does not exist");
        expectOneLineError(run({"train", "--data-dir", "/nonexistent/data", "--out", "/tmp/never.json"}), "does not exist");
    }
    void modelForOtherImagesGetsOneLine() {
        expectOneLineError(run({"eval", "--model", edgent::test::dataPath("tiny.json")}), "takes 1x8x8 input");
    }
    void malformedNumberGetsOneLine() {
        const Run r = run({"eval", "--limit", "many"});
        QCOMPARE(r.code, 2);
        QVERIFY(r.err.contains("--limit must be an integer"));
    }
    void unknownOptionAndCommandAreRefused() {
        const Run a = run({"eval", "--frobnicate"});
        QCOMPARE(a.code, 2);
        QCOMPARE(a.err.count('\n'), 1);
        const Run b = run({"frobnicate"});
        QCOMPARE(b.code, 2);
        QVERIFY(b.err.contains("unknown command"));
    }
    void trainNeedsAnOutputPath() { expectOneLineError(run({"train"}), "--out"); }

    void runStoresTheRunAndPrintsItsSummary() {
        const QString db = dir_.filePath("cli.sqlite");
        const Run r = run({"run", "--local", "--db", db, "--exit", "1", "--partition", "4", "--bandwidth", "5Mbps", "--deadline",
                           "500ms", "--count", "20", "--json"});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonObject o = QJsonDocument::fromJson(r.out).object();
        for (const char* key : {"run_id", "inferences", "accuracy", "latency_ms_p50", "latency_ms_p95", "deadline_hit_rate",
                                "predicted_ms", "exit", "partition", "bytes_sent_mean", "energy_mj_mean"})
            QVERIFY2(o.contains(key), key);
        QCOMPARE(o["inferences"].toInt(), 20);
        QCOMPARE(o["exit"].toInt(), 1);
        QCOMPARE(o["partition"].toInt(), 4);
        QCOMPARE(o["status"].toString(), QStringLiteral("finished"));
        QVERIFY(o["latency_ms_p95"].toDouble() >= o["latency_ms_p50"].toDouble());
        QCOMPARE(o["deadline_hit_rate"].toDouble(), 1.0);  // ~40 ms per inference against 500 ms
        // Pinned by hand: no prediction. Energy from the default (laptop) power model:
        // active, transmit and idle watts times the measured durations.
        QVERIFY(o["predicted_ms"].isNull());
        QCOMPARE(o["energy_source"].toString(), QStringLiteral("model:laptop"));
        const double expectedEnergy =
            18.0 * o["device_ms_mean"].toDouble() + 9.0 * o["transfer_ms_mean"].toDouble() + 6.0 * o["edge_ms_mean"].toDouble();
        QVERIFY(std::abs(o["energy_mj_mean"].toDouble() - expectedEnergy) < 1e-6 * expectedEnergy);
        const int id = o["run_id"].toInt();

        const Run list = run({"runs", "list", "--db", db, "--json"});
        QVERIFY2(list.code == 0, list.err.constData());
        const QJsonArray runs = QJsonDocument::fromJson(list.out).object()["runs"].toArray();
        QCOMPARE(runs.size(), 1);
        QCOMPARE(runs[0].toObject()["id"].toInt(), id);
        QCOMPARE(runs[0].toObject()["status"].toString(), QStringLiteral("finished"));
        QCOMPARE(runs[0].toObject()["samples"].toInt(), 20);

        const Run show = run({"runs", "show", QString::number(id), "--db", db, "--json"});
        QCOMPARE(QJsonDocument::fromJson(show.out).object()["accuracy"].toDouble(), o["accuracy"].toDouble());

        QStringList formats{"csv", "json", "sqlite"};
#ifdef EDGENT_HAVE_WIDGETS
        formats << "png"
                << "pdf";
#endif
        for (const QString& ext : formats) {
            const QString out = dir_.filePath(QStringLiteral("run.%1").arg(ext));
            const Run e = run({"export", "--db", db, "--run", QString::number(id), "--out", out});
            QVERIFY2(e.code == 0 && e.err.isEmpty(), e.err.constData());
            QVERIFY2(QFileInfo(out).size() > 500, qPrintable(ext));
        }
#ifdef EDGENT_HAVE_WIDGETS
        QImage png(dir_.filePath("run.png"));
        QVERIFY(!png.isNull());
        QCOMPARE(png.size(), QSize(2000, 1800));
        QFile pdf(dir_.filePath("run.pdf"));
        QVERIFY(pdf.open(QIODevice::ReadOnly) && pdf.read(5) == "%PDF-");
#endif
        QFile csv(dir_.filePath("run.csv"));
        QVERIFY(csv.open(QIODevice::ReadOnly));
        QCOMPARE(csv.readAll().trimmed().count('\n'), 20);

        const Run compare = run({"runs", "compare", QString::number(id), QString::number(id), "--db", db, "--json"});
        QCOMPARE(QJsonDocument::fromJson(compare.out).object()["delta"].toObject()["accuracy"].toDouble(), 0.0);
    }

    void profileThenPlanThenRunWithAPolicy() {
        const QString db = dir_.filePath("planned.sqlite");
        const Run prof = run({"profile", "--db", db, "--repeats", "7", "--span", "1", "--json"}, 300000);
        QVERIFY2(prof.code == 0, prof.err.constData());
        const QJsonObject p = QJsonDocument::fromJson(prof.out).object();
        QVERIFY(p["nodes"].toObject().contains("device") && p["nodes"].toObject().contains("edge"));
        QVERIFY(p["message_overhead_ms"].toDouble() > 0.0);
        // Each node's fixed cost of a slice is reported and stored with its profile, the same
        // figure in both.
        for (const char* node : {"device", "edge"}) {
            const QJsonValue slice = p["nodes"].toObject()[node].toObject()["slice_ms"];
            QVERIFY2(slice.isDouble() && slice.toDouble() >= 0.0 && slice.toDouble() < 100.0, node);
            const double stored = edgent::test::scalar(
                db.toStdString(), "SELECT slice_ms FROM profiles WHERE node='" + std::string(node) + "'");
            QVERIFY2(std::abs(stored - slice.toDouble()) < 1e-9, node);
        }
        // Each profile records how its repeats were taken: 25 passes asked (the default; with 7
        // repeats and the sweep's 11 it makes 11), paced over 1 s.
        QCOMPARE(edgent::test::scalar(db.toStdString(), "SELECT count(*) FROM profiles WHERE spread=25 AND span_s=1"), 2.0);
        QSet<QString> kinds;
        for (const auto& v : p["regressions"].toArray())
            if (v.toObject()["node"].toString() == "device") kinds << v.toObject()["kind"].toString();
        for (const char* k : {"conv", "relu", "maxpool", "lrn", "dropout", "fc"}) QVERIFY2(kinds.contains(k), k);

        for (const char* policy : {"edgent", "device-only", "edge-only", "partition-only", "exit-only"}) {
            const Run plan =
                run({"plan", "--db", db, "--bandwidth", "400kbps", "--deadline", "200ms", "--policy", policy, "--json"});
            QVERIFY2(plan.code == 0, plan.err.constData());
            const QJsonObject o = QJsonDocument::fromJson(plan.out).object();
            for (const char* key : {"exit", "partition", "predicted_ms", "accuracy", "feasible", "policy"})
                QVERIFY2(o.contains(key), key);
            QCOMPARE(o["policy"].toString(), QString(policy));
            QVERIFY(o["predicted_ms"].toDouble() > 0.0);
        }
        // The predictor "auto" resolves to the measured tails for the profiled model, and to the fitted
        // forest for a model never profiled; the plan says which.
        const Run own = run({"plan", "--db", db, "--bandwidth", "400kbps", "--deadline", "200ms", "--json"});
        QVERIFY2(own.code == 0, own.err.constData());
        QCOMPARE(QJsonDocument::fromJson(own.out).object()["predictor"].toString(), QString("lookup-p95"));
        const Run unseen = run({"plan", "--db", db, "--model", edgent::test::dataPath("tiny.json"), "--bandwidth", "400kbps",
                                "--deadline", "200ms", "--policy", "device-only", "--json"});
        QVERIFY2(unseen.code == 0, unseen.err.constData());
        const QJsonObject u = QJsonDocument::fromJson(unseen.out).object();
        QCOMPARE(u["predictor"].toString(), QString("forest-p95"));
        QVERIFY(u["predicted_ms"].toDouble() > 0.0);
        const Run unseenText = run({"plan", "--db", db, "--model", edgent::test::dataPath("tiny.json"), "--bandwidth",
                                    "400kbps", "--deadline", "200ms", "--policy", "device-only"});
        QVERIFY2(unseenText.out.contains("latency model: forest-p95 (predicted from the layers' configurations"),
                 unseenText.out.constData());
        // The tail-aware predictor never predicts less than the medians, and more where layers vary.
        for (const char* policy : {"device-only", "edge-only"}) {
            QJsonObject o[2];
            int i = 0;
            for (const char* predictor : {"lookup", "lookup-p95"}) {
                const Run plan = run({"plan", "--db", db, "--bandwidth", "400kbps", "--deadline", "200ms", "--policy", policy,
                                      "--predictor", predictor, "--json"});
                QVERIFY2(plan.code == 0, plan.err.constData());
                o[i++] = QJsonDocument::fromJson(plan.out).object();
            }
            QCOMPARE(o[1]["exit"].toInt(), o[0]["exit"].toInt());
            QCOMPARE(o[1]["partition"].toInt(), o[0]["partition"].toInt());
            QVERIFY2(o[1]["predicted_ms"].toDouble() > o[0]["predicted_ms"].toDouble(),
                     qPrintable(QStringLiteral("%1: p95 %2 ms, median %3 ms")
                                    .arg(policy)
                                    .arg(o[1]["predicted_ms"].toDouble())
                                    .arg(o[0]["predicted_ms"].toDouble())));
        }
        expectOneLineError(run({"plan", "--db", db, "--bandwidth", "400kbps", "--deadline", "200ms", "--predictor", "p99"}),
                           "unknown predictor 'p99' (auto, lookup-p95, lookup, forest-p95, forest, regression-p95, regression, regression-macs)");
        const Run planned = run({"run", "--db", db, "--policy", "edgent", "--bandwidth", "400kbps", "--deadline", "200ms",
                                 "--count", "10", "--json"});
        QVERIFY2(planned.code == 0, planned.err.constData());
        const QJsonObject r = QJsonDocument::fromJson(planned.out).object();
        QCOMPARE(r["policy"].toString(), QStringLiteral("edgent"));
        QVERIFY(r["predicted_ms"].toDouble() > 0.0);
        const Run plan = run({"plan", "--db", db, "--bandwidth", "400kbps", "--deadline", "200ms", "--json"});
        const QJsonObject po = QJsonDocument::fromJson(plan.out).object();
        QCOMPARE(r["exit"].toInt(), po["exit"].toInt());
        QCOMPARE(r["partition"].toInt(), po["partition"].toInt());
        // Each sample carries the prediction it ran under.
        const QString csv = dir_.filePath("planned.csv");
        QVERIFY(run({"export", "--db", db, "--run", QString::number(r["run_id"].toInt()), "--out", csv}).code == 0);
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), 11);
        QVERIFY(std::abs(lines[1].split(',')[16].toDouble() - r["predicted_ms"].toDouble()) <
                1e-6 * r["predicted_ms"].toDouble());
    }

    void sweepWritesOneStoredRunPerGridPoint() {
        const QString db = dir_.filePath("planned.sqlite");  // profiled by the test above
        const QString table = dir_.filePath("sweep.csv");
        const Run r = run({"sweep", "--db", db, "--bandwidths", "400kbps,5Mbps", "--deadlines", "50ms", "--policies",
                           "edgent,edge-only", "--count", "3", "--out", table, "--json"});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonArray points = QJsonDocument::fromJson(r.out).object()["points"].toArray();
        QCOMPARE(points.size(), 4);
        QFile f(table);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), 5);
        QVERIFY(lines[0].startsWith("bandwidth_bps,deadline_ms,policy,exit,partition,feasible,predicted_ms"));
        for (const auto& v : points) {
            const QJsonObject o = v.toObject();
            if (o["policy"].toString() == "edge-only") QCOMPARE(o["partition"].toInt(), 0);
            const Run show = run({"runs", "show", QString::number(o["run_id"].toInt()), "--db", db, "--json"});
            const QJsonObject s = QJsonDocument::fromJson(show.out).object();
            QCOMPARE(s["inferences"].toInt(), 3);
            QCOMPARE(s["policy"].toString(), o["policy"].toString());
        }
        expectOneLineError(run({"sweep", "--db", db, "--bandwidths", "fast", "--deadlines", "50ms", "--out", table}),
                           "--bandwidths must be positive");
        expectOneLineError(run({"sweep", "--db", db, "--bandwidths", "1Mbps", "--deadlines", "0ms", "--out", table}),
                           "--deadlines must be positive");
        expectOneLineError(
            run({"sweep", "--db", db, "--bandwidths", "1Mbps", "--deadlines", "5ms", "--policies", "greedy", "--out", table}),
            "unknown policy 'greedy'");
    }

    void sweepOverDeviceCountsWritesOneStoredFleetPerPoint() {
        const QString db = dir_.filePath("planned.sqlite");  // profiled by the test above
        const QString table = dir_.filePath("fleets.csv");
        const Run r = run({"sweep", "--db", db, "--bandwidths", "5Mbps", "--deadlines", "200ms", "--devices", "1,2", "--plannings",
                           "joint", "--edges", "2", "--count", "4", "--rate", "50", "--out", table, "--json"});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonArray fleets = QJsonDocument::fromJson(r.out).object()["fleets"].toArray();
        QCOMPARE(fleets.size(), 2);
        QFile f(table);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), 3);
        QVERIFY(lines[0].startsWith("fleet_id,devices,planning,edges,edge_servers,bandwidth_bps,deadline_ms,inferences"));
        for (int i = 0; i < 2; ++i) {
            const QList<QByteArray> cells = lines[i + 1].split(',');
            QCOMPARE(cells[1].toInt(), i + 1);
            QCOMPARE(cells[2], QByteArray("joint"));
            QCOMPARE(cells[3].toInt(), 2);            // two edges spawned
            QCOMPARE(cells[7].toInt(), 4 * (i + 1));  // every device's inferences
            const std::string id = cells[0].toStdString();
            QCOMPARE(edgent::test::scalar(db.toStdString(), "SELECT count(*) FROM fleet_devices WHERE fleet_id=" + id),
                     static_cast<double>(i + 1));
            QCOMPARE(edgent::test::scalar(db.toStdString(),
                                          "SELECT count(*) FROM fleets WHERE status='finished' AND planning='joint' AND id=" + id),
                     1.0);
            // Device d on edge d mod 2, each edge polled on its own.
            QCOMPARE(edgent::test::scalar(db.toStdString(), "SELECT count(*) FROM fleet_devices WHERE edge=device AND fleet_id=" + id),
                     static_cast<double>(i + 1));
            QVERIFY(edgent::test::scalar(db.toStdString(), "SELECT count(DISTINCT edge) FROM fleet_edge WHERE fleet_id=" + id) == 2.0);
        }
        expectOneLineError(run({"sweep", "--db", db, "--bandwidths", "1Mbps", "--deadlines", "50ms", "--plannings", "joint",
                                "--out", table}),
                           "--plannings needs --devices");
        expectOneLineError(run({"sweep", "--db", db, "--bandwidths", "1Mbps", "--deadlines", "50ms", "--devices", "2",
                                "--policies", "edge-only", "--out", table}),
                           "give --plannings independent");
        expectOneLineError(run({"sweep", "--db", db, "--bandwidths", "1Mbps", "--deadlines", "50ms", "--devices", "2",
                                "--policies", "edgent,edge-only", "--out", table}),
                           "one static policy");
        expectOneLineError(run({"sweep", "--db", db, "--bandwidths", "1Mbps", "--deadlines", "50ms", "--devices", "0,2",
                                "--out", table}),
                           "--devices must list device counts");
        expectOneLineError(run({"sweep", "--db", db, "--bandwidths", "1Mbps", "--deadlines", "50ms", "--devices", "2", "--edges",
                                "0", "--out", table}),
                           "--edges must list edge counts from 1 to 16");

        // The two-device fleet planned anew at its own size and at 50 devices, per planning.
        const QString pair = QString::fromUtf8(lines[2].split(',')[0]);
        const Run sim = run({"fleet-sim", "--db", db, "--fleet", pair, "--devices", "50", "--replan", "joint,independent", "--json"});
        QVERIFY2(sim.code == 0, sim.err.constData());
        const QJsonObject projected = QJsonDocument::fromJson(sim.out).object();
        const QJsonArray planned = projected["planned"].toArray();
        QCOMPARE(planned.size(), 4);
        QCOMPARE(projected["bandwidth_bps"].toDouble(), 5e6);
        QCOMPARE(projected["edges"].toInt(), 2);
        QVERIFY(projected["device_scale"].toDouble() > 0.0);
        const QStringList order{"joint/2", "joint/50", "independent/2", "independent/50"};
        for (int i = 0; i < 4; ++i) {
            const QJsonObject x = planned[i].toObject();
            QCOMPARE(x["planning"].toString() + "/" + QString::number(x["devices"].toInt()), order[i]);
            QVERIFY(x["hit_rate"].toDouble() >= 0.0 && x["hit_rate"].toDouble() <= 1.0);
            QVERIFY(x["throughput_hz"].toDouble() > 0.0);
            QVERIFY(x["offloading"].toInt() >= 0 && x["offloading"].toInt() <= x["devices"].toInt());
        }
        // Its samples exported: one device's, by its number in the fleet.
        const QString samples = dir_.filePath("fleet-samples.csv");
        const Run exported = run({"export", "--db", db, "--fleet", pair, "--devices", "1", "--out", samples, "--json"});
        QVERIFY2(exported.code == 0, exported.err.constData());
        QCOMPARE(QJsonDocument::fromJson(exported.out).object()["runs"].toInt(), 1);
        QFile sf(samples);
        QVERIFY(sf.open(QIODevice::ReadOnly));
        const QList<QByteArray> rows = sf.readAll().trimmed().split('\n');
        QVERIFY(rows[0].endsWith(",device"));
        QCOMPARE(rows.size(), 5);  // the header and device 1's four inputs
        for (int i = 1; i < rows.size(); ++i) QCOMPARE(rows[i].split(',').last(), QByteArray("1"));
        expectOneLineError(run({"export", "--db", db, "--fleet", pair, "--devices", "5", "--out", samples}), "has no device 5");
        expectOneLineError(run({"export", "--db", db, "--fleet", pair, "--out", dir_.filePath("fleet.json")}),
                           "a fleet exports as .csv");
        expectOneLineError(run({"export", "--db", db, "--run", "1", "--devices", "1", "--out", samples}), "give --fleet");
        expectOneLineError(run({"fleet-sim", "--db", db, "--fleet", pair, "--replan", "greedy"}),
                           "--replan must list joint, paced or independent");
        expectOneLineError(run({"run", "--db", db, "--policy", "edgent", "--deadline", "50ms", "--devices", "2", "--measure-only"}),
                           "--measure-only needs --device-list");
    }

    // Running workers as a fleet: --device-list with --edge, each link shaped outside the
    // workbench (--measure-only): planned at --bandwidth, nothing shaped in software.
    void aFleetOfRunningDevicesOverLinksShapedOutside() {
        const QString db = dir_.filePath("planned.sqlite");  // profiled above
        edgent::core::control::SpawnedWorker edge, edge2, a, b;
        QVERIFY(edgent::core::control::spawnWorker(edge, edgent::core::net::Role::Edge, 1, {}).ok());
        QVERIFY(edgent::core::control::spawnWorker(edge2, edgent::core::net::Role::Edge, 1, {}).ok());
        QVERIFY(edgent::core::control::spawnWorker(a, edgent::core::net::Role::Device, 1, {}).ok());
        QVERIFY(edgent::core::control::spawnWorker(b, edgent::core::net::Role::Device, 1, {}).ok());
        const QString devices = QString::fromStdString(a.controlEndpoint + "," + b.controlEndpoint);
        const QString edgeEp = QString::fromStdString(edge.controlEndpoint);
        // Two running edges: device 0 on the first, device 1 on the second.
        const Run r = run({"run", "--db", db, "--policy", "edgent", "--deadline", "200ms", "--bandwidth", "5Mbps", "--device-list",
                           devices, "--edge", edgeEp + "," + QString::fromStdString(edge2.controlEndpoint), "--measure-only",
                           "--count", "4", "--json"});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonObject fleet = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(fleet["devices"].toInt(), 2);
        QCOMPARE(fleet["inferences"].toInt(), 8);
        QCOMPARE(fleet["edges"].toInt(), 2);
        for (const auto& d : fleet["per_device"].toArray()) {
            QCOMPARE(d.toObject()["bandwidth_bps"].toDouble(), 5e6);
            QCOMPARE(d.toObject()["edge"].toInt(), d.toObject()["device"].toInt());
        }
        const std::string id = QString::number(fleet["fleet_id"].toInteger()).toStdString();
        QCOMPARE(edgent::test::scalar(db.toStdString(), "SELECT count(*) FROM samples WHERE bandwidth_bps <> 0 AND run_id IN "
                                                        "(SELECT run_id FROM fleet_devices WHERE fleet_id=" + id + ")"),
                 0.0);
        QVERIFY(a.process.running() && b.process.running() && edge.process.running() && edge2.process.running());
        expectOneLineError(run({"run", "--db", db, "--policy", "edgent", "--deadline", "200ms", "--device-list", devices}),
                           "--device-list needs --edge");
        expectOneLineError(run({"run", "--db", db, "--policy", "edgent", "--deadline", "200ms", "--device-list", devices,
                                "--edge", edgeEp, "--edges", "2"}),
                           "list the running ones in --edge");
        expectOneLineError(run({"run", "--db", db, "--policy", "edgent", "--deadline", "200ms", "--device-list", devices,
                                "--edge", edgeEp, "--device", QString::fromStdString(a.controlEndpoint)}),
                           "takes --device-list and --edge, not --device");
    }

    void planRefusesBadInput() {
        const QString noProfile = dir_.filePath("no-profile.sqlite");
        QVERIFY(run({"run", "--db", noProfile, "--count", "1"}).code == 0);
        expectOneLineError(run({"plan", "--db", noProfile, "--bandwidth", "1Mbps", "--deadline", "100ms"}),
                           "run edgent profile first");
        expectOneLineError(run({"plan", "--db", noProfile, "--bandwidth", "1Mbps", "--deadline", "100ms", "--policy", "fastest"}),
                           "unknown policy 'fastest'");
        expectOneLineError(run({"plan", "--db", noProfile, "--bandwidth", "0Mbps", "--deadline", "100ms"}),
                           "--bandwidth must be positive");
        expectOneLineError(run({"plan", "--db", noProfile, "--bandwidth", "-5Mbps", "--deadline", "100ms"}),
                           "--bandwidth must be positive");
        expectOneLineError(run({"plan", "--db", noProfile, "--bandwidth", "1Mbps", "--deadline", "0ms"}),
                           "--deadline must be positive");
        expectOneLineError(run({"run", "--db", noProfile, "--policy", "edgent", "--bandwidth", "1Mbps"}),
                           "--policy needs --deadline");
    }

    void badDatabasesGetOneLineAndStayUntouched() {
        for (const char* fixture : {"corrupt.sqlite", "not-a-database.sqlite"}) {
            const QString copy = dir_.filePath(QStringLiteral("bad-%1").arg(fixture));
            QVERIFY(QFile::copy(edgent::test::dataPath(fixture), copy));
            QFile::setPermissions(copy, QFile::ReadOwner | QFile::WriteOwner);
            const QByteArray before = fileHash(copy);
            expectOneLineError(run({"runs", "list", "--db", copy}), "database");
            expectOneLineError(run({"run", "--db", copy, "--count", "1"}), "database");
            QCOMPARE(fileHash(copy), before);
        }
        const QString db = dir_.filePath("v1-copy.sqlite");
        QVERIFY(QFile::copy(edgent::test::dataPath("runs-v1.sqlite"), db));
        QFile::setPermissions(db, QFile::ReadOwner | QFile::WriteOwner);
        expectOneLineError(run({"export", "--db", db, "--run", "42", "--out", dir_.filePath("x.csv")}), "has no run 42");
        expectOneLineError(run({"export", "--db", db, "--run", "1", "--out", "/nonexistent-dir/x.csv"}), "cannot write");
#ifdef EDGENT_HAVE_WIDGETS
        expectOneLineError(run({"export", "--db", db, "--run", "1", "--out", "/nonexistent-dir/x.png"}), "cannot write");
#endif
    }

    void runUsesWorkersThatAreAlreadyRunning() {
        edgent::core::control::SpawnedWorker device, edge;
        QVERIFY(edgent::core::control::spawnWorker(edge, edgent::core::net::Role::Edge, 1, {}).ok());
        QVERIFY(edgent::core::control::spawnWorker(device, edgent::core::net::Role::Device, 1, {}).ok());
        const Run r = run({"run", "--device", QString::fromStdString(device.controlEndpoint), "--edge",
                           QString::fromStdString(edge.controlEndpoint), "--db", dir_.filePath("remote.sqlite"), "--exit", "0",
                           "--partition", "3", "--count", "10", "--json"});
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(QJsonDocument::fromJson(r.out).object()["inferences"].toInt(), 10);
        // Workers the CLI did not start keep running after the run.
        QVERIFY(device.process.running() && edge.process.running());
        expectOneLineError(run({"run", "--device", QString::fromStdString(device.controlEndpoint), "--count", "1"}),
                           "--device and --edge go together");
        expectOneLineError(
            run({"run", "--device", QString::fromStdString(edge.controlEndpoint), "--edge",
                 QString::fromStdString(edge.controlEndpoint), "--db", dir_.filePath("wrong.sqlite"), "--count", "1"}),
            "not a device worker");
    }

    void ctrlCDuringTrainingSavesACheckpoint() {
        QProcess p;
        const QString out = dir_.filePath("interrupted.json");
        p.start(QStringLiteral(EDGENT_CLI_PATH),
                {"train", "--out", out, "--train-limit", "20000", "--eval-limit", "200", "--epochs", "3", "--threads", "1"});
        QVERIFY(p.waitForStarted(5000));
        // Wait for the first progress line, then interrupt as a terminal would.
        QByteArray err;
        for (int i = 0; i < 300 && !err.contains("epoch 1/3"); ++i) {
            p.waitForReadyRead(100);
            err += p.readAllStandardError();
        }
        QVERIFY2(err.contains("batch"), err.constData());
        ::kill(static_cast<pid_t>(p.processId()), SIGINT);
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 130);
        err += p.readAllStandardError();
        QVERIFY2(err.contains("checkpoint saved to"), err.constData());
        QVERIFY(QFile::exists(dir_.filePath("interrupted.checkpoint.json")));
        QVERIFY(QFile::exists(dir_.filePath("interrupted.checkpoint.weights")));
        QVERIFY(!QFile::exists(out));
        const Run eval = run({"eval", "--model", dir_.filePath("interrupted.checkpoint.json"), "--limit", "100", "--json"});
        QVERIFY2(eval.code == 0, eval.err.constData());
    }

    void aWorkerKilledMidRunEndsTheRunWithItsNameAndKeepsTheSamples() {
        const QString db = dir_.filePath("killed.sqlite");
        QProcess p;
        p.start(QStringLiteral(EDGENT_CLI_PATH),
                {"run", "--db", db, "--exit", "4", "--partition", "8", "--count", "100000", "--rate", "50", "--json"});
        QVERIFY(p.waitForStarted(5000));
        QList<qint64> edges;
        for (int i = 0; i < 100 && edges.isEmpty(); ++i) {
            QTest::qWait(100);
            edges = childrenWith(p.processId(), "--role edge");
        }
        QCOMPARE(edges.size(), 1);
        // Let samples flow: the kill comes once the database holds more than 10 of them.
        int stored = 0;
        for (int i = 0; i < 300 && stored <= 10; ++i) {
            QTest::qWait(100);
            sqlite3* reader = nullptr;
            if (sqlite3_open_v2(db.toLocal8Bit().constData(), &reader, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
                sqlite3_stmt* q = nullptr;
                if (sqlite3_prepare_v2(reader, "SELECT count(*) FROM samples", -1, &q, nullptr) == SQLITE_OK &&
                    sqlite3_step(q) == SQLITE_ROW)
                    stored = sqlite3_column_int(q, 0);
                sqlite3_finalize(q);
            }
            sqlite3_close(reader);
        }
        QVERIFY2(stored > 10, "no samples were stored within 30 s");
        ::kill(static_cast<pid_t>(edges.first()), SIGKILL);
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitCode(), 1);
        const QByteArray err = p.readAllStandardError();
        QCOMPARE(err.count('\n'), 1);
        QVERIFY2(err.contains("edge worker"), err.constData());
        const QJsonObject o = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
        QCOMPARE(o["status"].toString(), QStringLiteral("failed"));
        QVERIFY(o["inferences"].toInt() > 10);
        sqlite3* handle = nullptr;
        QCOMPARE(sqlite3_open_v2(db.toLocal8Bit().constData(), &handle, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
        sqlite3_stmt* s = nullptr;
        sqlite3_prepare_v2(handle, "SELECT status, error, (SELECT count(*) FROM samples) FROM runs", -1, &s, nullptr);
        QCOMPARE(sqlite3_step(s), SQLITE_ROW);
        QCOMPARE(QByteArray(reinterpret_cast<const char*>(sqlite3_column_text(s, 0))), QByteArray("failed"));
        QVERIFY(QByteArray(reinterpret_cast<const char*>(sqlite3_column_text(s, 1))).contains("edge worker"));
        QCOMPARE(sqlite3_column_int(s, 2), o["inferences"].toInt());
        sqlite3_finalize(s);
        sqlite3_close(handle);
    }

    // A killed controller (here `edgent run`; the window spawns workers the same way) leaves
    // no worker behind, and the next open of the database marks its run interrupted.
    void localWorkersDoNotOutliveAKilledController() {
        const QString db = dir_.filePath("orphans.sqlite");
        QProcess p;
        p.start(QStringLiteral(EDGENT_CLI_PATH), {"run", "--db", db, "--count", "100000", "--rate", "50"});
        QVERIFY(p.waitForStarted(5000));
        QList<qint64> workers;
        for (int i = 0; i < 100 && workers.size() < 2; ++i) {
            QTest::qWait(100);
            workers = childrenWith(p.processId(), "edgent-worker");
        }
        QCOMPARE(workers.size(), 2);
        // Killed once its run is under way: its first samples are stored.
        QVERIFY(edgent::test::waitUntil(
            [&] { return edgent::test::scalar(db.toStdString(), "select count(*) from samples") > 0; }, 30000));
        ::kill(static_cast<pid_t>(p.processId()), SIGKILL);
        QVERIFY(p.waitForFinished(5000));
        for (qint64 pid : workers) {
            bool gone = false;
            for (int i = 0; i < 50 && !gone; ++i) {
                QTest::qWait(100);
                // Gone, or a zombie waiting for init to reap it.
                QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
                gone = !stat.open(QIODevice::ReadOnly) || stat.readAll().contains(") Z ");
            }
            QVERIFY2(gone, qPrintable(QStringLiteral("worker %1 outlived its controller").arg(pid)));
        }
        const Run list = run({"runs", "list", "--db", db, "--json"});
        QVERIFY2(list.out.contains("interrupted"), list.out.constData());
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
