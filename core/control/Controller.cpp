#include "core/control/Controller.h"

#include "core/net/Curve.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QUrl>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

namespace edgent::core::control {

using namespace edgent::core::net;
using Clock = std::chrono::steady_clock;

namespace {

int slotOf(Role role) { return role == Role::Device ? 0 : 1; }

std::string workerName(Role role) { return std::string(roleName(role)) + " worker"; }

std::string secondsText(int ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g s", ms / 1000.0);
    return buf;
}

// A worker bound to 0.0.0.0 (or *) reports that address; the device must use the host the
// controller reached the worker on.
std::string reachableEndpoint(const std::string& reported, const std::string& controlEndpoint) {
    const QUrl r(QString::fromStdString(reported));
    const QUrl c(QString::fromStdString(controlEndpoint));
    if (r.host() == "0.0.0.0" || r.host() == "*" || r.host().isEmpty()) {
        QUrl fixed = r;
        fixed.setHost(c.host());
        return fixed.toString().toStdString();
    }
    return reported;
}

}  // namespace

struct Controller::Subscription::Entry {
    std::recursive_mutex mutex;  // held while a handler runs; reset() takes it to wait for one
    bool active = true;
    SampleHandler onSample;
    EventHandler onEvent;
};

void Controller::Subscription::reset() {
    if (!entry_) return;
    {
        std::lock_guard lock(entry_->mutex);
        entry_->active = false;
        entry_->onSample = {};
        entry_->onEvent = {};
    }
    entry_.reset();
}

struct Controller::Impl {
    struct Pending {
        uint64_t id = 0;
        Role role = Role::Device;
        Command command = Command::Hello;
        int timeoutMs = 0;
        Clock::time_point deadline;
        std::promise<Result<QJsonObject>> promise;
    };
    struct Op {
        enum Kind { Connect, Send, MarkDead } kind = Send;
        Role role = Role::Device;
        std::string text;  // endpoint, wire message or reason
        std::vector<std::string> extra;
        std::shared_ptr<Pending> pending;
        std::shared_ptr<std::promise<Status>> connected;
    };
    struct Slot {
        zmq::socket_t socket;
        Clock::time_point lastHeard;
        Clock::time_point lastBeat;
    };

    Options options;
    std::string curveError;
    CurveKeys curve;
    zmq::context_t context{1};
    zmq::socket_t wakeRecv, wakeSend;
    std::mutex wakeMutex;
    std::mutex mutex;  // ops, infos, subscribers, stopped
    std::deque<Op> ops;
    WorkerInfo infos[2];
    std::vector<std::shared_ptr<Subscription::Entry>> subscribers;
    std::string stoppedReason;  // set once the I/O thread has ended; later ops fail at once
    std::string abortReason;
    Slot slots[2];
    std::map<uint64_t, std::shared_ptr<Pending>> inflight;
    std::atomic<uint64_t> nextId{1};
    std::atomic<bool> stop{false};
    Clock::time_point start = Clock::now();
    std::thread io;

    double msSinceStart() const { return std::chrono::duration<double, std::milli>(Clock::now() - start).count(); }

    static void failOp(Op& op, const std::string& why) {
        if (op.pending) op.pending->promise.set_value(makeError(why));
        if (op.connected) op.connected->set_value(makeError(why));
    }

    void post(Op op) {
        {
            std::lock_guard lock(mutex);
            if (!stoppedReason.empty()) {
                failOp(op, stoppedReason);
                return;
            }
            ops.push_back(std::move(op));
        }
        std::lock_guard lock(wakeMutex);
        try {
            wakeSend.send(zmq::str_buffer("w"), zmq::send_flags::dontwait);
        } catch (const zmq::error_t&) {
            // The context is shutting down: the I/O thread is ending and fails what is queued.
        }
    }

    std::vector<std::shared_ptr<Subscription::Entry>> currentSubscribers() {
        std::lock_guard lock(mutex);
        subscribers.erase(
            std::remove_if(subscribers.begin(), subscribers.end(), [](const auto& e) { return e.use_count() == 1; }),
            subscribers.end());
        return subscribers;
    }

    void emitEvent(WorkerEvent e) {
        e.atMs = msSinceStart();
        e.wallTime = QDateTime::currentDateTime().toString(Qt::ISODateWithMs).toStdString();
        for (const auto& sub : currentSubscribers()) {
            std::lock_guard lock(sub->mutex);
            if (sub->active && sub->onEvent) sub->onEvent(e);
        }
    }

    void emitSample(const Sample& s) {
        for (const auto& sub : currentSubscribers()) {
            std::lock_guard lock(sub->mutex);
            if (sub->active && sub->onSample) sub->onSample(s);
        }
    }

    void failInflight(Role role, const std::string& why) {
        for (auto it = inflight.begin(); it != inflight.end();) {
            if (it->second->role == role) {
                it->second->promise.set_value(makeError(why));
                it = inflight.erase(it);
            } else {
                ++it;
            }
        }
    }

    void declareDead(Role role, const std::string& reason) {
        {
            std::lock_guard lock(mutex);
            WorkerInfo& info = infos[slotOf(role)];
            if (!info.alive && !info.deathReason.empty()) return;
            info.alive = false;
            info.deathReason = reason;
        }
        failInflight(role, workerName(role) + " is dead: " + reason);
        WorkerEvent e;
        e.role = role;
        e.kind = EventKind::WorkerDown;
        e.message = workerName(role) + " died: " + reason;
        emitEvent(e);
    }

    void handleOp(Op& op) {
        Slot& slot = slots[slotOf(op.role)];
        switch (op.kind) {
        case Op::Connect:
            try {
                slot.socket = zmq::socket_t(context, zmq::socket_type::dealer);
                slot.socket.set(zmq::sockopt::linger, 0);
                slot.socket.set(zmq::sockopt::maxmsgsize, kMaxControlMessageBytes);
                if (!options.curveKeysDir.empty()) {
                    slot.socket.set(zmq::sockopt::curve_serverkey, curve.serverPublic);
                    slot.socket.set(zmq::sockopt::curve_publickey, curve.clientPublic);
                    slot.socket.set(zmq::sockopt::curve_secretkey, curve.clientSecret);
                }
                slot.socket.connect(op.text);
                slot.lastHeard = Clock::now();
                {
                    std::lock_guard lock(mutex);
                    WorkerInfo& info = infos[slotOf(op.role)];
                    info = WorkerInfo{};
                    info.connected = true;
                    info.endpoint = op.text;
                }
                op.connected->set_value(Status::success());
            } catch (const zmq::error_t& e) {
                op.connected->set_value(
                    makeError("cannot connect to " + workerName(op.role) + " at " + op.text + ": " + e.what()));
            }
            break;
        case Op::Send: {
            bool alive, connected;
            std::string reason;
            {
                std::lock_guard lock(mutex);
                const WorkerInfo& info = infos[slotOf(op.role)];
                alive = info.alive || op.pending->command == Command::Hello;
                connected = info.connected;
                reason = info.deathReason;
            }
            if (!connected || !slot.socket) {
                op.pending->promise.set_value(makeError(workerName(op.role) + " is not connected"));
                break;
            }
            if (!alive) {
                op.pending->promise.set_value(makeError(workerName(op.role) + " is dead: " + reason));
                break;
            }
            std::vector<zmq::const_buffer> parts{zmq::buffer(op.text)};
            for (const auto& e : op.extra) parts.push_back(zmq::buffer(e));
            if (!zmq::send_multipart(slot.socket, parts, zmq::send_flags::dontwait)) {
                op.pending->promise.set_value(makeError("cannot send to " + workerName(op.role) + " (queue full)"));
                break;
            }
            inflight[op.pending->id] = op.pending;
            break;
        }
        case Op::MarkDead: declareDead(op.role, op.text); break;
        }
    }

    void onMessage(Role role, std::vector<zmq::message_t>& parts) {
        Slot& slot = slots[slotOf(role)];
        slot.lastHeard = Clock::now();
        if (parts.empty()) return;
        auto message = fromWire(parts[0].data(), parts[0].size());
        if (!message) {
            // A reply we cannot accept (say, another protocol version) still answers its request.
            const auto lenient =
                QJsonDocument::fromJson(QByteArray(parts[0].data<char>(), static_cast<qsizetype>(parts[0].size())));
            const uint64_t id = static_cast<uint64_t>(lenient.object().value("id").toInteger(0));
            auto it = inflight.find(id);
            if (it != inflight.end()) {
                it->second->promise.set_value(makeError(workerName(role) + ": " + message.error()));
                inflight.erase(it);
            }
            return;
        }
        const QString type = message->value("type").toString();
        if (type == "reply") {
            auto it = inflight.find(static_cast<uint64_t>(message->value("id").toInteger()));
            if (it == inflight.end() || it->second->role != role) return;  // late, or not this worker's request
            if (message->value("ok").toBool())
                it->second->promise.set_value(*message);
            else
                it->second->promise.set_value(makeError(workerName(role) + " refused '" + commandName(it->second->command) +
                                                        "': " + message->value("error").toString().toStdString()));
            inflight.erase(it);
        } else if (type == "sample") {
            auto sample = sampleFromJson(*message);
            if (!sample) return;
            emitSample(*sample);
        } else if (type == "event") {
            WorkerEvent e;
            e.role = role;
            e.kind = eventKindFromName(message->value("event").toString().toStdString());
            e.message = message->value("message").toString().toStdString();
            e.samples = message->value("samples").toInteger();
            e.stream = message->value("stream").toInteger();
            e.done = message->value("done").toInt();
            e.total = message->value("total").toInt();
            emitEvent(e);
        }
    }

    // One pass of the I/O loop: wake-ups, queued operations, incoming messages, heartbeats,
    // deadlines. Socket errors propagate to loop(), which ends the thread with a reason.
    void pass() {
        std::vector<zmq::pollitem_t> items{{wakeRecv.handle(), 0, ZMQ_POLLIN, 0}};
        int slotItem[2] = {-1, -1};
        for (int s = 0; s < 2; ++s)
            if (slots[s].socket) {
                slotItem[s] = static_cast<int>(items.size());
                items.push_back({slots[s].socket.handle(), 0, ZMQ_POLLIN, 0});
            }
        try {
            zmq::poll(items.data(), items.size(), std::chrono::milliseconds(50));
        } catch (const zmq::error_t& e) {
            if (e.num() == EINTR) return;
            throw;
        }
        if (items[0].revents & ZMQ_POLLIN) {
            zmq::message_t m;
            while (wakeRecv.recv(m, zmq::recv_flags::dontwait)) {
            }
        }
        std::deque<Op> work;
        {
            std::lock_guard lock(mutex);
            work.swap(ops);
        }
        for (Op& op : work) handleOp(op);
        for (int s = 0; s < 2; ++s) {
            if (slotItem[s] < 0 || !(items[static_cast<size_t>(slotItem[s])].revents & ZMQ_POLLIN)) continue;
            for (int burst = 0; burst < 1000; ++burst) {
                std::vector<zmq::message_t> parts;
                if (!zmq::recv_multipart(slots[s].socket, std::back_inserter(parts), zmq::recv_flags::dontwait)) break;
                onMessage(s == 0 ? Role::Device : Role::Edge, parts);
            }
        }
        const auto now = Clock::now();
        for (int s = 0; s < 2; ++s) {
            Slot& slot = slots[s];
            if (!slot.socket) continue;
            const Role role = s == 0 ? Role::Device : Role::Edge;
            if (now - slot.lastBeat >= std::chrono::milliseconds(kHeartbeatIntervalMs)) {
                slot.lastBeat = now;
                const std::string beat = toWire(makeHeartbeat());
                (void)slot.socket.send(zmq::buffer(beat), zmq::send_flags::dontwait);
            }
            bool alive;
            {
                std::lock_guard lock(mutex);
                WorkerInfo& info = infos[s];
                info.heartbeatAgeMs = std::chrono::duration<double, std::milli>(now - slot.lastHeard).count();
                alive = info.alive;
            }
            if (alive && now - slot.lastHeard > std::chrono::milliseconds(options.deadAfterMs))
                declareDead(
                    role, "no heartbeat for " + secondsText(options.deadAfterMs) + " (last heard " +
                              QDateTime::currentDateTime()
                                  .addMSecs(-std::chrono::duration_cast<std::chrono::milliseconds>(now - slot.lastHeard).count())
                                  .toString("HH:mm:ss.zzz")
                                  .toStdString() +
                              ")");
        }
        for (auto it = inflight.begin(); it != inflight.end();) {
            if (now >= it->second->deadline) {
                it->second->promise.set_value(makeError(workerName(it->second->role) + " did not answer '" +
                                                        commandName(it->second->command) + "' within " +
                                                        secondsText(it->second->timeoutMs)));
                it = inflight.erase(it);
            } else {
                ++it;
            }
        }
    }

    // The I/O thread. Its exception boundary: whatever ends it (a socket error, abort(), the
    // destructor), every waiter gets an error with the reason, and so does every later request.
    void loop() {
        std::string reason;
        while (!stop.load()) {
            try {
                pass();
            } catch (const zmq::error_t& e) {
                std::lock_guard lock(mutex);
                reason = !abortReason.empty() ? abortReason : std::string("the controller's socket failed: ") + e.what();
                break;
            } catch (const std::exception& e) {
                reason = std::string("the controller's I/O thread failed: ") + e.what();
                break;
            }
        }
        if (reason.empty()) reason = "the controller shut down";
        std::deque<Op> left;
        std::vector<Role> died;
        {
            // One step: from here on every worker reads as dead and every request fails.
            std::lock_guard lock(mutex);
            stoppedReason = reason;
            left.swap(ops);
            for (int s = 0; s < 2; ++s)
                if (infos[s].alive && !stop.load()) {
                    infos[s].alive = false;
                    infos[s].deathReason = reason;
                    died.push_back(s == 0 ? Role::Device : Role::Edge);
                }
        }
        for (Op& op : left) failOp(op, reason);
        for (auto& [id, p] : inflight) p->promise.set_value(makeError(reason));
        inflight.clear();
        for (Role role : died) {
            WorkerEvent e;
            e.role = role;
            e.kind = EventKind::WorkerDown;
            e.message = workerName(role) + " is unreachable: " + reason;
            emitEvent(e);
        }
        for (auto& slot : slots) slot.socket.close();
        wakeRecv.close();
    }
};

Controller::Controller() : Controller(Options{}) {}

Controller::Controller(Options options) : impl_(std::make_unique<Impl>()) {
    impl_->options = std::move(options);
    if (!impl_->options.curveKeysDir.empty()) {
        auto keys = loadCurveKeys(impl_->options.curveKeysDir, false);
        if (keys)
            impl_->curve = *keys;
        else
            impl_->curveError = keys.error();
    }
    const std::string wake = "inproc://edgent-controller-wake-" + std::to_string(reinterpret_cast<uintptr_t>(this));
    impl_->wakeRecv = zmq::socket_t(impl_->context, zmq::socket_type::pair);
    impl_->wakeRecv.bind(wake);
    impl_->wakeSend = zmq::socket_t(impl_->context, zmq::socket_type::pair);
    impl_->wakeSend.set(zmq::sockopt::sndhwm, 0);
    impl_->wakeSend.connect(wake);
    impl_->io = std::thread([this] { impl_->loop(); });
}

Controller::~Controller() {
    impl_->stop = true;
    impl_->io.join();
    std::lock_guard lock(impl_->wakeMutex);
    impl_->wakeSend.close();
}

Controller::Subscription Controller::subscribe(SampleHandler onSample, EventHandler onEvent) {
    Subscription sub;
    sub.entry_ = std::make_shared<Subscription::Entry>();
    sub.entry_->onSample = std::move(onSample);
    sub.entry_->onEvent = std::move(onEvent);
    std::lock_guard lock(impl_->mutex);
    impl_->subscribers.push_back(sub.entry_);
    return sub;
}

void Controller::abort(const std::string& reason) {
    {
        std::lock_guard lock(impl_->mutex);
        if (!impl_->stoppedReason.empty() || !impl_->abortReason.empty()) return;
        impl_->abortReason = "the controller was stopped: " + reason;
    }
    // Every blocking or polling call on the context now fails with ETERM: the I/O thread's
    // poll among them, which ends it through its error path.
    zmq_ctx_shutdown(impl_->context.handle());
}

Status Controller::connect(Role role, const std::string& endpoint, int timeoutMs) {
    if (!impl_->curveError.empty()) return makeError(impl_->curveError);
    Impl::Op op;
    op.kind = Impl::Op::Connect;
    op.role = role;
    op.text = endpoint;
    op.connected = std::make_shared<std::promise<Status>>();
    auto connected = op.connected->get_future();
    impl_->post(std::move(op));
    if (connected.wait_for(std::chrono::milliseconds(timeoutMs)) != std::future_status::ready)
        return makeError("connecting to " + workerName(role) + " at " + endpoint + " timed out");
    if (auto s = connected.get(); !s) return s;
    auto hello = call(role, Command::Hello, {}, timeoutMs);
    if (!hello)
        return makeError("no answer from " + workerName(role) + " at " + endpoint + ": " + hello.error() +
                         (impl_->options.curveKeysDir.empty() ? "" : " (check the CURVE keys)"));
    const std::string actualRole = hello->value("role").toString().toStdString();
    if (actualRole != roleName(role))
        return makeError("the worker at " + endpoint + " is a " + actualRole + " worker, not a " + roleName(role) + " worker");
    {
        std::lock_guard lock(impl_->mutex);
        WorkerInfo& info = impl_->infos[slotOf(role)];
        info.hello = *hello;
        info.alive = true;
        info.deathReason.clear();
        if (hello->contains("data"))
            info.dataEndpoint = reachableEndpoint(hello->value("data").toString().toStdString(), endpoint);
    }
    WorkerEvent e;
    e.role = role;
    e.kind = EventKind::WorkerUp;
    e.message = workerName(role) + " at " + endpoint + " (" + hello->value("host").toString().toStdString() + ")";
    impl_->emitEvent(e);
    return Status::success();
}

std::future<Result<QJsonObject>> Controller::request(Role role, Command command, QJsonObject args, int timeoutMs,
                                                     std::vector<std::string> extraFrames) {
    auto pending = std::make_shared<Impl::Pending>();
    pending->id = impl_->nextId++;
    pending->role = role;
    pending->command = command;
    pending->timeoutMs = timeoutMs;
    pending->deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
    QJsonObject message = makeRequest(pending->id, command);
    for (auto it = args.begin(); it != args.end(); ++it) message.insert(it.key(), it.value());
    auto future = pending->promise.get_future();
    Impl::Op op;
    op.kind = Impl::Op::Send;
    op.role = role;
    op.text = toWire(message);
    op.extra = std::move(extraFrames);
    op.pending = std::move(pending);
    impl_->post(std::move(op));
    return future;
}

Result<QJsonObject> Controller::call(Role role, Command command, QJsonObject args, int timeoutMs,
                                     std::vector<std::string> extraFrames) {
    auto future = request(role, command, std::move(args), timeoutMs, std::move(extraFrames));
    // The I/O thread enforces the deadline; the extra second only guards against a stuck loop.
    if (future.wait_for(std::chrono::milliseconds(timeoutMs + 1000)) != std::future_status::ready)
        return makeError(workerName(role) + " did not answer '" + commandName(command) + "' in time");
    return future.get();
}

WorkerInfo Controller::info(Role role) const {
    std::lock_guard lock(impl_->mutex);
    return impl_->infos[slotOf(role)];
}

void Controller::markDead(Role role, const std::string& reason) {
    Impl::Op op;
    op.kind = Impl::Op::MarkDead;
    op.role = role;
    op.text = reason;
    impl_->post(std::move(op));
}

double Controller::nowMs() const { return impl_->msSinceStart(); }

}  // namespace edgent::core::control
