#pragma once
// Spawns edgent-worker processes on loopback and reads the endpoints they print.
// Every wait is bounded; the destructor ends any worker still running (SIGTERM, then
// SIGKILL after a grace period).

#include "core/net/Protocol.h"

#include <QJsonObject>

#include <string>
#include <sys/types.h>
#include <vector>

namespace edgent::core::control {

class ChildProcess {
public:
    ChildProcess() = default;
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    Status start(const std::string& program, const std::vector<std::string>& args);
    // Reads one line of the child's stdout within timeoutMs.
    Result<std::string> readLine(int timeoutMs);
    bool running();
    // "exited with status 1", "killed by signal 9 (SIGKILL)"; empty while running.
    std::string exitDescription();
    // SIGTERM, wait up to graceMs, then SIGKILL; returns once the child is reaped.
    void stop(int graceMs);
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    int stdoutFd_ = -1;
    int status_ = 0;
    bool reaped_ = false;
    std::string buffer_;
};

// The edgent-worker executable: $EDGENT_WORKER, else next to this executable, else in the
// build tree's workers/ folder, else on PATH.
std::string workerExecutable();

struct SpawnedWorker {
    net::Role role = net::Role::Device;
    std::string controlEndpoint;
    std::string dataEndpoint;
    ChildProcess process;
};

// Starts one worker; returns once it printed its endpoints (or fails within timeoutMs).
// slowdown > 1 emulates a slower node (edgent-worker --slowdown); extraArgs go to the worker
// as they are (an edge's --queue, --servers).
Status spawnWorker(SpawnedWorker& worker, net::Role role, int threads, const std::string& curveKeysDir, int timeoutMs = 15000,
                   double slowdown = 1.0, const std::vector<std::string>& extraArgs = {});

}  // namespace edgent::core::control
