#pragma once
// The cut tensor's codecs in the planner: each codec's costs at every exit and partition,
// from a validation codec calibration (accuracy lost, frame bytes) and the nodes' profiled
// codec times (encode on the device, decode on the edge). Torch-free.

#include "core/plan/Planner.h"
#include "core/profile/Profiler.h"
#include "core/train/CodecCalibration.h"

#include <string>
#include <vector>

namespace edgent::core::plan {

// A codec's time on a node for a tensor of `elements` floats: the profiled time of that size,
// or a line through the node's sizes (least squares; a model never profiled). NaN when the
// node has no time for the codec. The raw input's lossless stage is timed as the same codec
// on as many bytes of float32.
double codecTimeMs(const std::vector<profile::CodecTiming>& timings, const std::string& codec, int64_t elements, bool encode);

// Adds every codec beyond fp32 that the calibration and both nodes' timings cover to the
// table. `tail`: frame bytes at their 95th percentile instead of their mean. Returns why
// none could be added (empty when some were).
std::string addCodecCosts(LatencyTable& table, const ModelSpec& spec, const CodecCalibration& calibration,
                          const std::vector<profile::CodecTiming>& device, const std::vector<profile::CodecTiming>& edge,
                          bool tail);

}  // namespace edgent::core::plan
