#include "app/gui/WorkerHost.h"

namespace edgent::gui {

using namespace edgent::core;
using net::Role;

WorkerHost::WorkerHost(QObject* parent) : QObject(parent) {
    jobThread_ = std::thread([this] {
        std::unique_lock lock(jobMutex_);
        while (true) {
            jobWake_.wait(lock, [this] { return jobStop_ || !jobs_.empty(); });
            if (jobs_.empty()) return;  // stopping, and nothing left
            auto job = std::move(jobs_.front());
            jobs_.pop_front();
            lock.unlock();
            if (!closing_) job();
            lock.lock();
        }
    });
    heartbeat_.setInterval(500);
    connect(&heartbeat_, &QTimer::timeout, this, &WorkerHost::changed);
    heartbeat_.start();
}

WorkerHost::~WorkerHost() {
    closing_ = true;
    std::shared_ptr<control::WorkerLink> link = this->link();
    // Every wait on a worker now fails at once, so the job thread ends promptly even when a
    // worker it is connecting to has just been stopped.
    if (link) link->abort("the window is closing");
    {
        std::lock_guard lock(jobMutex_);
        jobStop_ = true;
    }
    jobWake_.notify_all();
    if (jobThread_.joinable()) jobThread_.join();
    subscription_.reset();
    if (link) link->shutdown();
}

void WorkerHost::post(std::function<void()> job) {
    if (closing_) return;
    {
        std::lock_guard lock(jobMutex_);
        jobs_.push_back(std::move(job));
    }
    jobWake_.notify_all();
}

std::shared_ptr<control::WorkerLink> WorkerHost::link() const {
    std::lock_guard lock(linkMutex_);
    return link_;
}

control::WorkerInfo WorkerHost::info(Role role) const {
    auto l = link();
    return l ? l->controller().info(role) : control::WorkerInfo{};
}

bool WorkerHost::local() const {
    auto l = link();
    return l && l->local();
}

long WorkerHost::localPid(Role role) const {
    auto l = link();
    return l ? l->localPid(role) : 0;
}

void WorkerHost::startLocal(double deviceSlowdown) {
    control::WorkerLinkOptions o;
    o.deviceSlowdown = deviceSlowdown;
    Q_EMIT busy(tr("Starting local workers…"));
    replace(o);
}

void WorkerHost::connectRemote(const QString& deviceEndpoint, const QString& edgeEndpoint, const QString& curveKeysDir) {
    control::WorkerLinkOptions o;
    o.local = false;
    o.deviceEndpoint = deviceEndpoint.toStdString();
    o.edgeEndpoint = edgeEndpoint.toStdString();
    o.curveKeysDir = curveKeysDir.toStdString();
    Q_EMIT busy(tr("Connecting to the workers…"));
    replace(o);
}

void WorkerHost::replace(control::WorkerLinkOptions options) {
    const uint64_t generation = ++generation_;
    std::shared_ptr<control::WorkerLink> old;
    auto link = std::make_shared<control::WorkerLink>(std::move(options));
    subscription_.reset();
    {
        std::lock_guard lock(linkMutex_);
        old = std::move(link_);
        link_ = link;
    }
    ready_ = false;
    modelLoaded_ = false;
    subscription_ = link->controller().subscribe({}, [this, generation](const control::WorkerEvent& e) {
        if (e.kind != net::EventKind::WorkerDown && e.kind != net::EventKind::WorkerUp) return;
        onUi([this, generation, e] {
            if (generation != generation_) return;
            if (e.kind == net::EventKind::WorkerDown) {
                ready_ = false;
                Q_EMIT failed(QString::fromStdString(e.message));
                Q_EMIT readyChanged(false);
            }
            Q_EMIT changed();
        });
    });
    Q_EMIT changed();
    post([this, old, link, generation] {
        if (old) old->shutdown();
        const Status s = link->start();
        onUi([this, generation, s] {
            if (generation != generation_) return;
            Q_EMIT busy({});
            if (!s) {
                Q_EMIT failed(QString::fromStdString(s.error()));
                Q_EMIT changed();
                return;
            }
            ready_ = true;
            Q_EMIT changed();
            Q_EMIT readyChanged(true);
        });
    });
}

void WorkerHost::stop() {
    ++generation_;
    std::shared_ptr<control::WorkerLink> old;
    subscription_.reset();
    {
        std::lock_guard lock(linkMutex_);
        old = std::move(link_);
    }
    const bool wasReady = ready_;
    ready_ = false;
    modelLoaded_ = false;
    // Shutting down waits on the workers: on the job thread.
    if (old) post([old] { old->shutdown(); });
    Q_EMIT changed();
    if (wasReady) Q_EMIT readyChanged(false);
}

void WorkerHost::uploadModel(std::shared_ptr<const ModelBytes> model) {
    uploading_ = model;
    modelLoaded_ = false;
    auto link = this->link();
    if (!link || !ready_ || !model) return;
    const uint64_t generation = generation_;
    Q_EMIT busy(tr("Sending the model to both workers…"));
    post([this, link, model, generation] {
        const Status s = link->loadModel(*model);
        onUi([this, model, generation, s] {
            // A newer model or other workers may have been chosen meanwhile; they have their own upload.
            if (generation != generation_ || model != uploading_) return;
            modelLoaded_ = s.ok();
            Q_EMIT busy({});
            if (!s) Q_EMIT failed(QString::fromStdString(s.error()));
            Q_EMIT modelUploaded(s.ok());
            Q_EMIT changed();
        });
    });
}

}  // namespace edgent::gui
