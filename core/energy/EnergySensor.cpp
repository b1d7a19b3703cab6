#include "core/energy/EnergySensor.h"

#include <QDir>
#include <QFile>

#include <mutex>

namespace edgent::core::energy {

namespace {

Result<uint64_t> readCounter(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return makeError("cannot read " + path.toStdString() + ": " + f.errorString().toStdString());
    bool ok = false;
    const uint64_t v = f.readAll().trimmed().toULongLong(&ok);
    if (!ok) return makeError(path.toStdString() + " does not hold a whole number");
    return v;
}

QString readText(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll().trimmed()) : QString();
}

class Rapl final : public EnergySensor {
public:
    Rapl(QString dir, std::string name, uint64_t range, uint64_t first)
        : dir_(std::move(dir)),
          name_(std::move(name)),
          range_(range),
          last_(first) {}
    std::string name() const override { return name_; }
    Result<double> microjoules() override {
        std::lock_guard lock(mutex_);
        auto now = readCounter(dir_ + "/energy_uj");
        if (!now) return makeError(now.error());
        if (*now > range_) return makeError(dir_.toStdString() + ": energy_uj exceeds max_energy_range_uj");
        total_ += static_cast<double>(counterDelta(last_, *now, range_));
        last_ = *now;
        return total_;
    }

private:
    QString dir_;
    std::string name_;
    uint64_t range_, last_;
    double total_ = 0.0;
    std::mutex mutex_;
};

class HwmonPower final : public EnergySensor {
public:
    using Clock = std::chrono::steady_clock;
    HwmonPower(QString dir, std::string name, double firstMicrowatts)
        : dir_(std::move(dir)),
          name_(std::move(name)),
          lastUw_(firstMicrowatts),
          lastAt_(Clock::now()) {}
    std::string name() const override { return name_; }
    Result<double> microjoules() override {
        std::lock_guard lock(mutex_);
        auto uw = readCounter(dir_ + "/power1_input");
        if (!uw) return makeError(uw.error());
        const auto now = Clock::now();
        const double seconds = std::chrono::duration<double>(now - lastAt_).count();
        total_ += 0.5 * (lastUw_ + static_cast<double>(*uw)) * seconds;
        lastUw_ = static_cast<double>(*uw);
        lastAt_ = now;
        return total_;
    }

private:
    QString dir_;
    std::string name_;
    double lastUw_;
    Clock::time_point lastAt_;
    double total_ = 0.0;
    std::mutex mutex_;
};

}  // namespace

Result<std::unique_ptr<EnergySensor>> openRapl(const std::string& zoneDir) {
    const QString dir = QString::fromStdString(zoneDir);
    auto range = readCounter(dir + "/max_energy_range_uj");
    if (!range) return makeError(range.error());
    if (*range == 0) return makeError(zoneDir + ": max_energy_range_uj is 0");
    auto first = readCounter(dir + "/energy_uj");
    if (!first) return makeError(first.error());
    QString zone = readText(dir + "/name");
    if (zone.isEmpty()) zone = QDir(dir).dirName();
    return std::unique_ptr<EnergySensor>(new Rapl(dir, "rapl:" + zone.toStdString(), *range, *first));
}

Result<std::unique_ptr<EnergySensor>> openHwmonPower(const std::string& hwmonDir) {
    const QString dir = QString::fromStdString(hwmonDir);
    auto first = readCounter(dir + "/power1_input");
    if (!first) return makeError(first.error());
    QString chip = readText(dir + "/name");
    if (chip.isEmpty()) chip = "hwmon";
    return std::unique_ptr<EnergySensor>(
        new HwmonPower(dir, chip.toStdString() + ":" + QDir(dir).dirName().toStdString(), static_cast<double>(*first)));
}

Result<std::unique_ptr<EnergySensor>> findEnergySensor(const std::string& kind, const std::string& sysRoot) {
    if (kind == "none") return std::unique_ptr<EnergySensor>();
    if (kind != "auto" && kind != "rapl" && kind != "ina219")
        return makeError("unknown energy sensor '" + kind + "' (auto, rapl, ina219 or none)");
    const QString root = QString::fromStdString(sysRoot);
    std::string lastError;
    if (kind == "auto" || kind == "rapl") {
        // Top-level zones only (intel-rapl:0, not the sub-zone intel-rapl:0:0).
        const QDir powercap(root + "/class/powercap");
        for (const QString& z : powercap.entryList({"intel-rapl:*"}, QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
            if (z.count(':') != 1) continue;
            auto s = openRapl(powercap.filePath(z).toStdString());
            if (s) return s;
            lastError = s.error();  // e.g. energy_uj is readable by root only
        }
        if (kind == "rapl")
            return makeError(lastError.empty() ? "no RAPL powercap zone under " + sysRoot + "/class/powercap" : lastError);
    }
    const QDir hwmon(root + "/class/hwmon");
    for (const QString& h : hwmon.entryList({"hwmon*"}, QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
        if (readText(hwmon.filePath(h) + "/name") != "ina219") continue;
        auto s = openHwmonPower(hwmon.filePath(h).toStdString());
        if (s) return s;
        lastError = s.error();
    }
    if (kind == "ina219") return makeError(lastError.empty() ? "no INA219 under " + sysRoot + "/class/hwmon" : lastError);
    return std::unique_ptr<EnergySensor>();
}

}  // namespace edgent::core::energy
