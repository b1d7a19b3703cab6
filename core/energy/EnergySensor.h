#pragma once
// Real energy sensors on the device, read instead of the power model when one exists:
//   rapl    a Linux powercap counter (/sys/class/powercap/intel-rapl:N/energy_uj, also AMD's
//           RAPL through the same driver). It counts microjoules and wraps modulo
//           max_energy_range_uj; the reader unwraps it. It measures the whole package, so
//           other work on the host shows up too.
//   ina219  a current/power monitor on a Raspberry Pi's supply through hwmon
//           (/sys/class/hwmon/hwmonN with name "ina219"): power1_input in microwatts,
//           integrated over time by the reader (trapezoids between readings).
// Each sample then carries its energy and "sensor:<name>" as its source. Torch-free.

#include "core/util/Result.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace edgent::core::energy {

class EnergySensor {
public:
    virtual ~EnergySensor() = default;
    // e.g. "rapl:package-0" or "ina219:hwmon2"
    virtual std::string name() const = 0;
    // Energy in microjoules since the sensor was opened; monotonic (wraps undone).
    virtual Result<double> microjoules() = 0;
};

// Opens a RAPL zone folder (the one holding energy_uj and max_energy_range_uj).
Result<std::unique_ptr<EnergySensor>> openRapl(const std::string& zoneDir);
// Opens an hwmon folder whose power1_input reads microwatts.
Result<std::unique_ptr<EnergySensor>> openHwmonPower(const std::string& hwmonDir);

// kind: "auto" (RAPL, then INA219, else none), "rapl", "ina219" or "none". sysRoot is "/sys"
// except in tests. "auto" and "none" return a null sensor when nothing is found; a named
// kind that is missing or unreadable is an error.
Result<std::unique_ptr<EnergySensor>> findEnergySensor(const std::string& kind, const std::string& sysRoot = "/sys");

// Undoes a counter's wrap: the increase from `before` to `now` of a counter that counts
// modulo `range`.
inline uint64_t counterDelta(uint64_t before, uint64_t now, uint64_t range) {
    return now >= before ? now - before : (range - before) + now;
}

}  // namespace edgent::core::energy
