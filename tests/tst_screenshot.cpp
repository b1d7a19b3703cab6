// The scripted demo (`edgent-workbench --run-for S --screenshot FILE.png`) under a real X
// server (xvfb-run): it starts local workers, profiles on first use, runs the default
// experiment through a few bandwidth settings and saves a screenshot, which must be a
// non-blank PNG of the window's size.
#include <QDir>
#include <QFile>
#include <QImage>
#include <QProcess>
#include <QSet>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

class TestScreenshot : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void scriptedDemoSavesANonBlankScreenshot() {
        const QString xvfb = QStandardPaths::findExecutable("xvfb-run");
        if (xvfb.isEmpty()) QFAIL("xvfb-run is missing: scripts/install-deps.sh installs it (package xvfb)");
        QTemporaryDir dir;
        const QString png = dir.filePath("demo.png");
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove("QT_QPA_PLATFORM");                          // a real X display, not offscreen
        env.insert("XDG_CONFIG_HOME", dir.filePath("config"));  // no settings of the user's
        env.insert("XDG_DATA_HOME", dir.filePath("data"));
        p.setProcessEnvironment(env);
        // The first-use profile unpaced (--span 0), to keep the test short.
        QDir().mkpath(dir.filePath("config/edgent-workbench"));
        QFile settings(dir.filePath("config/edgent-workbench/edgent-workbench.conf"));
        QVERIFY(settings.open(QIODevice::WriteOnly) && settings.write("[profile]\nspan_s=0\n") > 0);
        settings.close();
        p.start(xvfb, {"-a", "-s", "-screen 0 1600x1000x24", EDGENT_WORKBENCH_PATH, "--db", dir.filePath("demo.sqlite"),
                       "--run-for", "8", "--screenshot", png});
        QVERIFY(p.waitForFinished(300000));
        const QByteArray err = p.readAllStandardError();
        QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, err.constData());
        QVERIFY2(p.readAllStandardOutput().contains("screenshot"), err.constData());
        QImage image(png);
        QVERIFY2(!image.isNull(), "the screenshot is not a readable PNG");
        QCOMPARE(image.size(), QSize(1500, 950));
        // Non-blank: many colours, and no single colour covering almost everything.
        QHash<QRgb, int> counts;
        for (int y = 0; y < image.height(); y += 3)
            for (int x = 0; x < image.width(); x += 3) ++counts[image.pixel(x, y)];
        int most = 0;
        for (int c : counts) most = std::max(most, c);
        const int total = ((image.height() + 2) / 3) * ((image.width() + 2) / 3);
        QVERIFY2(counts.size() > 64, qPrintable(QString("%1 colours").arg(counts.size())));
        QVERIFY2(most < total * 0.9, "one colour covers 90% of the screenshot");
    }
};

QTEST_GUILESS_MAIN(TestScreenshot)
#include "tst_screenshot.moc"
