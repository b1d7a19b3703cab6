#pragma once
// Internal to core/repro: what one figure leaves behind (CSV, PDF, PNG, Markdown page).

#include "core/repro/Session.h"

#include <string>
#include <vector>

namespace edgent::core::repro {

struct FigureOutput {
    std::string name;
    std::string title;     // the page's heading
    std::string paperRef;  // which figure of which paper
    std::string csv;       // the data, header first
    Figure figure;
    std::vector<Check> checks;
    std::vector<std::string> setup;  // what this figure ran, one bullet each
    std::vector<std::string> notes;  // further differences from the paper
};

// Writes NAME.csv, draws NAME.pdf/.png (when the build can), and writes NAME.md.
Result<FigureResult> writeFigure(const Session& session, FigureOutput out, double seconds);

// DIR/README.md: every figure of this invocation, its checks, and links.
Status writeIndex(const Session& session, const std::vector<FigureResult>& figures, double seconds);

// "%g"-style formatting for the pages.
std::string num(double v, int precision = 6);

}  // namespace edgent::core::repro
