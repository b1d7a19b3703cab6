#include "app/gui/Session.h"

#include "core/control/ProfileRun.h"
#include "core/model/ModelImport.h"
#include "core/store/Export.h"

#include <QFileInfo>

#include <cmath>

namespace edgent::gui {

using namespace edgent::core;
using net::Role;

Session::Session(QObject* parent) : QObject(parent) {
    qRegisterMetaType<std::vector<LiveSample>>();
    if (auto p = energy::powerProfile(powerProfile_)) power_ = std::move(*p);
    jobThread_ = std::thread([this] {
        std::unique_lock lock(jobMutex_);
        while (true) {
            jobWake_.wait(lock, [this] { return jobStop_ || !jobs_.empty(); });
            if (jobs_.empty()) return;  // stopping, and nothing left
            auto job = std::move(jobs_.front());
            jobs_.pop_front();
            lock.unlock();
            job();
            lock.lock();
        }
    });
    workerTimer_.setInterval(500);
    connect(&workerTimer_, &QTimer::timeout, this, &Session::workersChanged);
    workerTimer_.start();
    flushTimer_.setInterval(33);  // about 30 refreshes a second
    connect(&flushTimer_, &QTimer::timeout, this, &Session::flushSamples);
    traceTimer_.setSingleShot(true);
    connect(&traceTimer_, &QTimer::timeout, this, &Session::applyTraceStep);
}

Session::~Session() {
    profileCancel_ = true;  // the job thread must not wait for a long profile
    if (running()) finishRun(QStringLiteral("finished"), {});
    stopWorkers();
    {
        std::lock_guard lock(jobMutex_);
        jobStop_ = true;
    }
    jobWake_.notify_all();
    if (jobThread_.joinable()) jobThread_.join();
}

void Session::post(std::function<void()> job) {
    {
        std::lock_guard lock(jobMutex_);
        jobs_.push_back(std::move(job));
    }
    jobWake_.notify_all();
}

std::shared_ptr<control::Controller> Session::ctrl() const {
    std::lock_guard lock(ctrlMutex_);
    return controller_;
}

bool Session::localWorkers() const {
    std::lock_guard lock(ctrlMutex_);
    return localDevice_ != nullptr;
}

qint64 Session::localPid(Role role) const {
    std::lock_guard lock(ctrlMutex_);
    const auto& w = role == Role::Device ? localDevice_ : localEdge_;
    return w ? static_cast<qint64>(w->process.pid()) : 0;
}

control::WorkerInfo Session::workerInfo(Role role) const {
    auto c = ctrl();
    return c ? c->info(role) : control::WorkerInfo{};
}

// ---------------------------------------------------------------------------- workers

void Session::startLocalWorkers(double deviceSlowdown) {
    stopWorkers();
    Q_EMIT busy(tr("Starting local workers…"));
    post([this, deviceSlowdown] {
        auto device = std::make_shared<control::SpawnedWorker>();
        auto edge = std::make_shared<control::SpawnedWorker>();
        Status s = control::spawnWorker(*edge, Role::Edge, 1, {});
        if (s) s = control::spawnWorker(*device, Role::Device, 1, {}, 15000, deviceSlowdown);
        {
            std::lock_guard lock(ctrlMutex_);
            localDevice_ = device;
            localEdge_ = edge;
        }
        if (!s) {
            onUi([this, why = qs(s.error())] {
                Q_EMIT busy({});
                Q_EMIT errorOccurred(why);
            });
            return;
        }
        connectWorkers(qs(device->controlEndpoint), qs(edge->controlEndpoint), {});
    });
}

void Session::connectWorkers(const QString& deviceEndpoint, const QString& edgeEndpoint, const QString& curveKeysDir) {
    post([this, deviceEndpoint, edgeEndpoint, curveKeysDir] {
        control::Controller::Options o;
        o.curveKeysDir = curveKeysDir.toStdString();
        auto c = std::make_shared<control::Controller>(o);
        {
            std::lock_guard lock(ctrlMutex_);
            controller_ = c;
        }
        installHandlers();
        workersReady_ = false;
        modelInWorkers_ = false;
        Status s = c->connect(Role::Edge, edgeEndpoint.toStdString(), kCallTimeoutMs);
        if (s) s = c->connect(Role::Device, deviceEndpoint.toStdString(), kCallTimeoutMs);
        if (!s) {
            onUi([this, why = qs(s.error())] {
                Q_EMIT busy({});
                Q_EMIT errorOccurred(why);
                Q_EMIT workersChanged();
            });
            return;
        }
        workersReady_ = true;
        onUi([this] {
            Q_EMIT workersChanged();
            afterWorkersUp();
        });
    });
}

void Session::stopWorkers() {
    profileCancel_ = true;
    if (running()) finishRun(QStringLiteral("finished"), {});
    workersReady_ = false;
    modelInWorkers_ = false;
    std::shared_ptr<control::Controller> c;
    std::shared_ptr<control::SpawnedWorker> device, edge;
    {
        std::lock_guard lock(ctrlMutex_);
        c.swap(controller_);
        device.swap(localDevice_);
        edge.swap(localEdge_);
    }
    if (!c && !device && !edge) return;
    // Shutting down waits on the workers: on the job thread.
    post([c, device, edge] {
        if (c) {
            c->setSampleHandler({});
            c->setEventHandler({});
            for (Role r : {Role::Device, Role::Edge})
                if (c->info(r).alive && ((r == Role::Device && device) || (r == Role::Edge && edge)))
                    (void)c->call(r, "shutdown", {}, 2000);
        }
        if (device) device->process.stop(3000);
        if (edge) edge->process.stop(3000);
    });
    Q_EMIT workersChanged();
}

void Session::installHandlers() {
    auto c = ctrl();
    if (!c) return;
    c->setSampleHandler([this](const net::Sample& s) { onSampleIo(s); });
    c->setEventHandler([this](const control::WorkerEvent& e) {
        if (e.kind == "profile-progress") {
            onUi([this, e] { Q_EMIT profileProgress(net::roleName(e.role), qs(e.message), e.done, e.total); });
            return;
        }
        if (e.kind != "down" && e.kind != "up" && e.kind != "stream-error") return;
        onUi([this, e] {
            Q_EMIT workersChanged();
            if (e.kind == "up") return;
            const QString why = qs(e.message);
            if (running()) {
                recordEvent(e.kind == "down" ? QStringLiteral("worker-down") : QStringLiteral("stream-error"), why, NAN,
                            net::roleName(e.role));
                finishRun(QStringLiteral("failed"), why);
            }
            if (e.kind == "down") workersReady_ = false;
            Q_EMIT errorOccurred(why);
        });
    });
}

void Session::afterWorkersUp() {
    Q_EMIT busy({});
    if (model_) sendModelToWorkers();
}

// ---------------------------------------------------------------------------- model and store

void Session::loadModel(const QString& path) {
    Q_EMIT busy(tr("Loading %1…").arg(QFileInfo(path).fileName()));
    post([this, path] {
        auto bytes = readAnyModel(path.toStdString());
        onUi([this, path, bytes = std::make_shared<Result<ModelBytes>>(std::move(bytes))] {
            Q_EMIT busy({});
            if (!*bytes) {
                Q_EMIT errorOccurred(tr("Cannot load the model: %1").arg(qs(bytes->error())));
                return;
            }
            if (running()) stopRun();
            model_ = std::make_shared<const ModelBytes>(std::move(**bytes));
            modelPath_ = path;
            const auto record = store::modelRecord(*model_);
            modelHash_ = record.hash;
            modelId_ = 0;
            if (store_)
                if (auto id = store_->upsertModel(record)) modelId_ = *id;
            modelInWorkers_ = false;
            rebuildTable();
            Q_EMIT modelChanged();
            if (workersReady_) sendModelToWorkers();
        });
    });
}

void Session::sendModelToWorkers() {
    auto model = model_;
    Q_EMIT busy(tr("Sending the model to both workers…"));
    post([this, model] {
        auto c = ctrl();
        std::string error;
        if (!c) error = "no workers are connected";
        for (Role r : {Role::Edge, Role::Device}) {
            if (!error.empty()) break;
            auto loaded = c->call(r, "load-model", {}, 30000, {model->specText, model->weights});
            if (!loaded) error = loaded.error();
        }
        onUi([this, error, model] {
            // A newer model may have been chosen meanwhile; it has its own upload.
            if (model == model_) modelInWorkers_ = error.empty();
            Q_EMIT busy({});
            if (!error.empty()) Q_EMIT errorOccurred(qs(error));
            Q_EMIT workersChanged();
        });
    });
}

Status Session::openDatabase(const QString& path) {
    auto db = store::RunStore::open(path.toStdString());
    if (!db) return makeError(db.error());
    store_ = std::move(*db);
    dbPath_ = path;
    if (model_)
        if (auto id = store_->upsertModel(store::modelRecord(*model_))) modelId_ = *id;
    rebuildTable();
    return Status::success();
}

std::optional<store::StoredProfile> Session::latestProfile(Role role) {
    if (!store_ || modelHash_.empty()) return std::nullopt;
    auto p = store_->latestProfile(modelHash_, net::roleName(role));
    if (!p) return std::nullopt;
    return std::move(*p);
}

// ---------------------------------------------------------------------------- profiling

void Session::startProfile(int repeats, bool synthetic) {
    if (profiling_) return;
    if (!workersReady_ || !modelInWorkers_) {
        Q_EMIT profileFinished(false, tr("Profiling needs both workers up with the model loaded."));
        return;
    }
    if (running()) stopRun();
    profiling_ = true;
    profileCancel_ = false;
    auto model = model_;
    const std::string dbPath = dbPath_.toStdString();
    const int64_t modelId = modelId_;
    post([this, repeats, synthetic, model, dbPath, modelId] {
        auto c = ctrl();
        control::ProfileRunOptions o;
        o.repeats = repeats;
        o.synthetic = synthetic;
        QString message;
        bool ok = false;
        if (!c) {
            message = tr("No workers are connected.");
        } else {
            auto run = control::profileWorkers(
                *c, model->file, o,
                [this](const control::ProfileRunProgress& p) {
                    onUi([this, p] { Q_EMIT profileProgress(net::roleName(p.role), qs(p.stage), p.done, p.total); });
                },
                &profileCancel_);
            installHandlers();  // profiling replaced them
            if (!run) {
                message = qs(run.error());
            } else {
                // The job thread writes through its own connection.
                auto db = store::RunStore::open(dbPath);
                if (!db) {
                    message = qs(db.error());
                } else if (auto fits = control::saveProfileRun(**db, modelId, *run, o); !fits) {
                    message = qs(fits.error());
                } else {
                    ok = true;
                    message = tr("Profiled both workers in %1 s; per-message overhead %2 ms; %3 regressions fitted.")
                                  .arg(run->seconds, 0, 'f', 1)
                                  .arg(run->overheadMs, 0, 'f', 3)
                                  .arg(fits->size());
                }
            }
        }
        onUi([this, ok, message] {
            profiling_ = false;
            if (ok) rebuildTable();
            Q_EMIT profileFinished(ok, message);
        });
    });
}

// ---------------------------------------------------------------------------- planning

void Session::rebuildDynamic() {
    // A new deadline, policy or predictor during a dynamic run: a new map, and the estimator
    // starts again from its current estimate.
    std::lock_guard lock(ioMutex_);
    if (!dynamic_ || !table_) return;
    const double estimate = dynamic_->estimator().estimateBps() > 0 ? dynamic_->estimator().estimateBps() : inputs_.bandwidthBps;
    dynamic_.reset();
    map_.emplace(*table_, model_->file.spec.exitAccuracy, inputs_.deadlineMs, inputs_.policy);
    dynamic_.emplace(*map_, estimate, messageOverheadMs_);
}

bool Session::rebuildTable() {
    table_.reset();
    planProblem_.clear();
    if (!model_) {
        planProblem_ = tr("No model loaded.");
    } else if (!store_) {
        planProblem_ = tr("No run database open.");
    } else {
        auto t = control::latencyTableFor(*store_, model_->file, modelHash_, inputs_.predictor.toStdString());
        if (t)
            table_ = std::move(*t);
        else
            planProblem_ = qs(t.error());
        // The estimator subtracts the typical per-message cost, whatever the predictor adds.
        if (auto device = store_->latestProfile(modelHash_, "device")) messageOverheadMs_ = device->overheadMs;
    }
    return replan();
}

void Session::setPlanInputs(const PlanInputs& inputs, const QString& why) {
    const bool predictorChanged = inputs.predictor != inputs_.predictor;
    const double traceBps = inputs_.bandwidthBps;
    const bool bandwidthChanged = inputs.bandwidthBps != inputs_.bandwidthBps && !trace_;
    const bool goalChanged = inputs.deadlineMs != inputs_.deadlineMs || inputs.policy != inputs_.policy;
    inputs_ = inputs;
    if (trace_) inputs_.bandwidthBps = traceBps;  // during a trace, the trace sets the bandwidth
    if (running() && dynamic_ && (goalChanged || predictorChanged)) {
        if (predictorChanged) rebuildTable();
        rebuildDynamic();
    }
    const bool moved = predictorChanged && !dynamic_ ? rebuildTable() : replan();
    if (!running()) return;
    // Without a trace, the bandwidth slider is the shaper's rate; in dynamic mode the
    // controller has to find the change out by itself.
    std::optional<double> bandwidth;
    if (bandwidthChanged) bandwidth = inputs_.bandwidthBps;
    if (dynamic_) {
        if (bandwidth || moved)
            reconfigureLive(moved ? plan_ : std::nullopt, bandwidth, moved ? QStringLiteral("plan") : QStringLiteral("slider"),
                            why);
    } else if (moved || bandwidth) {
        reconfigureLive(moved ? plan_ : std::nullopt, bandwidth, moved ? QStringLiteral("plan") : QStringLiteral("slider"), why);
    }
}

bool Session::replan() {
    const auto before = plan_;
    if (!table_ || !model_) {
        plan_.reset();
    } else if (dynamic_) {
        std::lock_guard lock(ioMutex_);
        plan_ = dynamic_->plan();
    } else {
        plan_ =
            plan::choosePlan(*table_, model_->file.spec.exitAccuracy, inputs_.bandwidthBps, inputs_.deadlineMs, inputs_.policy);
    }
    Q_EMIT planChanged();
    if (!plan_) return false;
    return !before || before->exit != plan_->exit || before->partition != plan_->partition;
}

void Session::reconfigureLive(const std::optional<plan::PlanResult>& p, std::optional<double> bandwidthBps, const QString& kind,
                              const QString& why) {
    QJsonObject cfg;
    QString message;
    if (p) {
        cfg["exit"] = p->exit;
        cfg["partition"] = p->partition;
        std::lock_guard lock(ioMutex_);
        predictedMs_ = p->predictedMs;
        message = tr("exit %1, partition %2").arg(p->exit).arg(p->partition);
    }
    if (bandwidthBps) {
        cfg["bandwidth_bps"] = *bandwidthBps;
        message +=
            (message.isEmpty() ? QString() : QStringLiteral(" at ")) + tr("%1 kbps").arg(*bandwidthBps / 1000.0, 0, 'f', 0);
    }
    if (cfg.isEmpty()) return;
    if (!why.isEmpty()) message += " (" + why + ")";
    recordEvent(kind, message, bandwidthBps.value_or(NAN));
    // A dragged slider changes many times a second: changes wait in one merged
    // configuration, and one job at a time sends what is newest.
    {
        std::lock_guard lock(configMutex_);
        for (auto it = cfg.begin(); it != cfg.end(); ++it) pendingConfig_[it.key()] = it.value();
        if (configQueued_) return;
        configQueued_ = true;
    }
    post([this] {
        QJsonObject send;
        {
            std::lock_guard lock(configMutex_);
            send.swap(pendingConfig_);
            configQueued_ = false;
        }
        auto c = ctrl();
        if (!c || send.isEmpty()) return;
        auto r = c->call(Role::Device, "configure", send, kCallTimeoutMs);
        if (!r)
            onUi([this, why = qs(r.error())] {
                Q_EMIT errorOccurred(tr("The device refused the new configuration: %1").arg(why));
            });
    });
}

}  // namespace edgent::gui
