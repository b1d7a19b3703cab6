#pragma once
// Shared plumbing for the `edgent` subcommands: the one-line error convention, --help and
// --json handling, and unit parsing.

#include "core/control/FleetRun.h"
#include "core/control/LiveRun.h"
#include "core/control/WorkerLink.h"
#include "core/model/Confidence.h"
#include "core/model/ModelFile.h"

#include <QCommandLineParser>
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <atomic>
#include <optional>
#include <vector>

namespace edgent::core {
struct CalibrateOptions;
}
namespace edgent::core::store {
class RunStore;
}

namespace edgent::app {

// The --predictor option's help, the same for every command that plans.
inline const QString kPredictorHelp = QStringLiteral(
    "auto (default: lookup-p95 when the model was profiled on both nodes, else forest-p95), lookup-p95 or lookup (measured "
    "per-layer 95th percentiles or medians), forest-p95 or forest (boosted trees on each layer's configuration: predict "
    "models never profiled), regression-p95, regression or regression-macs (Edgent's Table-1 fits, which predict models "
    "never profiled too).");

class Command {
public:
    // `usage` is the synopsis line printed by --help after "edgent <name>".
    Command(QString name, QString description, QString usage);

    QCommandLineParser& parser() { return parser_; }
    const QCommandLineParser& parser() const { return parser_; }
    void addOptions(const QList<QCommandLineOption>& options);
    // Accept up to n positional arguments (none by default).
    void allowPositionals(int n) { positionals_ = n; }
    // Parses; on --help prints help and returns 0 through *exitCode; on error prints one line
    // and sets *exitCode to 2. Returns true when the command should proceed.
    bool parse(const QStringList& args, int* exitCode);

    // Prints "edgent <name>: message" on stderr and returns 1.
    int fail(const QString& message) const;
    bool json() const { return parser_.isSet(QStringLiteral("json")); }
    const QString& name() const { return name_; }

    // Integer option: missing → fallback; malformed or out of range → error via fail().
    std::optional<qint64> intOption(const QString& option, qint64 fallback, qint64 min, qint64 max, int* exitCode) const;
    // The same for a real number.
    std::optional<double> numberOption(const QString& option, double fallback, double min, double max, int* exitCode) const;

private:
    QString name_;
    QString description_;
    QString usage_;
    QCommandLineParser parser_;
    QList<QCommandLineOption> options_;  // for --help, in declaration order
    int positionals_ = 0;
};

void printJson(const QJsonObject& object);

// A fleet's plannings, comma-separated: any of joint, paced and independent; nullopt otherwise.
std::optional<std::vector<std::string>> planningList(const QString& text);

// A comma-separated list, each item through `parse` (returning an optional); nullopt when an
// item does not parse or the list is empty.
template <typename T, typename Parse>
std::optional<std::vector<T>> parseList(const QString& text, Parse parse) {
    std::vector<T> out;
    for (const QString& part : text.split(',', Qt::SkipEmptyParts)) {
        const auto v = parse(part.trimmed());
        if (!v) return std::nullopt;
        out.push_back(*v);
    }
    if (out.empty()) return std::nullopt;
    return out;
}

// --model: a native model JSON or a TorchScript module (.pt), or the shipped default model.
QCommandLineOption modelCliOption();
std::optional<core::ModelBytes> readModelOption(const Command& cmd, int* exitCode);

// The options of every command that runs workers: --local | --device EP --edge EP,
// --curve-keys, --threads and --edge-threads.
QList<QCommandLineOption> workerCliOptions();
// The link they describe; the local device emulates a device `deviceSlowdown` times slower.
// --slowdown-wait defaults to defaultWait (spin unless a profile says how its device waited).
std::optional<core::control::WorkerLinkOptions> workerLinkOptions(const Command& cmd, double deviceSlowdown, int* exitCode,
                                                                  const std::string& defaultWait = "spin");
// One warning line on stderr for each way a local device will run unlike its profile (its
// slowdown, and how that slowdown waits), since plans made on the profile will be off.
void warnUnlikeProfile(const std::string& who, double profiledSlowdown, const std::string& profiledWait, double slowdown,
                       const std::string& wait);

// Per-input early exits pinned by hand: --early-exits K,... --rule R --threshold T[,...].
QList<QCommandLineOption> earlyExitCliOptions();
// The early exits they give (none when --early-exits is not set), checked against the model.
std::optional<core::EarlyExits> earlyExitsOption(const Command& cmd, const core::ModelSpec& spec, int finalExit, int* exitCode);
// --codec: the cut tensor's codec (docs/codecs.md).
QCommandLineOption codecCliOption();
// Its value: a codec's name, or "auto" (planned runs only; `planned` false refuses it). The
// default: auto when planned, fp32 otherwise.
std::optional<std::string> codecOption(const Command& cmd, bool planned, int* exitCode);
// --target-accuracy A (0.91 or 91%): NaN when not given.
std::optional<double> targetAccuracyOption(const Command& cmd, int* exitCode);

// runs.sqlite in the user's data folder.
std::string defaultDatabasePath();

// "50kbps", "1.5Mbps", "100Mbps", "2Gbps", or plain bits per second.
std::optional<double> parseBandwidthBps(const QString& text);
// "300ms", "1.2s", "500us"; returns milliseconds.
std::optional<double> parseDurationMs(const QString& text);

QString formatDuration(double seconds);

int runTrain(const QStringList& args);
int runEval(const QStringList& args);
int runRun(const QStringList& args);
// `edgent run --devices N` (app/cli/FleetCommand.cpp): its options, whether they were given,
// and the fleet run itself from run's parsed options.
QList<QCommandLineOption> fleetCliOptions();
bool wantsFleet(const Command& cmd);
int runFleetCli(Command& cmd, const core::control::LiveRunOptions& run, const core::control::WorkerLinkOptions& link,
                const core::ModelBytes& model);
// `edgent sweep --devices LIST` (app/cli/FleetCommand.cpp): its options, and the grid of
// fleets over bandwidths x deadlines x device counts x plannings x edge servers.
QList<QCommandLineOption> fleetSweepCliOptions();
// A fleet's workers as the link's, except that its emulated devices sleep out their slowdown
// unless --slowdown-wait says otherwise.
void useWorkerOptions(core::control::FleetOptions& fleet, const core::control::WorkerLinkOptions& link, const Command& cmd);
int runFleetSweep(Command& cmd, core::control::FleetOptions base, const std::vector<double>& bandwidthsBps,
                  const std::vector<double>& deadlinesMs, const QString& out);
int runKeys(const QStringList& args);
int runRuns(const QStringList& args);
int runExport(const QStringList& args);
int runProfile(const QStringList& args);
int runPlan(const QStringList& args);
int runSweep(const QStringList& args);
int runFleetSim(const QStringList& args);
int runCalibrate(const QStringList& args);
int runAdapt(const QStringList& args);
// `edgent calibrate --codecs` (app/cli/CodecCommand.cpp), after calibrate has read its options.
int runCodecCalibration(Command& cmd, core::store::RunStore& db, int64_t modelId, const std::string& modelPath,
                        const core::ModelSpec& spec, const core::CalibrateOptions& options, const std::atomic<bool>* cancel);
int runReproduce(const QStringList& args);

}  // namespace edgent::app
