// Energy sensors: the RAPL counter's wrap, INA219 power integration, and discovery under a
// sysfs tree (a temporary folder laid out as /sys is).
#include "TestUtil.h"

#include "core/energy/EnergySensor.h"
#include "core/energy/PowerModel.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <thread>

using namespace edgent::core::energy;

class TestEnergy : public QObject {
    Q_OBJECT

    // Writes a fixture file; the caller checks the result (a QVERIFY in here would only
    // return from this helper, and the test would go on).
    [[nodiscard]] static bool put(const QString& path, const QByteArray& text) {
        QDir().mkpath(QFileInfo(path).path());
        QFile f(path);
        return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(text) == text.size();
    }

private Q_SLOTS:
    void counterDeltaUndoesTheWrap() {
        QCOMPARE(counterDelta(100, 250, 1000), uint64_t(150));
        QCOMPARE(counterDelta(900, 50, 1000), uint64_t(150));  // wrapped once
        QCOMPARE(counterDelta(0, 0, 1000), uint64_t(0));
        // The range of a real zone (2^32 uJ is about 4,295 J) and a wrap across it.
        const uint64_t range = 262143328850ULL;
        QCOMPARE(counterDelta(range - 10, 5, range), uint64_t(15));
    }

    void raplReaderAccumulatesAcrossAWrap() {
        QTemporaryDir sys;
        const QString zone = sys.filePath("class/powercap/intel-rapl:0");
        QVERIFY(put(zone + "/name", "package-0\n"));
        QVERIFY(put(zone + "/max_energy_range_uj", "1000000\n"));
        QVERIFY(put(zone + "/energy_uj", "999000\n"));
        QVERIFY(put(sys.filePath("class/powercap/intel-rapl:0:0/energy_uj"), "5\n"));  // a sub-zone: ignored
        QVERIFY(put(sys.filePath("class/powercap/intel-rapl:0:0/max_energy_range_uj"), "1000000\n"));
        auto sensor = findEnergySensor("auto", sys.path().toStdString());
        QVERIFY2(sensor, sensor ? "" : sensor.error().c_str());
        QVERIFY(*sensor);
        QCOMPARE((*sensor)->name(), std::string("rapl:package-0"));
        QCOMPARE(*(*sensor)->microjoules(), 0.0);
        QVERIFY(put(zone + "/energy_uj", "999600\n"));
        QCOMPARE(*(*sensor)->microjoules(), 600.0);
        QVERIFY(put(zone + "/energy_uj", "400\n"));  // wrapped: 400 to the top, 400 past it
        QCOMPARE(*(*sensor)->microjoules(), 1400.0);
        QVERIFY(put(zone + "/energy_uj", "garbage\n"));
        auto bad = (*sensor)->microjoules();
        QVERIFY(!bad);
        QVERIFY2(bad.error().find("energy_uj does not hold a whole number") != std::string::npos, bad.error().c_str());
        QVERIFY(put(zone + "/energy_uj", "2000000\n"));
        QVERIFY(!(*sensor)->microjoules());  // beyond the range: refused, not misread as a wrap
    }

    void ina219PowerIsIntegratedOverTime() {
        QTemporaryDir sys;
        const QString dev = sys.filePath("class/hwmon/hwmon2");
        QVERIFY(put(dev + "/name", "ina219\n"));
        QVERIFY(put(dev + "/power1_input", "2000000\n"));  // 2 W
        QVERIFY(put(sys.filePath("class/hwmon/hwmon0/name"), "cpu_thermal\n"));
        auto sensor = findEnergySensor("ina219", sys.path().toStdString());
        QVERIFY2(sensor, sensor ? "" : sensor.error().c_str());
        QCOMPARE((*sensor)->name(), std::string("ina219:hwmon2"));
        const auto t0 = std::chrono::steady_clock::now();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        auto e = (*sensor)->microjoules();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        QVERIFY(e);
        // 2 W over the elapsed time, in microjoules (the reader's clock starts a little earlier).
        QVERIFY2(*e >= 2e6 * seconds * 0.99 && *e <= 2e6 * (seconds + 0.05), qPrintable(QString::number(*e)));
    }

    void discoveryReportsWhatIsMissing() {
        QTemporaryDir sys;
        auto none = findEnergySensor("auto", sys.path().toStdString());
        QVERIFY(none);
        QVERIFY(!*none);  // nothing found: the power model applies
        auto rapl = findEnergySensor("rapl", sys.path().toStdString());
        QVERIFY(!rapl);
        QVERIFY2(rapl.error().find("no RAPL powercap zone") != std::string::npos, rapl.error().c_str());
        auto ina = findEnergySensor("ina219", sys.path().toStdString());
        QVERIFY(!ina);
        QVERIFY2(ina.error().find("no INA219") != std::string::npos, ina.error().c_str());
        auto unknown = findEnergySensor("thermometer", sys.path().toStdString());
        QVERIFY(!unknown);
        QVERIFY2(unknown.error().find("unknown energy sensor 'thermometer'") != std::string::npos, unknown.error().c_str());
        // On this host, whatever it has, auto never fails.
        QVERIFY(findEnergySensor("auto"));
    }

    void aSensorReadingWinsOverThePowerModel() {
        auto laptop = powerProfile("laptop");
        QVERIFY(laptop);
        edgent::core::net::Sample s;
        s.deviceMs = 10;
        s.transferMs = 2;
        s.edgeMs = 3;
        QCOMPARE(laptop->sourceOf(s), std::string("model:laptop"));
        QCOMPARE(laptop->energyOf(s), laptop->energyMj(s));
        s.sensorEnergyMj = 123.5;
        s.sensorName = "rapl:package-0";
        QCOMPARE(laptop->energyOf(s), 123.5);
        QCOMPARE(laptop->sourceOf(s), std::string("sensor:rapl:package-0"));
    }
};

QTEST_GUILESS_MAIN(TestEnergy)
#include "tst_energy.moc"
