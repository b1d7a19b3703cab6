#include "app/cli/CliCommon.h"

#include "core/model/ModelImport.h"
#include "core/net/Codec.h"
#include "core/plan/Adaptive.h"

#include <cmath>

#include <QDir>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QStandardPaths>

#include <cstdio>

namespace edgent::app {

Command::Command(QString name, QString description, QString usage)
    : name_(std::move(name)),
      description_(std::move(description)),
      usage_(std::move(usage)) {
    parser_.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    addOptions({{QStringLiteral("help"), QStringLiteral("Show this help and exit.")},
                {QStringLiteral("json"), QStringLiteral("Print one JSON object on stdout.")}});
}

void Command::addOptions(const QList<QCommandLineOption>& options) {
    for (const auto& o : options) {
        parser_.addOption(o);
        options_.append(o);
    }
}

bool Command::parse(const QStringList& args, int* exitCode) {
    QStringList full = args;
    full.prepend(QStringLiteral("edgent ") + name_);
    if (!parser_.parse(full)) {
        *exitCode = 2;
        fail(parser_.errorText());
        return false;
    }
    if (parser_.isSet(QStringLiteral("help"))) {
        QString help = QStringLiteral("Usage: edgent %1 %2\n\n%3\n\nOptions:\n").arg(name_, usage_, description_);
        for (const QCommandLineOption& option : options_) {
            QString names;
            for (const QString& n : option.names()) names += (names.isEmpty() ? "--" : ", --") + n;
            if (!option.valueName().isEmpty()) names += " " + option.valueName();
            help += QStringLiteral("  %1\n      %2\n").arg(names, option.description());
        }
        std::fputs(help.toLocal8Bit().constData(), stdout);
        *exitCode = 0;
        return false;
    }
    if (parser_.positionalArguments().size() > positionals_) {
        *exitCode = 2;
        fail(QStringLiteral("unexpected argument '%1' (see --help)").arg(parser_.positionalArguments().at(positionals_)));
        return false;
    }
    return true;
}

int Command::fail(const QString& message) const {
    QString line = message.simplified();
    std::fprintf(stderr, "edgent %s: %s\n", name_.toLocal8Bit().constData(), line.toLocal8Bit().constData());
    return 1;
}

std::optional<qint64> Command::intOption(const QString& option, qint64 fallback, qint64 min, qint64 max, int* exitCode) const {
    if (!parser_.isSet(option)) return fallback;
    bool ok = false;
    const qint64 v = parser_.value(option).toLongLong(&ok);
    if (!ok || v < min || v > max) {
        *exitCode = 2;
        fail(QStringLiteral("--%1 must be an integer from %2 to %3, got '%4'")
                 .arg(option)
                 .arg(min)
                 .arg(max)
                 .arg(parser_.value(option)));
        return std::nullopt;
    }
    return v;
}

std::optional<double> Command::numberOption(const QString& option, double fallback, double min, double max, int* exitCode) const {
    if (!parser_.isSet(option)) return fallback;
    bool ok = false;
    const double v = parser_.value(option).toDouble(&ok);
    if (!ok || v < min || v > max) {
        *exitCode = 2;
        fail(QStringLiteral("--%1 must be a number from %2 to %3, got '%4'")
                 .arg(option)
                 .arg(min)
                 .arg(max)
                 .arg(parser_.value(option)));
        return std::nullopt;
    }
    return v;
}

void printJson(const QJsonObject& object) {
    const QByteArray text = QJsonDocument(object).toJson(QJsonDocument::Compact);
    std::fwrite(text.constData(), 1, static_cast<size_t>(text.size()), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

QCommandLineOption modelCliOption() {
    return {QStringLiteral("model"),
            QStringLiteral("Model: a native model JSON or a TorchScript module (.pt) (default: the shipped default model)."),
            QStringLiteral("MODEL")};
}

std::optional<core::ModelBytes> readModelOption(const Command& cmd, int* exitCode) {
    const auto& p = cmd.parser();
    const std::string path =
        p.isSet(QStringLiteral("model")) ? p.value(QStringLiteral("model")).toStdString() : core::defaultModelPath();
    auto bytes = core::readAnyModel(path);
    if (!bytes) {
        *exitCode = cmd.fail(QString::fromStdString(bytes.error()));
        return std::nullopt;
    }
    return std::move(bytes).value();
}

QList<QCommandLineOption> workerCliOptions() {
    return {
        {QStringLiteral("local"), QStringLiteral("Spawn both workers on loopback (the default).")},
        {QStringLiteral("device"), QStringLiteral("Control endpoint of a running device worker."), QStringLiteral("EP")},
        {QStringLiteral("edge"), QStringLiteral("Control endpoint of a running edge worker."), QStringLiteral("EP")},
        {QStringLiteral("curve-keys"), QStringLiteral("CURVE key folder for remote workers (see edgent keys)."),
         QStringLiteral("DIR")},
        {QStringLiteral("threads"), QStringLiteral("LibTorch threads per local worker (default 1)."), QStringLiteral("N")},
        {QStringLiteral("edge-threads"), QStringLiteral("LibTorch threads of the local edge worker (default: --threads)."),
         QStringLiteral("N")},
        {QStringLiteral("slowdown-wait"),
         QStringLiteral("How an emulated slow device waits: spin or sleep, for many devices on fewer cores (default: "
                        "a planned run's device waits as it was profiled, a fleet's devices sleep, otherwise spin)."),
         QStringLiteral("HOW")},
    };
}

std::optional<std::vector<std::string>> planningList(const QString& text) {
    return parseList<std::string>(text, [](const QString& t) -> std::optional<std::string> {
        if (t == "joint" || t == "paced" || t == "independent") return t.toStdString();
        return std::nullopt;
    });
}

std::optional<core::control::WorkerLinkOptions> workerLinkOptions(const Command& cmd, double deviceSlowdown, int* exitCode,
                                                                  const std::string& defaultWait) {
    const auto& p = cmd.parser();
    // A fleet's --device-list (run only; optionNames holds only options given) stands for --device.
    const bool deviceList = p.optionNames().contains(QStringLiteral("device-list"));
    const bool remote = p.isSet(QStringLiteral("device")) || p.isSet(QStringLiteral("edge")) || deviceList;
    auto refuse = [&](const char* why) -> std::optional<core::control::WorkerLinkOptions> {
        *exitCode = cmd.fail(QString::fromUtf8(why));
        return std::nullopt;
    };
    if (remote && p.isSet(QStringLiteral("local"))) return refuse("--local and --device/--edge exclude each other");
    if (remote && !((p.isSet(QStringLiteral("device")) || deviceList) && p.isSet(QStringLiteral("edge"))))
        return refuse(deviceList ? "--device-list needs --edge (the shared edge's control endpoint)"
                                 : "--device and --edge go together");
    const auto threads = cmd.intOption(QStringLiteral("threads"), 1, 1, 256, exitCode);
    if (!threads) return std::nullopt;
    const auto edgeThreads = cmd.intOption(QStringLiteral("edge-threads"), *threads, 1, 256, exitCode);
    if (!edgeThreads) return std::nullopt;
    core::control::WorkerLinkOptions o;
    o.local = !remote;
    o.deviceEndpoint = p.value(QStringLiteral("device")).toStdString();
    o.edgeEndpoint = p.value(QStringLiteral("edge")).toStdString();
    o.curveKeysDir = p.value(QStringLiteral("curve-keys")).toStdString();
    o.deviceThreads = static_cast<int>(*threads);
    o.edgeThreads = static_cast<int>(*edgeThreads);
    o.deviceSlowdown = deviceSlowdown;
    o.slowdownWait = p.value(QStringLiteral("slowdown-wait")).toStdString();
    if (o.slowdownWait.empty()) o.slowdownWait = defaultWait == "sleep" ? "sleep" : "spin";
    if (o.slowdownWait != "spin" && o.slowdownWait != "sleep") return refuse("--slowdown-wait must be spin or sleep");
    return o;
}

void warnUnlikeProfile(const std::string& who, double profiledSlowdown, const std::string& profiledWait, double slowdown,
                       const std::string& wait) {
    if (slowdown != profiledSlowdown)
        std::fprintf(stderr, "warning: the device was profiled with slowdown %g, %s runs it with %g; the plan will be off\n",
                     profiledSlowdown, who.c_str(), slowdown);
    else if (slowdown > 1.0 && !profiledWait.empty() && wait != profiledWait)
        std::fprintf(stderr, "warning: the device's slowdown was profiled with --slowdown-wait %s, %s uses %s; the plan will be off\n",
                     profiledWait.c_str(), who.c_str(), wait.c_str());
}

QList<QCommandLineOption> earlyExitCliOptions() {
    return {
        {QStringLiteral("early-exits"),
         QStringLiteral("Per-input early exits on the device, in the order they attach, e.g. 0,1: an input stops at the "
                        "first it is confident at (needs --rule and --threshold)."),
         QStringLiteral("K,...")},
        {QStringLiteral("rule"),
         QStringLiteral("Confidence rule of the early exits: entropy (stop when below T, T in [0, ln C]), max-softmax (stop "
                        "when the top probability is at least T) or appeal (stop when the appeal probability is below T)."),
         QStringLiteral("R")},
        {QStringLiteral("threshold"), QStringLiteral("One threshold for every early exit, or one each: T or T1,T2,..."),
         QStringLiteral("T")},
    };
}

std::optional<core::EarlyExits> earlyExitsOption(const Command& cmd, const core::ModelSpec& spec, int finalExit, int* exitCode) {
    const auto& p = cmd.parser();
    auto refuse = [&](const QString& why) -> std::optional<core::EarlyExits> {
        *exitCode = cmd.fail(why);
        return std::nullopt;
    };
    core::EarlyExits early;
    if (!p.isSet(QStringLiteral("early-exits"))) {
        if (p.isSet(QStringLiteral("rule")) || p.isSet(QStringLiteral("threshold")))
            return refuse(QStringLiteral("--rule and --threshold go with --early-exits"));
        return early;
    }
    if (!p.isSet(QStringLiteral("rule")) || !p.isSet(QStringLiteral("threshold")))
        return refuse(QStringLiteral("--early-exits needs --rule and --threshold"));
    auto rule = core::confidenceRuleFromName(p.value(QStringLiteral("rule")).toStdString());
    if (!rule || *rule == core::ConfidenceRule::None)
        return refuse(QStringLiteral("--rule must be entropy, max-softmax or appeal, got '%1'").arg(p.value(QStringLiteral("rule"))));
    early.rule = *rule;
    for (const QString& k : p.value(QStringLiteral("early-exits")).split(',', Qt::SkipEmptyParts)) {
        bool ok = false;
        const int e = k.trimmed().toInt(&ok);
        if (!ok) return refuse(QStringLiteral("--early-exits must be exit numbers, got '%1'").arg(k));
        early.exits.push_back(e);
    }
    for (const QString& t : p.value(QStringLiteral("threshold")).split(',', Qt::SkipEmptyParts)) {
        bool ok = false;
        const double v = t.trimmed().toDouble(&ok);
        if (!ok) return refuse(QStringLiteral("--threshold must be numbers, got '%1'").arg(t));
        early.thresholds.push_back(v);
    }
    if (early.thresholds.size() == 1 && early.exits.size() > 1) early.thresholds.assign(early.exits.size(), early.thresholds[0]);
    if (auto s = core::plan::checkEarlyExits(spec, early, finalExit); !s) return refuse(QString::fromStdString(s.error()));
    return early;
}

QCommandLineOption codecCliOption() {
    return {QStringLiteral("codec"),
            QStringLiteral("How the cut tensor travels: fp32, fp16, int8, fp32+zstd, fp16+zstd or int8+zstd; with --policy also "
                           "auto (default there: the planner chooses it with the exit and partition, among the codecs a "
                           "validation codec calibration (edgent calibrate --codecs) and the profiles' codec times cover). "
                           "Default without a policy: fp32."),
            QStringLiteral("CODEC")};
}

std::optional<std::string> codecOption(const Command& cmd, bool planned, int* exitCode) {
    const auto& p = cmd.parser();
    const std::string value = p.isSet(QStringLiteral("codec")) ? p.value(QStringLiteral("codec")).toStdString()
                                                               : (planned ? "auto" : "fp32");
    if (value == "auto") {
        if (planned) return value;
        *exitCode = cmd.fail(QStringLiteral("--codec auto needs --policy: a codec pinned by hand is one of fp32, fp16, int8, "
                                            "fp32+zstd, fp16+zstd, int8+zstd"));
        return std::nullopt;
    }
    if (auto c = core::net::codecFromName(value); !c) {
        *exitCode = cmd.fail(QString::fromStdString("--codec: " + c.error()));
        return std::nullopt;
    }
    return value;
}

std::optional<double> targetAccuracyOption(const Command& cmd, int* exitCode) {
    const auto& p = cmd.parser();
    if (!p.isSet(QStringLiteral("target-accuracy"))) return NAN;
    QString text = p.value(QStringLiteral("target-accuracy")).trimmed();
    const bool percent = text.endsWith('%');
    if (percent) text.chop(1);
    bool ok = false;
    double v = text.toDouble(&ok);
    if (percent) v /= 100.0;
    if (!ok || !(v > 0.0 && v <= 1.0)) {
        *exitCode = cmd.fail(QStringLiteral("--target-accuracy must lie in (0, 1] (or be a percentage), got '%1'")
                                 .arg(p.value(QStringLiteral("target-accuracy"))));
        return std::nullopt;
    }
    return v;
}

std::string defaultDatabasePath() {
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) + "/edgent-workbench";
    QDir().mkpath(dir);
    return (dir + "/runs.sqlite").toStdString();
}

std::optional<double> parseBandwidthBps(const QString& text) {
    static const QRegularExpression re(
        QStringLiteral(R"(^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([kKmMgG]?)(bps|bit/s)?\s*$)"));
    const auto m = re.match(text);
    if (!m.hasMatch()) return std::nullopt;
    double v = m.captured(1).toDouble();
    const QString unit = m.captured(2).toLower();
    if (unit == "k")
        v *= 1e3;
    else if (unit == "m")
        v *= 1e6;
    else if (unit == "g")
        v *= 1e9;
    if (!(v > 0.0)) return std::nullopt;
    return v;
}

std::optional<double> parseDurationMs(const QString& text) {
    static const QRegularExpression re(QStringLiteral(R"(^\s*([0-9]*\.?[0-9]+)\s*(us|ms|s|min)\s*$)"));
    const auto m = re.match(text);
    if (!m.hasMatch()) return std::nullopt;
    double v = m.captured(1).toDouble();
    const QString unit = m.captured(2);
    if (unit == "us")
        v /= 1000.0;
    else if (unit == "s")
        v *= 1000.0;
    else if (unit == "min")
        v *= 60000.0;
    if (!(v > 0.0)) return std::nullopt;
    return v;
}

QString formatDuration(double seconds) {
    const qint64 s = static_cast<qint64>(seconds + 0.5);
    if (s >= 3600) return QStringLiteral("%1h%2m").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QLatin1Char('0'));
    if (s >= 60) return QStringLiteral("%1m%2s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1s").arg(s);
}

}  // namespace edgent::app
