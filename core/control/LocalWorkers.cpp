#include "core/control/LocalWorkers.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QJsonDocument>
#include <QStandardPaths>

#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace edgent::core::control {

namespace {

std::string selfDir() {
    char buf[4096];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return ".";
    buf[n] = '\0';
    return QFileInfo(QString::fromLocal8Bit(buf)).absolutePath().toStdString();
}

}  // namespace

ChildProcess::~ChildProcess() {
    if (pid_ > 0) stop(2000);
    if (stdoutFd_ >= 0) ::close(stdoutFd_);
}

Status ChildProcess::start(const std::string& program, const std::vector<std::string>& args) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return makeError(std::string("pipe: ") + std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    // A process group of its own: Ctrl-C in the terminal reaches the controller, which then
    // shuts its workers down in order, instead of killing them mid-reply.
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attributes, 0);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, program.c_str(), &actions, &attributes, argv.data(), environ);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (rc != 0) {
        ::close(fds[0]);
        return makeError("cannot start " + program + ": " + std::strerror(rc));
    }
    pid_ = pid;
    stdoutFd_ = fds[0];
    reaped_ = false;
    return Status::success();
}

Result<std::string> ChildProcess::readLine(int timeoutMs) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    while (true) {
        const auto nl = buffer_.find('\n');
        if (nl != std::string::npos) {
            std::string line = buffer_.substr(0, nl);
            buffer_.erase(0, nl + 1);
            return line;
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) return makeError("no output within " + std::to_string(timeoutMs / 1000) + " s");
        pollfd p{stdoutFd_, POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        char buf[4096];
        const ssize_t n = ::read(stdoutFd_, buf, sizeof buf);
        if (n <= 0) {
            // The child closed stdout: it exited, most likely with a message on stderr.
            for (int i = 0; i < 50 && running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
            return makeError("it " + (running() ? std::string("closed its output") : exitDescription()) +
                             " before printing its endpoints");
        }
        buffer_.append(buf, static_cast<size_t>(n));
    }
}

bool ChildProcess::running() {
    if (pid_ <= 0 || reaped_) return false;
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        status_ = status;
        reaped_ = true;
        return false;
    }
    return true;
}

std::string ChildProcess::exitDescription() {
    if (running()) return {};
    if (!reaped_) return "was never started";
    if (WIFEXITED(status_)) return "exited with status " + std::to_string(WEXITSTATUS(status_));
    if (WIFSIGNALED(status_)) {
        const int sig = WTERMSIG(status_);
        const char* name = sig == SIGKILL ? " (SIGKILL)" : sig == SIGTERM ? " (SIGTERM)" : sig == SIGSEGV ? " (SIGSEGV)" : "";
        return "was killed by signal " + std::to_string(sig) + name;
    }
    return "ended";
}

void ChildProcess::stop(int graceMs) {
    if (!running()) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(graceMs);
    while (running() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (running()) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        if (::waitpid(pid_, &status, 0) == pid_) {
            status_ = status;
            reaped_ = true;
        }
    }
}

std::string workerExecutable() {
    const QByteArray env = qgetenv("EDGENT_WORKER");
    if (!env.isEmpty()) return env.toStdString();
    const QString dir = QString::fromStdString(selfDir());
    for (const QString& candidate :
         {dir + "/edgent-worker", dir + "/../workers/edgent-worker", dir + "/../../workers/edgent-worker"}) {
        const QFileInfo info(candidate);
        if (info.isFile() && info.isExecutable()) return info.canonicalFilePath().toStdString();
    }
    const QString onPath = QStandardPaths::findExecutable("edgent-worker");
    return onPath.isEmpty() ? std::string("edgent-worker") : onPath.toStdString();
}

Status spawnWorker(SpawnedWorker& worker, net::Role role, int threads, const std::string& curveKeysDir, int timeoutMs,
                   double slowdown, const std::vector<std::string>& extraArgs) {
    worker.role = role;
    std::vector<std::string> args{"--role", net::roleName(role), "--threads", std::to_string(std::max(1, threads))};
    args.push_back("--parent-pid");
    args.push_back(std::to_string(::getpid()));
    if (slowdown > 1.0) {
        args.push_back("--slowdown");
        args.push_back(std::to_string(slowdown));
    }
    if (!curveKeysDir.empty()) {
        args.push_back("--curve-keys");
        args.push_back(curveKeysDir);
    }
    args.insert(args.end(), extraArgs.begin(), extraArgs.end());
    const std::string program = workerExecutable();
    if (auto s = worker.process.start(program, args); !s) return s;
    auto line = worker.process.readLine(timeoutMs);
    if (!line) return makeError(std::string("the local ") + net::roleName(role) + " worker (" + program + ") " + line.error());
    const QJsonObject o = QJsonDocument::fromJson(QByteArray::fromStdString(*line)).object();
    worker.controlEndpoint = o.value("control").toString().toStdString();
    worker.dataEndpoint = o.value("data").toString().toStdString();
    if (worker.controlEndpoint.empty())
        return makeError(std::string("the local ") + net::roleName(role) + " worker printed no endpoints: " + *line);
    return Status::success();
}

}  // namespace edgent::core::control
