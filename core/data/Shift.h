#pragma once
// A shifted stream of real images: the same Fashion-MNIST images a deployed device met in
// training, as a camera in another place would see them. What on-device adaptation
// (`edgent adapt`, core/train/Adapt.h) trains on and is measured against, and what a run's
// device streams with `--shift`.
//
// Every image i (its index in its split) is changed the same way wherever it is drawn, from a
// generator seeded with (seed, i), in this order:
//   1. rotation by an angle drawn from ±[rotation/2, rotation] degrees about the centre
//      (bilinear, the corners filled with 0, the background);
//   2. contrast: (x − 128)·c + 128 with c drawn from [contrast, 1];
//   3. brightness: + b drawn from [brightness/2, brightness] (pixel levels);
//   4. noise: + N(0, noise²) per pixel;
//   5. occlusion: a square of `occlusion` pixels set to 0, at a uniformly drawn place.
// Values are rounded and clamped to 0–255. A parameter at 0 leaves its step out. Torch-free.

#include "core/data/Dataset.h"
#include "core/util/Result.h"

#include <cstdint>
#include <string>

namespace edgent::core {

struct ShiftSpec {
    double rotationDeg = 30.0;
    double contrast = 0.5;     // the lowest contrast factor drawn (1: none)
    double brightness = 60.0;  // the largest brightness offset drawn
    double noise = 20.0;       // standard deviation, pixel levels
    int occlusion = 8;         // side of the square, pixels
    uint64_t seed = 7;
    bool none() const { return rotationDeg == 0 && contrast >= 1.0 && brightness == 0 && noise == 0 && occlusion == 0; }
};

// "default", "none", or comma-separated key=value pairs over the default (rotation=20,
// contrast=0.6, brightness=40, noise=10, occlusion=6, seed=3). One line naming the bad part.
Result<ShiftSpec> parseShift(const std::string& text);
std::string shiftToString(const ShiftSpec& spec);  // as parseShift reads it back

// Image i of `images` is image firstIndex + i of its split.
void shiftImages(ImageSet& images, const ShiftSpec& spec, int64_t firstIndex);

}  // namespace edgent::core
