#pragma once
// Internal to workers/: what the worker's threads share.

#include "core/net/Protocol.h"

#include <QJsonObject>

#include <zmq.hpp>

#include <chrono>
#include <string>

namespace edgent::workers {

using Clock = std::chrono::steady_clock;

// The stream and profiling threads hand samples and events to the main loop here.
inline constexpr const char* kSampleQueue = "inproc://edgent-samples";

inline double msBetween(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

// A worker thread's connection to the main loop; it never blocks (no high-water mark),
// since the main thread may be joining the sender.
inline zmq::socket_t connectToMainLoop(zmq::context_t& context) {
    zmq::socket_t out(context, zmq::socket_type::push);
    out.set(zmq::sockopt::linger, 1000);
    out.set(zmq::sockopt::sndhwm, 0);
    out.connect(kSampleQueue);
    return out;
}

inline void sendJson(zmq::socket_t& socket, const QJsonObject& message) {
    const std::string wire = core::net::toWire(message);
    socket.send(zmq::buffer(wire), zmq::send_flags::none);
}

}  // namespace edgent::workers
