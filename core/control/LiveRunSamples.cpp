// LiveRun on the controller's I/O thread: every sample of the run and the workers' events.
#include "core/control/LiveRunImpl.h"

namespace edgent::core::control {

using net::EventKind;
using net::Role;

void LiveRun::Impl::onSample(const net::Sample& in) {
    store::SampleRow row;
    std::vector<RunEvent> out;
    {
        std::lock_guard lock(mutex);
        if (!accepting || (o.count > 0 && count >= o.count)) return;
        row.sample = in;
        row.device = o.device;
        net::Sample& s = row.sample;
        s.sequence += seqOffset;
        s.deviceTimeMs += timeOffsetMs;
        lastDeviceTimeMs = s.deviceTimeMs;
        if (dynamic) {
            // The sample carries the state and source of the configuration in force; its
            // transfer (or probe) then feeds the estimator.
            s.bandwidthStateBps = dynamic->stateLowerBps();
            s.configSource = dynamic->source();
            const auto d = dynamic->observe(s.bytesSent, s.transferMs, s.probeBytes, s.probeMs);
            if (d.changePoint) {
                ++changePoints;
                out.push_back(recordLocked(EventKind::ChangePoint, "bandwidth changed: now about " + kbps(d.estimateBps),
                                           d.estimateBps));
            }
            if (d.switchTo) pendingSwitch = d.switchTo;
        }
        const auto p = predicted.find(predictionKey(s.exit, s.partition, s.codec));
        row.predictedMs = p != predicted.end() ? p->second : NAN;
        if (!o.power.name.empty()) {
            row.energyMj = o.power.energyOf(s);
            row.energySource = o.power.sourceOf(s);
            energySum += row.energyMj;
            energySource = row.energySource;
        }
        writer->add(row);
        if (o.keepSamples) samples.push_back(s);
        ++count;
        lastSampleAt = Clock::now();
    }
    wake.notify_all();
    deliver(out);
    if (observer.onSample) observer.onSample(row);
}

void LiveRun::Impl::onWorkerEvent(const WorkerEvent& e) {
    if (e.kind != EventKind::StreamFinished && e.kind != EventKind::StreamError && e.kind != EventKind::WorkerDown &&
        e.kind != EventKind::Log)
        return;
    std::vector<RunEvent> out;
    {
        std::lock_guard lock(mutex);
        if (!active) return;
        if (e.kind == EventKind::StreamFinished && e.role == Role::Device)
            lastFinishedStream = std::max(lastFinishedStream, e.stream);
        if (e.kind == EventKind::StreamError && failure.empty())
            failure = std::string(net::roleName(e.role)) + " worker: " + e.message;
        if (e.kind == EventKind::WorkerDown && failure.empty()) failure = e.message + " at " + e.wallTime;
        out.push_back(recordLocked(e.kind, e.message, NAN, net::roleName(e.role)));
    }
    wake.notify_all();
    deliver(out);
}

}  // namespace edgent::core::control
