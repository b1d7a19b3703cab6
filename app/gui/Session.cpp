#include "app/gui/Session.h"

#include "core/control/ProfileRun.h"
#include "core/model/ModelImport.h"
#include "core/store/Export.h"
#include "core/train/Calibration.h"

#include <QFileInfo>

#include <cmath>

namespace edgent::gui {

using namespace edgent::core;
using net::Role;

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

}  // namespace

Session::Session(QObject* parent) : QObject(parent), host_(new WorkerHost(this)), run_(new RunAdapter(this)) {
    if (auto p = energy::powerProfile(powerProfile_)) power_ = std::move(*p);
    connect(host_, &WorkerHost::changed, this, &Session::workersChanged);
    connect(host_, &WorkerHost::busy, this, &Session::busy);
    connect(host_, &WorkerHost::failed, this, &Session::errorOccurred);
    connect(host_, &WorkerHost::readyChanged, this, [this](bool up) {
        if (up && model_) host_->uploadModel(model_);
        Q_EMIT workersChanged();
    });
    connect(run_, &RunAdapter::runStarted, this, &Session::runStarted);
    connect(run_, &RunAdapter::samplesArrived, this, &Session::samplesArrived);
    connect(run_, &RunAdapter::runEvent, this, &Session::runEvent);
    connect(run_, &RunAdapter::planChanged, this, &Session::planChanged);
    connect(run_, &RunAdapter::runStopped, this, [this](qint64 id, const QString& status, const QString& error) {
        if (!error.isEmpty()) Q_EMIT errorOccurred(error);
        Q_EMIT runStopped(id, status);
    });
}

Session::~Session() {
    profileCancel_ = true;  // the job thread must not wait for a long profile
    disconnect(run_, nullptr, this, nullptr);
    disconnect(host_, nullptr, this, nullptr);
    delete run_;   // ends a running experiment: samples flushed, status stored
    delete host_;  // aborts what still waits on a worker, then stops local workers
}

// ---------------------------------------------------------------------------- workers

void Session::startLocalWorkers(double deviceSlowdown) {
    run_->finishNow();
    profileCancel_ = true;
    host_->startLocal(deviceSlowdown);
}

void Session::connectWorkers(const QString& deviceEndpoint, const QString& edgeEndpoint, const QString& curveKeysDir) {
    run_->finishNow();
    profileCancel_ = true;
    host_->connectRemote(deviceEndpoint, edgeEndpoint, curveKeysDir);
}

void Session::stopWorkers() {
    run_->finishNow();
    profileCancel_ = true;
    host_->stop();
}

// ---------------------------------------------------------------------------- model and store

void Session::loadModel(const QString& path) {
    Q_EMIT busy(tr("Loading %1…").arg(QFileInfo(path).fileName()));
    host_->post([this, path] {
        auto bytes = std::make_shared<Result<ModelBytes>>(readAnyModel(path.toStdString()));
        QMetaObject::invokeMethod(
            this,
            [this, path, bytes] {
                Q_EMIT busy({});
                if (!*bytes) {
                    Q_EMIT errorOccurred(tr("Cannot load the model: %1").arg(qs(bytes->error())));
                    return;
                }
                run_->finishNow();  // the workers refuse a new model while they stream
                model_ = std::make_shared<const ModelBytes>(std::move(**bytes));
                modelPath_ = path;
                const auto record = store::modelRecord(*model_);
                modelHash_ = record.hash;
                modelId_ = 0;
                if (store_)
                    if (auto id = store_->upsertModel(record)) modelId_ = *id;
                rebuildPlan();
                Q_EMIT modelChanged();
                host_->uploadModel(model_);
            },
            Qt::QueuedConnection);
    });
}

Status Session::openDatabase(const QString& path) {
    auto db = store::RunStore::open(path.toStdString());
    if (!db) return makeError(db.error());
    store_ = std::move(*db);
    dbPath_ = path;
    if (model_)
        if (auto id = store_->upsertModel(store::modelRecord(*model_))) modelId_ = *id;
    rebuildPlan();
    return Status::success();
}

std::optional<store::StoredProfile> Session::latestProfile(Role role) {
    if (!store_ || modelHash_.empty()) return std::nullopt;
    auto p = store_->latestProfile(modelHash_, net::roleName(role));
    if (!p) return std::nullopt;
    return std::move(*p);
}

// ---------------------------------------------------------------------------- profiling

void Session::startProfile(int repeats, bool synthetic, int adaptiveRounds, int spread, double spanSeconds) {
    if (profiling_) return;
    auto link = host_->link();
    if (!link || !host_->ready() || !host_->modelLoaded()) {
        Q_EMIT profileFinished(false, tr("Profiling needs both workers up with the model loaded."));
        return;
    }
    run_->finishNow();  // profiling and a stream would disturb each other
    profiling_ = true;
    profileCancel_ = false;
    auto model = model_;
    const std::string dbPath = dbPath_.toStdString();
    const int64_t modelId = modelId_;
    host_->post([this, link, repeats, synthetic, adaptiveRounds, spread, spanSeconds, model, dbPath, modelId] {
        control::ProfileRunOptions o;
        o.repeats = repeats;
        o.synthetic = synthetic;
        o.adaptiveRounds = adaptiveRounds;
        o.spread = spread;
        o.spanSeconds = spanSeconds;
        QString message;
        bool ok = false;
        auto run = control::profileWorkers(
            link->controller(), model->file, o,
            [this](const control::ProfileRunProgress& p) {
                QMetaObject::invokeMethod(
                    this, [this, p] { Q_EMIT profileProgress(net::roleName(p.role), qs(p.stage), p.done, p.total); },
                    Qt::QueuedConnection);
            },
            &profileCancel_);
        if (!run) {
            message = qs(run.error());
        } else if (auto db = store::RunStore::open(dbPath); !db) {  // the job thread writes through its own connection
            message = qs(db.error());
        } else if (auto fits = control::saveProfileRun(**db, modelId, *run, o); !fits) {
            message = qs(fits.error());
        } else {
            ok = true;
            double deviceSlice = 0.0, edgeSlice = 0.0;
            for (const auto& node : run->nodes) (node.role == net::Role::Device ? deviceSlice : edgeSlice) = node.sliceMs;
            message = tr("Profiled both workers in %1 s; per-message overhead %2 ms; fixed cost of a slice %3 ms on the "
                         "device, %4 ms on the edge; %5 regressions fitted.")
                          .arg(run->seconds, 0, 'f', 1)
                          .arg(run->overheadMs, 0, 'f', 3)
                          .arg(deviceSlice, 0, 'f', 3)
                          .arg(edgeSlice, 0, 'f', 3)
                          .arg(fits->size());
        }
        QMetaObject::invokeMethod(
            this,
            [this, ok, message] {
                profiling_ = false;
                if (ok) rebuildPlan();
                Q_EMIT profileFinished(ok, message);
            },
            Qt::QueuedConnection);
    });
    if (host_->closing()) profiling_ = false;
}

void Session::startCalibration() {
    if (profiling_) {
        Q_EMIT calibrationFinished(false, tr("Profiling or calibration is running; wait for it."));
        return;
    }
    if (!model_ || !store_) {
        Q_EMIT calibrationFinished(false, tr("Calibration needs a model and a run database."));
        return;
    }
    profiling_ = true;
    profileCancel_ = false;
    const std::string modelPath = modelPath_.toStdString();
    const std::string dbPath = dbPath_.toStdString();
    const int64_t modelId = modelId_;
    Q_EMIT busy(tr("Calibrating the early exits on the validation images…"));
    host_->post([this, modelPath, dbPath, modelId] {
        CalibrateOptions o;
        o.threads = 1;  // the workers keep the other cores
        QString message;
        bool ok = false;
        auto set = calibrateModel(modelPath, o, &profileCancel_);
        if (!set) {
            message = qs(set.error());
        } else if (auto db = store::RunStore::open(dbPath); !db) {
            message = qs(db.error());
        } else if (auto id = (*db)->saveCalibration(modelId, *set); !id) {
            message = qs(id.error());
        } else {
            ok = true;
            message = tr("Calibrated every exit on %1 held-out validation images (calibration %2).")
                          .arg(set->samples)
                          .arg(*id);
        }
        QMetaObject::invokeMethod(
            this,
            [this, ok, message] {
                profiling_ = false;
                Q_EMIT busy({});
                if (ok) rebuildPlan();
                Q_EMIT calibrationFinished(ok, message);
            },
            Qt::QueuedConnection);
    });
}

// ---------------------------------------------------------------------------- planning

void Session::rebuildPlan() {
    plans_.setSources(store_.get(), model_.get(), modelHash_, power_ ? *power_ : energy::PowerProfile{});
    plans_.rebuild();
    Q_EMIT planChanged();
}

std::optional<plan::PlanResult> Session::plan() const { return running() ? run_->plan() : plans_.plan(); }

void Session::setPlanInputs(const PlanInputs& inputs, const QString& why) {
    const PlanInputs before = plans_.inputs();
    plans_.setInputs(inputs);
    if (running()) {
        // A trace owns the shaper while it plays; the slider's value waits for the run's end.
        if (inputs.bandwidthBps != before.bandwidthBps && !run_->hasTrace())
            run_->setBandwidth(inputs.bandwidthBps, why.isEmpty() ? tr("slider") : why);
        auto same = [](double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); };
        const bool goalChanged = inputs.deadlineMs != before.deadlineMs || inputs.policy != before.policy ||
                                 inputs.predictor != before.predictor || inputs.codec != before.codec ||
                                 !same(inputs.targetAccuracy, before.targetAccuracy);
        if (goalChanged && plans_.table()) run_->setGoal(plans_.planning(false), why);
    }
    Q_EMIT planChanged();
}

// ---------------------------------------------------------------------------- live runs

void Session::startRun(const RunRequest& request) {
    if (running()) return;
    auto link = host_->link();
    if (!link || !host_->ready() || !host_->modelLoaded()) {
        Q_EMIT errorOccurred(tr("Start needs both workers up with the model loaded."));
        return;
    }
    if (!store_) {
        Q_EMIT errorOccurred(tr("No run database is open."));
        return;
    }
    if (!plans_.plan() || !plans_.table()) {
        Q_EMIT errorOccurred(plans_.problem().isEmpty() ? tr("Nothing to run: no plan.") : plans_.problem());
        return;
    }
    if (profiling_) {
        Q_EMIT errorOccurred(tr("Profiling is running; wait for it or cancel it."));
        return;
    }
    control::LiveRunOptions o;
    o.dbPath = dbPath_.toStdString();
    o.experiment = request.experiment.toStdString();
    o.modelId = modelId_;
    o.modelHash = modelHash_;
    o.source = "workbench window";
    o.rateHz = request.rateHz;
    o.bandwidthBps = plans_.inputs().bandwidthBps;
    o.planning = plans_.planning(request.dynamic);
    o.keepSamples = false;  // the plots and the store have them
    if (power_) o.power = *power_;
    o.extraParams["trace"] = request.tracePath.toStdString();
    if (!request.tracePath.isEmpty()) {
        auto t = plan::readBandwidthTrace(request.tracePath.toStdString());
        if (!t) {
            Q_EMIT errorOccurred(qs(t.error()));
            return;
        }
        o.trace = std::move(*t);
    }
    if (auto s = run_->start(link, std::move(o)); !s) Q_EMIT errorOccurred(qs(s.error()));
}

}  // namespace edgent::gui
