#pragma once
// The window's workers: one core WorkerLink (two local processes, or two remote endpoints)
// behind a job thread, so that spawning, connecting, uploading a model and profiling never
// block the UI. Results come back as signals on the UI thread.
//
// Closing: the destructor aborts the link first (every wait on a worker fails at once), then
// joins the job thread and shuts local workers down; it never waits on a worker that is
// gone. Torch-free.

#include "core/control/WorkerLink.h"

#include <QObject>
#include <QString>
#include <QTimer>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace edgent::gui {

class WorkerHost : public QObject {
    Q_OBJECT
public:
    explicit WorkerHost(QObject* parent = nullptr);
    ~WorkerHost() override;

    // Replace the current link (stopping it) with local workers or remote endpoints.
    void startLocal(double deviceSlowdown);
    void connectRemote(const QString& deviceEndpoint, const QString& edgeEndpoint, const QString& curveKeysDir);
    void stop();

    // The link in use, or null. Hold the pointer while using it.
    std::shared_ptr<core::control::WorkerLink> link() const;
    core::control::WorkerInfo info(core::net::Role role) const;
    bool ready() const { return ready_; }              // both workers connected
    bool modelLoaded() const { return modelLoaded_; }  // the last uploaded model is in both
    bool local() const;
    long localPid(core::net::Role role) const;

    // Uploads the model to both workers; a newer upload supersedes an older one.
    void uploadModel(std::shared_ptr<const core::ModelBytes> model);
    // Runs a job on the job thread, after those posted before it. Jobs are skipped once the
    // host is closing.
    void post(std::function<void()> job);
    bool closing() const { return closing_; }

Q_SIGNALS:
    void changed();  // connection state, or every half second for the heartbeat ages
    void readyChanged(bool up);
    void modelUploaded(bool ok);
    void failed(const QString& message);
    void busy(const QString& what);  // empty: idle

private:
    template <typename F>
    void onUi(F&& f) {
        QMetaObject::invokeMethod(this, std::forward<F>(f), Qt::QueuedConnection);
    }
    void replace(core::control::WorkerLinkOptions options);

    std::thread jobThread_;
    std::mutex jobMutex_;
    std::condition_variable jobWake_;
    std::deque<std::function<void()>> jobs_;
    bool jobStop_ = false;
    std::atomic<bool> closing_{false};

    mutable std::mutex linkMutex_;
    std::shared_ptr<core::control::WorkerLink> link_;
    core::control::Controller::Subscription subscription_;
    uint64_t generation_ = 0;  // UI thread: bumped by every replace(); stale results are ignored
    std::atomic<bool> ready_{false};
    std::atomic<bool> modelLoaded_{false};
    std::shared_ptr<const core::ModelBytes> uploading_;  // UI thread: the newest upload
    QTimer heartbeat_;
};

}  // namespace edgent::gui
