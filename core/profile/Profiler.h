#pragma once
// Per-layer timing on the node the code runs on: every layer of every exit path of a model,
// and a synthetic sweep of configurations per layer kind, so the regressions are fitted on
// more than the model's own layers (as Edgent does). Also model-loading time against size.
// Torch-free interface; the worker runs it and sends the rows to the controller as JSON.

#include "core/model/ModelSpec.h"
#include "core/profile/Sweep.h"

#include <QJsonArray>
#include <QJsonObject>

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace edgent::core {
class MultiExitNet;
}

namespace edgent::core::profile {

struct LayerTiming {
    std::string source;  // "model" or "synthetic"
    int exit = -1;       // model rows: the exit and the layer's index on its path
    int layerIndex = -1;
    LayerKind kind = LayerKind::Relu;
    std::vector<double> features;  // Table 1
    std::vector<double> config;    // configFeatureNames(); empty in profiles stored before schema 7
    double medianMs = 0.0, p10Ms = 0.0, p90Ms = 0.0;
    int repeats = 0;
};

struct LoadTiming {
    int64_t modelBytes = 0;
    double medianMs = 0.0;
};

// The node's time to encode and to decode one cut tensor with a codec (core/net/Codec.h).
struct CodecTiming {
    std::string codec;
    int64_t elements = 0;
    double encodeMs = 0.0, decodeMs = 0.0;  // medians, times the emulated slowdown
};

struct ProfileOptions {
    int warmup = 5;
    int repeats = 25;           // model layers
    int syntheticRepeats = 11;  // sweep configurations
    // Each layer's repeats are spread over this many passes through the model's paths and the
    // fixed sweep (1: back to back, as profiles before this option were taken), and the passes
    // are paced over at least spanSeconds (0: no pacing). Each adaptive batch is spread the
    // same way, unpaced. See Profiler.cpp.
    int spread = 25;
    double spanSeconds = 10.0;
    bool synthetic = true;
    uint64_t seed = 1;
    double slowdown = 1.0;  // emulated slower device (see core/util/Slowdown.h)
    std::string slowdownWait;  // how its stretch waited: spin or sleep (empty: no slowdown)
    // Adaptive sampling after the fixed sweep (core/profile/Sweep.h): rounds of this many
    // configurations each; 0 rounds: the fixed sweep only.
    int adaptiveRounds = 3;
    int adaptiveBatch = 40;
};

struct ProfileProgress {
    std::string stage;  // "model layers", "synthetic conv", ..., "model loading"
    int done = 0;
    int total = 0;
};

struct ProfileResult {
    std::vector<LayerTiming> layers;
    std::vector<LoadTiming> loads;
    std::vector<SweepRound> rounds;  // the adaptive sweep's rounds, with their held-out error
    std::vector<CodecTiming> codecs;  // every lossy or compressing codec on the model's cut tensors
    double seconds = 0.0;
};

// Times `net` (must be in eval mode) and the synthetic sweep on this thread.
Result<ProfileResult> profileNet(const MultiExitNet& net, const ProfileOptions& options,
                                 const std::function<void(const ProfileProgress&)>& progress = {},
                                 const std::atomic<bool>* cancel = nullptr);

QJsonObject profileToJson(const ProfileResult& result);
// The adaptive rounds as profileToJson writes them (the worker's reply, edgent profile --json).
QJsonArray roundsToJson(const std::vector<SweepRound>& rounds);
Result<ProfileResult> profileFromJson(const QJsonObject& o);

}  // namespace edgent::core::profile
