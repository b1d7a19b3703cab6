#include "core/energy/PowerModel.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

namespace edgent::core::energy {

double PowerProfile::energyMj(const net::Sample& s) const {
    return activeW * s.deviceMs + transmitW * s.transferMs + idleW * s.edgeMs;
}

std::string defaultProfilesPath() {
    const QByteArray env = qgetenv("EDGENT_POWER_PROFILES");
    if (!env.isEmpty()) return env.toStdString();
#ifdef EDGENT_POWER_PROFILES_PATH
    return EDGENT_POWER_PROFILES_PATH;
#else
    return "resources/power-profiles.json";
#endif
}

Result<std::map<std::string, PowerProfile>> loadPowerProfiles(const std::string& path) {
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly)) return makeError("cannot read power profiles " + path);
    const QJsonObject root = QJsonDocument::fromJson(f.readAll()).object();
    if (root.value("format").toString() != "edgent-power-profiles")
        return makeError(path + " is not an Edgent power-profiles file");
    std::map<std::string, PowerProfile> profiles;
    const QJsonObject all = root.value("profiles").toObject();
    for (auto it = all.begin(); it != all.end(); ++it) {
        const QJsonObject o = it.value().toObject();
        PowerProfile p;
        p.name = it.key().toStdString();
        p.activeW = o.value("active_w").toDouble(-1);
        p.transmitW = o.value("transmit_w").toDouble(-1);
        p.idleW = o.value("idle_w").toDouble(-1);
        p.source = o.value("source").toString().toStdString();
        if (p.activeW < 0 || p.transmitW < 0 || p.idleW < 0)
            return makeError(path + ": profile '" + p.name + "' needs non-negative active_w, transmit_w and idle_w");
        profiles[p.name] = p;
    }
    if (profiles.empty()) return makeError(path + " holds no power profiles");
    return profiles;
}

Result<PowerProfile> powerProfile(const std::string& name, const std::string& path) {
    auto all = loadPowerProfiles(path);
    if (!all) return makeError(all.error());
    auto it = all->find(name);
    if (it == all->end()) {
        std::string known;
        for (const auto& [n, p] : *all) known += (known.empty() ? "" : ", ") + n;
        return makeError("unknown power profile '" + name + "' (known: " + known + ")");
    }
    return it->second;
}

}  // namespace edgent::core::energy
