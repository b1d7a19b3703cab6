#include "core/repro/Page.h"

#include "core/model/ModelFile.h"

#include <cmath>
#include <cstdio>

namespace edgent::core::repro {

std::string num(double v, int precision) {
    if (std::isnan(v)) return "n/a";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    return buf;
}

namespace {

std::string cell(std::string s) {
    for (char& c : s)
        if (c == '|' || c == '\n') c = ' ';
    return s;
}

std::string checksTable(const std::vector<Check>& checks) {
    std::string md = "| The paper | Ours | Holds | Why, or how ours differs |\n|---|---|---|---|\n";
    for (const Check& c : checks)
        md += "| " + cell(c.statement) + " | " + cell(c.ours) + " | " + (c.holds ? "yes" : "**no**") + " | " +
              cell(c.why.empty() ? "-" : c.why) + " |\n";
    return md;
}

}  // namespace

Result<FigureResult> writeFigure(const Session& session, FigureOutput out, double seconds) {
    const std::string dir = session.options().outDir + "/";
    out.checks.push_back(session.scaling().regimeCheck());
    FigureResult r;
    r.name = out.name;
    r.seconds = seconds;
    r.checks = out.checks;
    r.csvPath = dir + out.name + ".csv";
    r.pagePath = dir + out.name + ".md";
    if (auto s = writeFileAtomically(r.csvPath, out.csv); !s) return makeError(s.error());
    out.figure.footnote = session.scaling().footnote();
    if (session.options().draw) {
        if (auto s = session.options().draw(out.figure, dir + out.name); !s) return makeError(s.error());
        r.pdfPath = dir + out.name + ".pdf";
        r.pngPath = dir + out.name + ".png";
        r.drawn = true;
    }
    std::string md = "# " + out.name + ": " + out.title + "\n\n";
    md += "Reproduces " + out.paperRef + ".\n\n";
    md += "```\n" + (session.options().command.empty() ? "edgent reproduce " + out.name : session.options().command) +
          "\n```\n\n";
    md += (seconds < 0.5 ? std::string("Runtime of this figure: none of its own; its runs are an earlier figure's")
                         : "Runtime of this figure: " + num(seconds, 3) + " s") +
          (session.options().quick ? " (`--quick`)" : "") + ", after the shared profile.\n\n";
    if (r.drawn)
        md += "![" + out.name + "](" + out.name + ".png)\n\n[PDF](" + out.name + ".pdf) · [CSV](" + out.name +
              ".csv) · runs in `runs.sqlite` (experiment `reproduce:" + out.name + "`)\n\n";
    else
        md += "No figure: this build has no plotting library. [CSV](" + out.name + ".csv) · runs in `runs.sqlite`\n\n";
    md += "## What ran\n\n";
    for (const std::string& s : out.setup) md += "- " + s + "\n";
    md += "\n## Differences from the paper\n\n";
    md += "- Fashion-MNIST (28x28 grey, 10 classes) instead of CIFAR-10, and this project's model `" +
          session.options().model.file.spec.name + "` instead of the paper's network; its exits' test accuracies " +
          "are not the paper's.\n";
    md += "- " + session.scaling().describe() + "\n";
    for (const std::string& s : out.notes) md += "- " + s + "\n";
    md += "\n## The paper beside ours\n\n" + checksTable(out.checks) + "\n";
    md += "Scaled numbers are ours, never the paper's: every deadline above is the paper's deadline times the scale.\n";
    if (auto s = writeFileAtomically(r.pagePath, md); !s) return makeError(s.error());
    return r;
}

Status writeIndex(const Session& session, const std::vector<FigureResult>& figures, double seconds) {
    std::string md = "# Reproduced figures\n\n```\n" + session.options().command + "\n```\n\n";
    md += "Total runtime " + num(seconds, 3) + " s" + (session.options().quick ? " (`--quick`)" : "") + ". " +
          session.scaling().describe() + "\n\n| Figure | Statements that hold | Runtime |\n|---|---|---|\n";
    for (const FigureResult& f : figures) {
        int holds = 0;
        for (const Check& c : f.checks) holds += c.holds;
        md += "| [" + f.name + "](" + f.name + ".md) | " + std::to_string(holds) + " of " + std::to_string(f.checks.size()) +
              " | " + (f.seconds < 0.5 ? std::string("its runs are an earlier figure's") : num(f.seconds, 3) + " s") + " |\n";
    }
    return writeFileAtomically(session.options().outDir + "/README.md", md);
}

}  // namespace edgent::core::repro
