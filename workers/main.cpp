// edgent-worker: the headless device or edge process. Prints one JSON line with its bound
// endpoints, then serves its control channel until `shutdown`, SIGINT or SIGTERM.
#include "workers/Worker.h"

#include "core/util/Slowdown.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QJsonDocument>

#include <csignal>
#include <cstdio>

namespace {

std::atomic<bool> gStop{false};
extern "C" void onSignal(int) { gStop.store(true); }

int fail(const std::string& message) {
    std::fprintf(stderr, "edgent-worker: %s\n", message.c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(
        "Edgent Workbench worker. The device role streams dataset images, runs layers [0, p) of the configured exit "
        "and sends the cut tensor to the edge; the edge role runs [p, n) and answers with the prediction.");
    parser.addHelpOption();
    parser.addOptions({
        {"role", "device or edge.", "ROLE"},
        {"bind",
         "Control endpoint to bind (default tcp://127.0.0.1:0, an ephemeral loopback port). "
         "Serving a real network needs an explicit address, e.g. tcp://0.0.0.0:5555.",
         "EP", "tcp://127.0.0.1:0"},
        {"data-bind",
         "Edge only: data endpoint to bind (default: --bind's host on an ephemeral port, so an edge "
         "that serves another host takes the device's frames there too).",
         "EP"},
        {"threads", "LibTorch compute threads (default 1).", "N", "1"},
        {"curve-keys", "Folder of CURVE keys (see `edgent keys`): only authorised clients may connect.", "DIR"},
        {"max-frame-bytes", "Largest data frame accepted (default 64 MiB).", "BYTES"},
        {"parent-pid",
         "Exit when this process is no longer the worker's parent (set by controllers that spawn local "
         "workers, so none outlives a killed window or command).",
         "PID"},
        {"energy",
         "Device: energy sensor to read per sample: auto (RAPL, then an INA219, else the controller's "
         "power model), rapl, ina219 or none.",
         "KIND", "auto"},
        {"slowdown-wait",
         "How --slowdown waits: spin (default: busy, as a slow device is while it computes) or sleep (for many "
         "emulated devices on fewer cores, which spinning would make compete for them).",
         "HOW", "spin"},
        {"queue", "Edge: frames that may wait for a server in total (default 16); more are answered busy.", "N", "16"},
        {"queue-per-device", "Edge: frames one device may have waiting (default 2); more are answered busy.", "N", "2"},
        {"servers", "Edge: threads serving the queue (default 1), each with --threads LibTorch threads.", "N", "1"},
        {"slowdown",
         "Emulate a node F times slower: every computation is followed by a wait of (F-1) times its "
         "duration. For demos without a slow device; reported in hello and recorded with runs.",
         "F", "1"},
    });
    if (!parser.parse(QCoreApplication::arguments())) return fail(parser.errorText().toStdString());
    if (parser.isSet("help")) {
        std::fputs(parser.helpText().toLocal8Bit().constData(), stdout);
        return 0;
    }
    if (!parser.isSet("role")) return fail("--role device|edge is required");
    auto role = edgent::core::net::roleFromName(parser.value("role").toStdString());
    if (!role) return fail(role.error());
    edgent::workers::WorkerOptions options;
    options.role = *role;
    options.controlBind = parser.value("bind").toStdString();
    options.dataBind =
        parser.isSet("data-bind") ? parser.value("data-bind").toStdString() : edgent::workers::dataBindFor(options.controlBind);
    bool ok = false;
    options.threads = parser.value("threads").toInt(&ok);
    if (!ok || options.threads < 1 || options.threads > 256) return fail("--threads must be an integer from 1 to 256");
    options.curveKeysDir = parser.value("curve-keys").toStdString();
    if (parser.isSet("parent-pid")) {
        options.parentPid = parser.value("parent-pid").toLong(&ok);
        if (!ok || options.parentPid <= 0) return fail("--parent-pid must be a process id");
    }
    if (parser.isSet("max-frame-bytes")) {
        const qint64 cap = parser.value("max-frame-bytes").toLongLong(&ok);
        if (!ok || cap < 1024) return fail("--max-frame-bytes must be an integer of at least 1024");
        options.maxFrameBytes = static_cast<size_t>(cap);
    }
    options.slowdown = parser.value("slowdown").toDouble(&ok);
    if (!ok || options.slowdown < 1.0 || options.slowdown > 1000.0) return fail("--slowdown must be a number from 1 to 1000");
    options.energySensor = parser.value("energy").toStdString();
    const QString wait = parser.value("slowdown-wait");
    if (wait != "spin" && wait != "sleep") return fail("--slowdown-wait must be spin or sleep");
    edgent::core::slowdownSpins() = wait == "spin";
    options.queueCapacity = parser.value("queue").toInt(&ok);
    if (!ok || options.queueCapacity < 1 || options.queueCapacity > 4096) return fail("--queue must be an integer from 1 to 4096");
    options.queuePerDevice = parser.value("queue-per-device").toInt(&ok);
    if (!ok || options.queuePerDevice < 1 || options.queuePerDevice > options.queueCapacity)
        return fail("--queue-per-device must be an integer from 1 to --queue");
    options.servers = parser.value("servers").toInt(&ok);
    if (!ok || options.servers < 1 || options.servers > 64) return fail("--servers must be an integer from 1 to 64");
    torch::set_num_threads(options.threads);
    // Flush denormal floats to zero. On real images some activations (after LRN) fall into
    // the denormal range, where x86 arithmetic is many times slower: inferences then took
    // 1.3-1.6x the time the profile (random inputs) measured. Predictions are unaffected.
    at::globalContext().setFlushDenormal(true);

    edgent::workers::Worker worker(options);
    if (auto s = worker.bind(); !s) return fail(s.error());
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    const QByteArray line = QJsonDocument(worker.endpoints()).toJson(QJsonDocument::Compact);
    std::printf("%s\n", line.constData());
    std::fflush(stdout);
    return worker.run(gStop);
}
