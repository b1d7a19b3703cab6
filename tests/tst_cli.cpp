// The command-line contract: --help, --json, and one clear stderr line with a non-zero exit.
#include "TestUtil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

class TestCli : public QObject {
    Q_OBJECT

    struct Run {
        int code = -1;
        QByteArray out;
        QByteArray err;
    };

    static Run run(const QStringList& args, int timeoutMs = 120000) {
        QProcess p;
        p.start(QStringLiteral(EDGENT_CLI_PATH), args);
        Run r;
        if (!p.waitForFinished(timeoutMs)) {
            p.kill();
            p.waitForFinished(5000);
            return r;
        }
        r.code = p.exitCode();
        r.out = p.readAllStandardOutput();
        r.err = p.readAllStandardError();
        return r;
    }

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
        expectOneLineError(run({"eval", "--model", edgent::test::dataPath("bad-inconsistent-shapes.json")}),
                           "does not match");
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
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
