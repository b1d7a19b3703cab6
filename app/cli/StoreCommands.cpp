// `edgent runs list|show|compare` and `edgent export`.
#include "app/cli/CliCommon.h"

#include "core/store/Export.h"
#include "core/store/RunStore.h"

#ifdef EDGENT_HAVE_WIDGETS
#include "widgets/RunPlots.h"
#endif

#include <QFileInfo>
#include <QJsonArray>

#include <cmath>
#include <cstdio>

namespace edgent::app {

using core::Result;

namespace {

QJsonObject runRow(const core::store::RunInfo& r) {
    QJsonObject o;
    o["id"] = static_cast<qint64>(r.id);
    o["status"] = QString::fromStdString(r.status);
    o["experiment"] = QString::fromStdString(r.experiment);
    o["started_at"] = QString::fromStdString(r.startedAt);
    o["ended_at"] = QString::fromStdString(r.endedAt);
    o["model"] = QString::fromStdString(r.modelName);
    o["policy"] = QString::fromStdString(r.policy);
    o["samples"] = static_cast<qint64>(r.sampleCount);
    o["host"] = QString::fromStdString(r.host);
    if (!r.error.empty()) o["error"] = QString::fromStdString(r.error);
    return o;
}

// Read-only when possible; an older schema is upgraded once (which needs writing).
Result<std::unique_ptr<core::store::RunStore>> openForReading(const std::string& path) {
    auto store = core::store::RunStore::open(path, core::store::RunStore::Mode::ReadOnly);
    if (!store && store.error().find("open it read-write once to upgrade") != std::string::npos)
        return core::store::RunStore::open(path, core::store::RunStore::Mode::ReadWrite);
    return store;
}

std::optional<int64_t> parseRunId(const QString& text) {
    bool ok = false;
    const qint64 id = text.toLongLong(&ok);
    if (!ok || id <= 0) return std::nullopt;
    return id;
}

}  // namespace

int runRuns(const QStringList& args) {
    Command cmd(QStringLiteral("runs"), QStringLiteral("Lists, shows and compares the runs stored in a run database."),
                QStringLiteral("list|show ID|compare ID ID --db DB [--json]"));
    cmd.addOptions({{"db", "Run database.", "DB"}});
    // The verb and its IDs are positional; options and their values go to the parser.
    QStringList positional, options;
    int code = 0;
    for (int i = 0; i < args.size(); ++i) {
        if (args[i] == "--db" && i + 1 < args.size()) {
            options << args[i] << args[i + 1];
            ++i;
        } else if (args[i].startsWith('-')) {
            options << args[i];
        } else {
            positional << args[i];
        }
    }
    if (!cmd.parse(options, &code)) return code;
    if (positional.isEmpty()) return cmd.fail("say list, show ID or compare ID ID");
    if (!cmd.parser().isSet("db")) return cmd.fail("--db DB is required");
    auto store = openForReading(cmd.parser().value("db").toStdString());
    if (!store) return cmd.fail(QString::fromStdString(store.error()));
    const QString verb = positional.takeFirst();
    if (verb == "list") {
        auto runs = (*store)->listRuns();
        if (!runs) return cmd.fail(QString::fromStdString(runs.error()));
        if (cmd.json()) {
            QJsonArray a;
            for (const auto& r : *runs) a.append(runRow(r));
            printJson(QJsonObject{{"runs", a}});
        } else {
            std::printf("%6s  %-11s  %-25s  %8s  %s\n", "id", "status", "started", "samples", "model");
            for (const auto& r : *runs)
                std::printf("%6lld  %-11s  %-25s  %8lld  %s\n", static_cast<long long>(r.id), r.status.c_str(),
                            r.startedAt.c_str(), static_cast<long long>(r.sampleCount), r.modelName.c_str());
        }
        return 0;
    }
    if (verb == "show" || verb == "compare") {
        const int want = verb == "show" ? 1 : 2;
        if (positional.size() != want) return cmd.fail(verb + (want == 1 ? " takes one run ID" : " takes two run IDs"));
        QJsonArray summaries;
        for (const QString& p : positional) {
            const auto id = parseRunId(p);
            if (!id) return cmd.fail("'" + p + "' is not a run ID");
            auto s = core::store::runSummaryJson(**store, *id);
            if (!s) return cmd.fail(QString::fromStdString(s.error()));
            summaries.append(*s);
        }
        if (verb == "show") {
            if (cmd.json())
                printJson(summaries[0].toObject());
            else {
                const QJsonObject o = summaries[0].toObject();
                for (auto it = o.begin(); it != o.end(); ++it)
                    if (!it.value().isObject())
                        std::printf("%-20s %s\n", it.key().toLocal8Bit().constData(),
                                    it.value().isDouble() ? QByteArray::number(it.value().toDouble(), 'g', 6).constData()
                                                          : it.value().toVariant().toString().toLocal8Bit().constData());
            }
            return 0;
        }
        // compare: both summaries and the differences of the numeric fields (b - a).
        const QJsonObject a = summaries[0].toObject(), b = summaries[1].toObject();
        QJsonObject delta;
        for (auto it = a.begin(); it != a.end(); ++it)
            if (it.value().isDouble() && b.value(it.key()).isDouble() && it.key() != "run_id")
                delta[it.key()] = b.value(it.key()).toDouble() - it.value().toDouble();
        if (cmd.json())
            printJson(QJsonObject{{"a", a}, {"b", b}, {"delta", delta}});
        else {
            std::printf("%-20s %14s %14s %14s\n", "", ("run " + positional[0]).toLocal8Bit().constData(),
                        ("run " + positional[1]).toLocal8Bit().constData(), "b - a");
            for (auto it = delta.begin(); it != delta.end(); ++it)
                std::printf("%-20s %14.6g %14.6g %+14.6g\n", it.key().toLocal8Bit().constData(), a.value(it.key()).toDouble(),
                            b.value(it.key()).toDouble(), it.value().toDouble());
        }
        return 0;
    }
    return cmd.fail("unknown verb '" + verb + "' (list, show or compare)");
}

namespace {

int exportFleet(Command& cmd) {
    const auto& p = cmd.parser();
    if (p.isSet("run")) return cmd.fail("give --run or --fleet, not both");
    if (!p.isSet("db") || !p.isSet("out")) return cmd.fail("--db and --out are required");
    int code = 0;
    const auto fleetId = cmd.intOption("fleet", 0, 1, 1'000'000'000, &code);
    if (!fleetId) return code;
    const QString out = p.value("out");
    if (QFileInfo(out).suffix().toLower() != "csv") return cmd.fail("a fleet exports as .csv (its samples, one row each)");
    std::vector<int> devices;
    if (p.isSet("devices")) {
        const auto list = parseList<int>(p.value("devices"), [](const QString& t) -> std::optional<int> {
            bool ok = false;
            const int d = t.toInt(&ok);
            return ok && d >= 0 ? std::optional<int>(d) : std::nullopt;
        });
        if (!list) return cmd.fail("--devices must list device numbers, e.g. 0,3");
        devices = *list;
    }
    auto store = openForReading(p.value("db").toStdString());
    if (!store) return cmd.fail(QString::fromStdString(store.error()));
    auto runs = core::store::exportFleetCsv(**store, *fleetId, devices, out.toStdString());
    if (!runs) return cmd.fail(QString::fromStdString(runs.error()));
    if (cmd.json())
        printJson(QJsonObject{{"fleet_id", static_cast<qint64>(*fleetId)}, {"runs", *runs}, {"out", out}});
    else
        std::printf("fleet %lld (%d device runs) written to %s\n", static_cast<long long>(*fleetId), *runs,
                    out.toLocal8Bit().constData());
    return 0;
}

int exportAdaptation(Command& cmd) {
    const auto& p = cmd.parser();
    if (p.isSet("run") || p.isSet("fleet")) return cmd.fail("give one of --run, --fleet and --adaptation");
    if (!p.isSet("db") || !p.isSet("out")) return cmd.fail("--db and --out are required");
    int code = 0;
    const auto id = cmd.intOption("adaptation", 0, 1, 1'000'000'000, &code);
    if (!id) return code;
    const QString out = p.value("out");
    if (QFileInfo(out).suffix().toLower() != "csv") return cmd.fail("an adaptation exports as .csv (its steps, one row each)");
    auto store = openForReading(p.value("db").toStdString());
    if (!store) return cmd.fail(QString::fromStdString(store.error()));
    auto rows = core::store::exportAdaptationCsv(**store, *id, out.toStdString());
    if (!rows) return cmd.fail(QString::fromStdString(rows.error()));
    if (cmd.json())
        printJson(QJsonObject{{"adaptation_id", static_cast<qint64>(*id)}, {"steps", *rows}, {"out", out}});
    else
        std::printf("adaptation %lld (%d steps) written to %s\n", static_cast<long long>(*id), *rows, out.toLocal8Bit().constData());
    return 0;
}

}  // namespace

int runExport(const QStringList& args) {
    Command cmd(QStringLiteral("export"),
                QStringLiteral("Exports one run: .csv (samples), .sqlite (the run with its model, profiles and "
                               "regressions), .json (summary), .pdf or .png (latency, accuracy and energy plots)."),
                QStringLiteral("--db DB (--run ID --out FILE.(csv|sqlite|json|pdf|png) | --fleet ID [--devices 0,2] --out FILE.csv | --adaptation ID --out FILE.csv)"));
    cmd.addOptions({{"db", "Run database.", "DB"},
                    {"run", "Run ID.", "ID"},
                    {"fleet", "A fleet's samples instead (edgent run --devices): every device's, in one CSV.", "ID"},
                    {"devices", "With --fleet: only these devices (their numbers in the fleet), e.g. 0,3.", "LIST"},
                    {"adaptation", "An adaptation's steps instead (edgent adapt): loss, accuracy and every layer's width.", "ID"},
                    {"out", "File to write.", "FILE"},
                    {"deadline", "Deadline line on the latency plot, e.g. 300ms.", "D"}});
    int code = 0;
    if (!cmd.parse(args, &code)) return code;
    auto& p = cmd.parser();
    if (p.isSet("adaptation")) return exportAdaptation(cmd);
    if (p.isSet("fleet")) return exportFleet(cmd);
    if (p.isSet("devices")) return cmd.fail("--devices filters a fleet's export: give --fleet");
    for (const char* required : {"db", "run", "out"})
        if (!p.isSet(required)) return cmd.fail(QStringLiteral("--%1 is required").arg(required));
    const auto runId = parseRunId(p.value("run"));
    if (!runId) return cmd.fail("--run must be a run ID, got '" + p.value("run") + "'");
    auto store = openForReading(p.value("db").toStdString());
    if (!store) return cmd.fail(QString::fromStdString(store.error()));
    const QString out = p.value("out");
    const QString suffix = QFileInfo(out).suffix().toLower();
    if (suffix == "pdf" || suffix == "png") {
#ifdef EDGENT_HAVE_WIDGETS
        auto run = (*store)->run(*runId);
        if (!run) return cmd.fail(QString::fromStdString(run.error()));
        auto samples = (*store)->samples(*runId);
        auto events = (*store)->events(*runId);
        if (!samples || !events) return cmd.fail(QString::fromStdString(!samples ? samples.error() : events.error()));
        widgets::RunFigure figure;
        figure.title = QStringLiteral("run %1: %2, %3 inferences")
                           .arg(*runId)
                           .arg(QString::fromStdString(run->modelName))
                           .arg(samples->size());
        figure.samples = std::move(samples).value();
        figure.events = std::move(events).value();
        if (p.isSet("deadline")) {
            const auto d = parseDurationMs(p.value("deadline"));
            if (!d) return cmd.fail("--deadline must look like 300ms");
            figure.deadlineMs = *d;
        } else if (run->params.count("deadline_ms")) {
            figure.deadlineMs = QString::fromStdString(run->params.at("deadline_ms")).toDouble();
        }
        if (auto s = widgets::saveRunFigure(figure, out); !s) return cmd.fail(QString::fromStdString(s.error()));
#else
        return cmd.fail("this build has no plotting library (configured with EDGENT_BUILD_GUI=OFF)");
#endif
    } else if (auto s = core::store::exportRun(**store, *runId, out.toStdString()); !s) {
        return cmd.fail(QString::fromStdString(s.error()));
    }
    if (cmd.json())
        printJson(QJsonObject{{"run_id", static_cast<qint64>(*runId)}, {"out", out}});
    else
        std::printf("run %lld written to %s\n", static_cast<long long>(*runId), out.toLocal8Bit().constData());
    return 0;
}

}  // namespace edgent::app
