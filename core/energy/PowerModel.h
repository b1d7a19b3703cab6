#pragma once
// Device energy from a power model: named profiles of active, transmit and idle power
// (resources/power-profiles.json, each with where its numbers come from), multiplied by the
// measured durations of a sample:
//   energy (mJ) = active_W * device_ms + transmit_W * transfer_ms + idle_W * edge_ms
// (watts times milliseconds is millijoules). Torch-free.

#include "core/net/Protocol.h"

#include <cmath>
#include <map>
#include <string>

namespace edgent::core::energy {

struct PowerProfile {
    std::string name;
    double activeW = 0.0;
    double transmitW = 0.0;
    double idleW = 0.0;
    std::string source;  // provenance of the numbers

    double energyMj(const net::Sample& s) const;
    std::string sourceTag() const { return "model:" + name; }
    // The sample's sensor reading when the device has a sensor, else this model's estimate;
    // with the source to record ("sensor:<name>" or "model:<profile>").
    double energyOf(const net::Sample& s) const { return std::isnan(s.sensorEnergyMj) ? energyMj(s) : s.sensorEnergyMj; }
    std::string sourceOf(const net::Sample& s) const {
        return std::isnan(s.sensorEnergyMj) ? sourceTag() : "sensor:" + s.sensorName;
    }
};

// The profiles file: $EDGENT_POWER_PROFILES, else the one shipped in resources/.
std::string defaultProfilesPath();
Result<std::map<std::string, PowerProfile>> loadPowerProfiles(const std::string& path);
Result<PowerProfile> powerProfile(const std::string& name, const std::string& path = defaultProfilesPath());

}  // namespace edgent::core::energy
