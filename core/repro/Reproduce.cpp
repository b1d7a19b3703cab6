#include "core/repro/Reproduce.h"

#include "core/repro/EdgentFigures.h"

#include <chrono>

namespace edgent::core::repro {

namespace {

struct Entry {
    const char* name;
    const char* summary;
    Result<FigureOutput> (*make)(Session&);
};

const Entry kFigures[] = {
    {"edgent-fig6", "Edgent Fig. 6: chosen exit and partition against bandwidth (50 kbps-1.5 Mbps)", edgentFig6},
    {"edgent-fig7", "Edgent Fig. 7: predicted against measured latency over the same bandwidths", edgentFig7},
    {"edgent-fig8", "Edgent Fig. 8: chosen exit and partition against deadline at 500 kbps", edgentFig8},
    {"edgent-fig9", "Edgent Fig. 9: accuracy against deadline at 400 kbps, Edgent and four baselines", edgentFig9},
    {"edgent-dynamic", "Edgent TWC dynamic mode: static, dynamic and partition-only under a bandwidth trace", edgentDynamic},
    {"branchynet-table1", "BranchyNet Table 1: entropy exits against the final exit alone, speed-up and accuracy",
     branchynetTable1},
    {"appealnet", "AppealNet: device energy against accuracy, appeal head, entropy and max-softmax", appealnetFigure},
};

double secondsSince(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

std::vector<std::string> figureNames() {
    std::vector<std::string> names;
    for (const Entry& e : kFigures) names.emplace_back(e.name);
    return names;
}

std::string figureSummary(const std::string& name) {
    for (const Entry& e : kFigures)
        if (name == e.name) return e.summary;
    return {};
}

std::string defaultTracePath() {
#ifdef EDGENT_TRACES_DIR
    return std::string(EDGENT_TRACES_DIR) + "/step.csv";
#else
    return "resources/traces/step.csv";
#endif
}

Result<std::vector<std::string>> resolveFigures(const std::string& nameOrAll) {
    if (nameOrAll == "all") return figureNames();
    for (const Entry& e : kFigures)
        if (nameOrAll == e.name) return std::vector<std::string>{e.name};
    std::string known;
    for (const Entry& e : kFigures) known += std::string(known.empty() ? "" : ", ") + e.name;
    return makeError("unknown figure '" + nameOrAll + "' (known: " + known + ", or all)");
}

Result<std::vector<FigureResult>> reproduce(const std::vector<std::string>& names, const ReproduceOptions& options) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<const Entry*> entries;
    for (const std::string& name : names) {
        const Entry* found = nullptr;
        for (const Entry& e : kFigures)
            if (name == e.name) found = &e;
        if (!found) return makeError(resolveFigures(name).error());
        entries.push_back(found);
    }
    auto session = Session::open(options);
    if (!session) return makeError(session.error());
    std::vector<FigureResult> results;
    for (const Entry* e : entries) {
        const auto t0 = std::chrono::steady_clock::now();
        auto out = e->make(**session);
        if (!out) return makeError(out.error());
        auto written = writeFigure(**session, std::move(*out), secondsSince(t0));
        if (!written) return makeError(written.error());
        (*session)->say(std::string(e->name) + ": written to " + written->pagePath);
        results.push_back(std::move(*written));
    }
    if (auto s = writeIndex(**session, results, secondsSince(start)); !s) return makeError(s.error());
    return results;
}

}  // namespace edgent::core::repro
