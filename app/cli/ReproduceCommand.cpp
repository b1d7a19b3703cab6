// `edgent reproduce NAME|all`: one command per paper figure (core/repro/Reproduce.h).
#include "app/cli/CliCommon.h"

#include "core/energy/PowerModel.h"
#include "core/repro/Reproduce.h"

#ifdef EDGENT_HAVE_WIDGETS
#include "widgets/FigurePlot.h"
#endif

#include <QJsonArray>

#include <atomic>
#include <csignal>
#include <cstdio>

namespace edgent::app {

using namespace edgent::core;

namespace {

std::atomic<bool> gCancel{false};
extern "C" void onReproduceInterrupt(int) {
    gCancel.store(true);
    std::signal(SIGINT, SIG_DFL);
}

}  // namespace

int runReproduce(const QStringList& args) {
    QString figures;
    for (const std::string& name : repro::figureNames())
        figures += QStringLiteral("\n  %1  %2").arg(QString::fromStdString(name), -15).arg(QString::fromStdString(repro::figureSummary(name)));
    Command cmd(QStringLiteral("reproduce"),
                QStringLiteral("Reproduces a paper's figure on real workers: plans and runs its experiment, keeps every run in "
                               "DIR/runs.sqlite, and writes DIR/NAME.csv, NAME.pdf, NAME.png and NAME.md (the figure beside "
                               "the paper's statements, with every difference explained). Figures:") +
                    figures,
                QStringLiteral("NAME|all [--out DIR] [--quick] [--device-slowdown F]"));
    cmd.allowPositionals(1);
    cmd.addOptions({modelCliOption()});
    cmd.addOptions(workerCliOptions());
    cmd.addOptions({
        {"out", "Folder for the figures, pages, CSV and run database (default reproduce).", "DIR", "reproduce"},
        {"quick", "Fewer points and inferences, the trace compressed in time (a few minutes for all)."},
        {"device-slowdown",
         "Local device: emulate it F times slower (default: F chosen so that device-only over edge-only latency at 500 "
         "kbps is the paper's).",
         "F"},
        {"trace", "edgent-dynamic's bandwidth trace (CSV time_s,kbps; default the shipped step trace).", "FILE"},
        {"power-profile", "Device power model (default laptop).", "NAME", "laptop"},
    });
    int code = 0;
    if (!cmd.parse(args, &code)) return code;
    auto& p = cmd.parser();
    if (p.positionalArguments().size() != 1) return cmd.fail("give one figure name, or all (edgent reproduce --help lists them)");
    auto names = repro::resolveFigures(p.positionalArguments().first().toStdString());
    if (!names) return cmd.fail(QString::fromStdString(names.error()));
    auto power = energy::powerProfile(p.value("power-profile").toStdString());
    if (!power) return cmd.fail(QString::fromStdString(power.error()));
    const auto slowdown = cmd.numberOption("device-slowdown", 0.0, 1.0, 1000.0, &code);
    if (!slowdown) return code;
    auto bytes = readModelOption(cmd, &code);
    if (!bytes) return code;
    auto link = workerLinkOptions(cmd, 1.0, &code);
    if (!link) return code;
    if (!link->local && p.isSet("device-slowdown")) return cmd.fail("--device-slowdown emulates a local device; a remote one runs as it is");

    repro::ReproduceOptions o;
    o.outDir = p.value("out").toStdString();
    o.quick = p.isSet("quick");
    o.link = *link;
    o.deviceSlowdown = *slowdown;
    o.model = std::move(*bytes);
    o.modelPath = p.isSet("model") ? p.value("model").toStdString() : defaultModelPath();
    o.power = *power;
    o.tracePath = p.isSet("trace") ? p.value("trace").toStdString() : repro::defaultTracePath();
    o.command = "edgent reproduce " + args.join(' ').toStdString();
#ifdef EDGENT_HAVE_WIDGETS
    o.draw = [](const repro::Figure& figure, const std::string& base) {
        return widgets::saveFigure(figure, QString::fromStdString(base));
    };
#endif
    const bool quiet = cmd.json();
    o.progress = [quiet](const std::string& line) {
        if (!quiet) std::fprintf(stderr, "%s\n", line.c_str());
    };
    o.cancel = &gCancel;
    std::signal(SIGINT, onReproduceInterrupt);
    auto results = repro::reproduce(*names, o);
    std::signal(SIGINT, SIG_DFL);
    if (!results) return cmd.fail(QString::fromStdString(results.error()));
    QJsonArray out;
    int failedChecks = 0;
    for (const repro::FigureResult& r : *results) {
        QJsonArray checks;
        for (const repro::Check& c : r.checks) {
            checks.append(QJsonObject{{"statement", QString::fromStdString(c.statement)},
                                      {"ours", QString::fromStdString(c.ours)},
                                      {"holds", c.holds}});
            failedChecks += !c.holds;
        }
        out.append(QJsonObject{{"name", QString::fromStdString(r.name)},
                               {"csv", QString::fromStdString(r.csvPath)},
                               {"page", QString::fromStdString(r.pagePath)},
                               {"pdf", QString::fromStdString(r.pdfPath)},
                               {"png", QString::fromStdString(r.pngPath)},
                               {"seconds", r.seconds},
                               {"checks", checks}});
        if (!quiet)
            for (const repro::Check& c : r.checks)
                std::printf("%s: %s %s\n", r.name.c_str(), c.holds ? "holds:" : "DIFFERS:", c.statement.c_str());
    }
    if (quiet)
        printJson(QJsonObject{{"out", p.value("out")}, {"figures", out}});
    else
        std::printf("%d figures written to %s (%d statements differ from the paper; each page says why)\n",
                    static_cast<int>(results->size()), p.value("out").toLocal8Bit().constData(), failedChecks);
    return 0;
}

}  // namespace edgent::app
