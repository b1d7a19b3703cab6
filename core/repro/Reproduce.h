#pragma once
// `edgent reproduce`: one command per paper figure. Each figure plans and runs its
// experiment on real workers (local, or remote ones), keeps every run in DIR/runs.sqlite,
// writes DIR/NAME.csv, has DIR/NAME.pdf and DIR/NAME.png drawn in the paper's layout, and
// writes DIR/NAME.md: the command, its runtime, the figure, and the paper's statements
// beside ours with every difference explained. The window's Reproduce dialog runs the
// same engine. Torch-free.
//
// Scaling (docs/reproduction.md): the paper's Raspberry Pi 3 runs CIFAR-10 AlexNet in more
// than 2 s, far slower than this model on any host. A local device is emulated
// F times slower, with F chosen so that device-only over edge-only latency at 500 kbps is
// the paper's ratio, and every deadline is scaled by our device-only latency over the
// paper's. A remote device is used as it is (F = 1) and only the deadlines are scaled.

#include "core/control/WorkerLink.h"
#include "core/energy/PowerModel.h"
#include "core/model/ModelFile.h"
#include "core/repro/Figure.h"
#include "core/util/Result.h"

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace edgent::core::repro {

// A statement of the paper and whether ours holds it.
struct Check {
    std::string statement;  // the paper's, in its words or the issue's
    std::string ours;       // what we measured
    bool holds = false;
    std::string why;  // why ours differs, when it does (the data set, the device, the scaling)
};

struct FigureResult {
    std::string name;
    std::string csvPath, pagePath, pdfPath, pngPath;
    double seconds = 0.0;
    std::vector<Check> checks;
    bool drawn = false;  // no plotting library in this build: CSV and page only
};

struct ReproduceOptions {
    std::string outDir;
    bool quick = false;                // fewer points and inferences (the test's setting)
    control::WorkerLinkOptions link;   // local workers, or remote ones
    double deviceSlowdown = 0.0;       // local device: 0 = chosen by the scaling above
    ModelBytes model;
    std::string modelPath;             // the same model's file (calibration reads it)
    energy::PowerProfile power;
    std::string tracePath;             // edgent-dynamic's bandwidth trace
    std::string command;               // as typed, for the pages
    // Draws a figure to BASE.pdf and BASE.png; empty: the build has no plotting library.
    std::function<Status(const Figure&, const std::string& base)> draw;
    std::function<void(const std::string& line)> progress;  // one line per step
    const std::atomic<bool>* cancel = nullptr;
};

// The figure names, in the order `all` runs them.
std::vector<std::string> figureNames();
// One line per figure, for --help and the window.
std::string figureSummary(const std::string& name);
// The shipped step trace edgent-dynamic replays by default.
std::string defaultTracePath();
// NAME or "all"; unknown names fail with the list of known ones.
Result<std::vector<std::string>> resolveFigures(const std::string& nameOrAll);

// Runs the figures in order on one pair of workers (one profile, one scaling for all).
// Fails with one line; figures finished before the failure keep their files.
Result<std::vector<FigureResult>> reproduce(const std::vector<std::string>& names, const ReproduceOptions& options);

}  // namespace edgent::core::repro
