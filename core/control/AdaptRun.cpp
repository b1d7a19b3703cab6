#include "core/control/AdaptRun.h"

#include "core/store/RunStore.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace edgent::core::control {

using net::Role;

Status useValidationRange(AdaptOptions& o, const ModelBytes& model) {
    const QJsonObject training = QJsonDocument::fromJson(QByteArray::fromStdString(model.file.trainingJson)).object();
    const QJsonObject v = training.value("validation").toObject();
    if (!v.value("first").isDouble() || !v.value("count").isDouble())
        return makeError("the model records no held-out validation split (train it with edgent train --validation N); adapting on "
                         "the test split would measure on the images it trained on");
    const int64_t first = v.value("first").toInteger(), count = v.value("count").toInteger();
    if (count < o.evalCount + o.batch)
        return makeError("the model's validation split holds " + std::to_string(count) + " images: too few for " +
                         std::to_string(o.evalCount) + " held out and a batch of " + std::to_string(o.batch));
    o.evalFirst = first + count - o.evalCount;
    o.trainCount = std::min(o.trainCount, count - o.evalCount);
    o.trainFirst = o.evalFirst - o.trainCount;
    return Status::success();
}

namespace {

// The adapted model beside `path`: the spec as it was, the weights the device returned, and
// where it came from in its provenance.
Status saveAdapted(const std::string& path, const ModelBytes& model, const std::string& weights, uint32_t crc,
                   const AdaptReport& report, int64_t adaptationId) {
    if (path.size() < 6 || path.substr(path.size() - 5) != ".json") return makeError("save the adapted model as a .json file");
    const std::string weightsPath = path.substr(0, path.size() - 5) + ".weights";
    const std::string weightsFile = weightsPath.substr(weightsPath.find_last_of('/') + 1);
    QJsonObject training = QJsonDocument::fromJson(QByteArray::fromStdString(model.file.trainingJson)).object();
    training["adaptation"] = QJsonObject{{"mode", QString::fromStdString(report.mode)},
                                         {"exit", report.exit},
                                         {"partition", report.partition},
                                         {"adaptation_id", static_cast<qint64>(adaptationId)},
                                         {"shifted_before", report.shiftedBefore},
                                         {"shifted_after", report.shiftedAfter}};
    if (auto s = writeFileAtomically(weightsPath, weights); !s) return s;
    return writeFileAtomically(path, modelFileJson(model.file.spec, weightsFile, static_cast<int64_t>(weights.size()), crc,
                                                   QJsonDocument(training).toJson(QJsonDocument::Compact).toStdString()));
}

}  // namespace

Result<AdaptRunOutcome> runAdaptation(Controller& c, const ModelBytes& model, AdaptRunOptions o,
                                      const std::function<void(const AdaptRunProgress&)>& progress, const std::atomic<bool>* cancel) {
    if (auto s = useValidationRange(o.adapt, model); !s) return makeError(s.error());
    auto db = store::RunStore::open(o.dbPath);
    if (!db) return makeError(db.error());
    const QJsonObject args = adaptOptionsToJson(o.adapt);
    auto id = (*db)->beginAdaptation(o.experiment, o.modelId, o.adapt.mode, QJsonDocument(args).toJson(QJsonDocument::Compact).toStdString(),
                                     c.info(Role::Device).endpoint);
    if (!id) return makeError(id.error());
    auto fail = [&](const std::string& why) -> Result<AdaptRunOutcome> {
        (void)(*db)->finishAdaptation(*id, "failed", why, AdaptReport{});
        return makeError(why);
    };
    // Shared with the handler: the controller may still be running it when this returns.
    struct State {
        std::mutex mutex;
        std::condition_variable changed;
        std::string failure;
        std::function<void(const AdaptRunProgress&)> progress;
    };
    auto state = std::make_shared<State>();
    state->progress = progress;
    Controller::Subscription subscription = c.subscribe({}, [state](const WorkerEvent& e) {
        if (e.role != Role::Device) return;
        if (e.kind == net::EventKind::AdaptProgress && state->progress) state->progress({e.done, e.total, 0.0});
        std::lock_guard lock(state->mutex);
        if (e.kind == net::EventKind::AdaptError || e.kind == net::EventKind::WorkerDown) state->failure = e.message;
        state->changed.notify_all();
    });
    if (auto r = c.call(Role::Device, net::Command::Adapt, QJsonObject{{"options", args}}, 10000); !r) return fail(r.error());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(o.timeoutMs);
    bool stopped = false;
    QJsonObject result;
    while (true) {
        {
            std::unique_lock lock(state->mutex);
            state->changed.wait_for(lock, std::chrono::milliseconds(250));
            if (!state->failure.empty()) {
                const std::string why = "device worker: " + state->failure;
                lock.unlock();
                return fail(why);
            }
        }
        if (cancel && cancel->load() && !stopped) {
            stopped = true;  // the device ends its adaptation after the current step, and keeps its model
            if (auto r = c.call(Role::Device, net::Command::Stop, {}, 30000); !r) return fail(r.error());
        }
        auto r = c.call(Role::Device, net::Command::AdaptResult, QJsonObject{{"weights", !o.savePath.empty()}}, 30000);
        if (!r) return fail(r.error());
        if (r->value("ready").toBool()) {
            result = *r;
            break;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            (void)c.call(Role::Device, net::Command::Stop, {}, 30000);
            return fail("the adaptation did not finish within " + std::to_string(o.timeoutMs / 60000) + " minutes");
        }
    }
    AdaptRunOutcome out;
    out.adaptationId = *id;
    out.report = adaptReportFromJson(result.value("report").toObject());
    out.status = out.report.cancelled ? "cancelled" : "finished";
    if (!o.savePath.empty() && !out.report.cancelled) {
        const QByteArray weights = QByteArray::fromBase64(result.value("weights").toString().toLatin1());
        if (weights.isEmpty()) return fail("the device returned no weights to save");
        if (auto s = saveAdapted(o.savePath, model, weights.toStdString(), static_cast<uint32_t>(result.value("weights_crc32").toInteger()),
                                 out.report, *id);
            !s)
            return fail(s.error());
        out.savedPath = o.savePath;
    }
    if (auto s = (*db)->finishAdaptation(*id, out.status, {}, out.report, out.savedPath); !s) return makeError(s.error());
    return out;
}

Result<std::vector<AdaptRunOutcome>> runAdaptations(WorkerLink& link, const ModelBytes& model, const std::vector<std::string>& modes,
                                                    const AdaptRunOptions& options,
                                                    const std::function<void(const std::string&, const AdaptRunProgress&)>& progress,
                                                    const std::atomic<bool>* cancel) {
    std::vector<AdaptRunOutcome> out;
    for (const std::string& mode : modes) {
        if (auto s = link.loadModel(model); !s) return makeError(mode + ": " + s.error());
        AdaptRunOptions o = options;
        o.adapt.mode = mode;
        if (modes.size() > 1) o.savePath.clear();
        auto r = runAdaptation(link.controller(), model, o, [&](const AdaptRunProgress& p) { if (progress) progress(mode, p); }, cancel);
        if (!r) return makeError(mode + ": " + r.error());
        out.push_back(std::move(*r));
        if (out.back().status == "cancelled") break;
    }
    return out;
}

}  // namespace edgent::core::control
