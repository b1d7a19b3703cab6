// `edgent reproduce all --quick` on real local workers: every figure writes its PDF, PNG,
// CSV, page and runs, and each figure's shape as the paper states it holds, read from the
// CSV (not from the picture or from the page's own verdict).
#include "TestUtil.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <map>

using namespace edgent::test;

namespace {

// A CSV file as rows of column name to text (quoted fields hold no commas here but the last).
struct Csv {
    QStringList header;
    std::vector<std::map<QString, QString>> rows;
    double num(size_t row, const char* column) const { return rows[row].at(QString::fromLatin1(column)).toDouble(); }
    QString text(size_t row, const char* column) const {
        QString v = rows[row].at(QString::fromLatin1(column));
        return v.remove(QLatin1Char('"'));
    }
};

Csv readCsv(const QString& path) {
    Csv csv;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return csv;
    const QStringList lines = QString::fromUtf8(f.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    if (lines.isEmpty()) return csv;
    csv.header = lines.first().split(QLatin1Char(','));
    for (int i = 1; i < lines.size(); ++i) {
        const QStringList fields = lines[i].split(QLatin1Char(','));
        std::map<QString, QString> row;
        for (int c = 0; c < csv.header.size() && c < fields.size(); ++c) row[csv.header[c]] = fields[c];
        csv.rows.push_back(std::move(row));
    }
    return csv;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
    double ma = 0, mb = 0;
    const double n = static_cast<double>(a.size());
    for (size_t i = 0; i < a.size(); ++i) ma += a[i] / n, mb += b[i] / n;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / std::sqrt(saa * sbb);
}

}  // namespace

class TestReproduce : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString out_;
    bool inRegime_ = false;

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        out_ = dir_.filePath(QStringLiteral("figures"));
        QElapsedTimer clock;
        clock.start();
        const CliRun r = runCli({"reproduce", "all", "--quick", "--out", out_, "--json"}, 300000);
        QVERIFY2(r.code == 0, r.err.constData());
        // The budget for --quick is three minutes on two cores. Reported, not asserted:
        // the host's slow stretches moved this from 93 to 181 s between clean runs, and a
        // performance figure belongs in a bench; the wait above is bounded at 5 minutes.
        qInfo("edgent reproduce all --quick took %.1f s (budget 180 s)", static_cast<double>(clock.elapsed()) / 1000.0);
        const QJsonArray figures = QJsonDocument::fromJson(r.out).object()[QStringLiteral("figures")].toArray();
        QCOMPARE(figures.size(), 7);
        // Whether the scaling reached the paper's regime (the host's drift can stop it short).
        for (const QJsonValue& c : figures.first().toObject()[QStringLiteral("checks")].toArray())
            if (c.toObject()[QStringLiteral("statement")].toString().contains(QStringLiteral("paper's regime")))
                inRegime_ = c.toObject()[QStringLiteral("holds")].toBool();
    }

    void everyFigureLeavesItsFiles() {
        for (const char* name : {"edgent-fig6", "edgent-fig7", "edgent-fig8", "edgent-fig9", "edgent-dynamic",
                                 "branchynet-table1", "appealnet"}) {
            for (const char* suffix : {".csv", ".md", ".pdf", ".png"}) {
                const QString path = out_ + QLatin1Char('/') + QLatin1String(name) + QLatin1String(suffix);
                QVERIFY2(QFileInfo(path).size() > 100, qPrintable(path));
            }
            QFile page(out_ + QLatin1Char('/') + QLatin1String(name) + QLatin1String(".md"));
            QVERIFY(page.open(QIODevice::ReadOnly));
            const QByteArray md = page.readAll();
            QVERIFY(md.contains("| The paper | Ours | Holds |"));
            QVERIFY(md.contains("Fashion-MNIST"));
            QVERIFY(md.contains("emulated"));  // the slow device is labelled on every page
            QVERIFY(md.contains("edgent reproduce all --quick"));
        }
        QVERIFY(QFileInfo(out_ + QStringLiteral("/runs.sqlite")).size() > 0);
        QVERIFY(QFileInfo(out_ + QStringLiteral("/README.md")).size() > 0);
    }

    // Fig. 6: the exit rises with bandwidth.
    void fig6TheExitRisesWithBandwidth() {
        const Csv csv = readCsv(out_ + QStringLiteral("/edgent-fig6.csv"));
        QVERIFY(csv.rows.size() >= 5);
        for (size_t i = 1; i < csv.rows.size(); ++i) {
            QVERIFY(csv.num(i, "bandwidth_bps") > csv.num(i - 1, "bandwidth_bps"));
            QVERIFY2(csv.num(i, "exit") >= csv.num(i - 1, "exit"), qPrintable(QStringLiteral("row %1").arg(i)));
        }
        // The rise needs the paper's regime: out of it (the page says so) every bandwidth may
        // afford the final exit.
        if (!inRegime_) QSKIP("the scaling ended outside the paper's regime; the exit's rise is not expected");
        QVERIFY(csv.num(csv.rows.size() - 1, "exit") > csv.num(0, "exit"));
    }

    // Fig. 7: prediction tracks measurement. The page holds the paper's claim to r >= 0.9;
    // the test asks r >= 0.8, because --quick measures five bandwidths, a second or two
    // each, and the host's cores run at about half speed for seconds at a time
    // (edgent-bench-drift, docs/latency-models.md): one of five points measured 1.8x slow
    // brings a typical run's r (0.99) down to 0.85-0.99, depending on the point. A
    // prediction that ignored the transfer or the plan would still fall far below 0.8.
    void fig7PredictionTracksMeasurement() {
        const Csv csv = readCsv(out_ + QStringLiteral("/edgent-fig7.csv"));
        QVERIFY(csv.rows.size() >= 5);
        std::vector<double> predicted, measured;
        for (size_t i = 0; i < csv.rows.size(); ++i) {
            predicted.push_back(csv.num(i, "predicted_typical_ms"));
            measured.push_back(csv.num(i, "latency_ms_p50"));
            QVERIFY(measured.back() > 0);
        }
        const double r = pearson(predicted, measured);
        QVERIFY2(r >= 0.8, qPrintable(QStringLiteral("r = %1").arg(r)));
    }

    // Fig. 8: accuracy does not fall as the deadline grows.
    void fig8AccuracyDoesNotFallWithTheDeadline() {
        const Csv csv = readCsv(out_ + QStringLiteral("/edgent-fig8.csv"));
        QVERIFY(csv.rows.size() >= 5);
        double last = -1;
        for (size_t i = 0; i < csv.rows.size(); ++i) {
            QCOMPARE(csv.num(i, "bandwidth_bps"), 500e3);
            const double acc = csv.num(i, "feasible") > 0 ? csv.num(i, "exit_accuracy") : 0.0;
            QVERIFY2(acc >= last, qPrintable(QStringLiteral("row %1: %2 after %3").arg(i).arg(acc).arg(last)));
            last = acc;
        }
    }

    // Fig. 9: Edgent is at least every feasible baseline; infeasible points are marked
    // (feasible = 0), and device-only meets none of the scaled 100-1000 ms deadlines.
    void fig9EdgentBeatsEveryFeasibleBaseline() {
        const Csv csv = readCsv(out_ + QStringLiteral("/edgent-fig9.csv"));
        std::map<double, std::map<QString, std::pair<bool, double>>> byDeadline;
        for (size_t i = 0; i < csv.rows.size(); ++i)
            byDeadline[csv.num(i, "paper_deadline_ms")][csv.text(i, "policy")] = {csv.num(i, "feasible") > 0,
                                                                                  csv.num(i, "exit_accuracy")};
        QVERIFY(byDeadline.size() >= 5);
        int infeasible = 0;
        for (const auto& [deadline, policies] : byDeadline) {
            QCOMPARE(policies.size(), size_t(5));
            const auto& edgent = policies.at(QStringLiteral("edgent"));
            QVERIFY(!policies.at(QStringLiteral("device-only")).first);
            for (const auto& [name, point] : policies) {
                infeasible += !point.first;
                if (name == QLatin1String("edgent") || !point.first) continue;
                QVERIFY2(edgent.first && edgent.second >= point.second,
                         qPrintable(QStringLiteral("%1 beats edgent at %2 ms").arg(name).arg(deadline)));
            }
        }
        QVERIFY(infeasible > 0);
    }

    // The dynamic mode: following the bandwidth meets the deadline at least as often as a plan
    // made once, and exits with partitioning beat partitioning alone on timely inferences.
    void dynamicModeFollowsTheTrace() {
        const Csv csv = readCsv(out_ + QStringLiteral("/edgent-dynamic.csv"));
        std::map<QString, std::pair<double, double>> hits;  // run: hits, inferences
        for (size_t i = 0; i < csv.rows.size(); ++i) {
            const double n = csv.num(i, "inferences");
            if (n <= 0) continue;
            auto& h = hits[csv.text(i, "run")];
            h.first += csv.num(i, "deadline_hit_rate") * n;
            h.second += n;
        }
        QCOMPARE(hits.size(), size_t(3));
        auto rate = [&](const char* run) {
            const auto& h = hits.at(QString::fromLatin1(run));
            return h.first / h.second;
        };
        // Two points of slack: when the static plan never misses, the two tie but for the
        // odd sample near the deadline.
        QVERIFY2(rate("Edgent dynamic") >= rate("Edgent static") - 0.02,
                 qPrintable(QStringLiteral("dynamic %1, static %2").arg(rate("Edgent dynamic")).arg(rate("Edgent static"))));
        QVERIFY2(rate("Edgent dynamic") >= rate("partition-only dynamic") - 0.02,
                 qPrintable(QStringLiteral("dynamic %1, partition-only %2")
                                .arg(rate("Edgent dynamic"))
                                .arg(rate("partition-only dynamic"))));
    }

    // BranchyNet's Table 1: entropy exits are faster than the final exit alone on the same
    // device, and (at the quick run's resolution of 30 images) not less accurate by more than
    // two images.
    void branchynetEntropyExitsAreFaster() {
        const Csv csv = readCsv(out_ + QStringLiteral("/branchynet-table1.csv"));
        QCOMPARE(csv.rows.size(), size_t(2));
        QCOMPARE(csv.text(0, "configuration"), QStringLiteral("final exit alone"));
        QVERIFY(csv.num(1, "threshold") > 0);
        QVERIFY2(csv.num(1, "latency_ms_mean") < csv.num(0, "latency_ms_mean"),
                 qPrintable(QStringLiteral("%1 ms against %2 ms").arg(csv.num(1, "latency_ms_mean")).arg(csv.num(0, "latency_ms_mean"))));
        const double image = 1.0 / csv.num(0, "inferences");
        QVERIFY(csv.num(1, "measured_accuracy") >= csv.num(0, "measured_accuracy") - 2 * image - 1e-9);
    }

    // AppealNet: every rule appeals about the fraction of test inputs its validation
    // threshold was set for, more with a higher rate, and both baselines are there.
    void appealnetRulesAppealWhatTheyWereSetFor() {
        const Csv csv = readCsv(out_ + QStringLiteral("/appealnet.csv"));
        std::map<QString, std::vector<std::pair<double, double>>> byRule;  // rate, measured offload
        int baselines = 0;
        for (size_t i = 0; i < csv.rows.size(); ++i) {
            const QString rule = csv.text(i, "rule");
            QVERIFY(csv.num(i, "energy_mj_mean") > 0);
            if (rule == QLatin1String("offload-all") || rule == QLatin1String("static")) {
                ++baselines;
                continue;
            }
            byRule[rule].emplace_back(csv.num(i, "appeal_rate"), csv.num(i, "offload_rate"));
        }
        QCOMPARE(baselines, 2);
        QCOMPARE(byRule.size(), size_t(3));
        for (const auto& [rule, points] : byRule) {
            QVERIFY(points.size() >= 2);
            for (size_t i = 0; i < points.size(); ++i) {
                QVERIFY2(std::abs(points[i].second - points[i].first) <= 0.15,
                         qPrintable(QStringLiteral("%1 at %2: %3 appealed").arg(rule).arg(points[i].first).arg(points[i].second)));
                if (i) QVERIFY(points[i].second > points[i - 1].second);
            }
        }
    }

    void anUnknownFigureIsOneLine() {
        const CliRun r = runCli({"reproduce", "edgent-fig5", "--out", dir_.filePath(QStringLiteral("x"))});
        QCOMPARE(r.code, 1);
        QCOMPARE(r.err.count('\n'), 1);
        QVERIFY(r.err.contains("unknown figure 'edgent-fig5'"));
        QVERIFY(!QDir(dir_.filePath(QStringLiteral("x"))).exists());
    }
};

QTEST_GUILESS_MAIN(TestReproduce)
#include "tst_reproduce.moc"
