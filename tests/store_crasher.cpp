// Helper for tst_store_crash: writes a run's samples through SampleWriter (replaying
// samples recorded from a real run) and prints "committed N" after every commit, until it
// is killed. Stops by itself after 60 s so it can never outlive a test.
// Usage: edgent-store-crasher DB RECORDED.csv
#include "core/store/RunStore.h"

#include <QFile>

#include <chrono>
#include <cstdio>
#include <thread>

using namespace edgent::core::store;

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: edgent-store-crasher DB RECORDED.csv\n");
        return 2;
    }
    std::vector<SampleRow> recorded;
    QFile f(QString::fromLocal8Bit(argv[2]));
    if (!f.open(QIODevice::ReadOnly)) return 1;
    const QList<QByteArray> lines = f.readAll().split('\n');
    for (int i = 1; i < lines.size(); ++i) {
        const QList<QByteArray> c = lines[i].split(',');
        if (c.size() < 19) continue;
        SampleRow r;
        r.sample.exit = c[4].toInt();
        r.sample.partition = c[5].toInt();
        r.sample.label = c[6].toInt();
        r.sample.prediction = c[7].toInt();
        r.sample.deviceMs = c[9].toDouble();
        r.sample.transferMs = c[10].toDouble();
        r.sample.edgeMs = c[11].toDouble();
        r.sample.totalMs = c[12].toDouble();
        r.sample.bytesSent = c[13].toLongLong();
        recorded.push_back(r);
    }
    if (recorded.empty()) return 1;
    auto store = RunStore::open(argv[1]);
    if (!store) {
        std::fprintf(stderr, "%s\n", store.error().c_str());
        return 1;
    }
    auto run = (*store)->beginRun(RunStart{});
    if (!run) return 1;
    std::printf("run %lld\n", static_cast<long long>(*run));
    std::fflush(stdout);
    SampleWriter::Options o;
    o.batchRows = 500;
    o.flushMs = 20;
    o.onCommit = [](int64_t n) {
        std::printf("committed %lld\n", static_cast<long long>(n));
        std::fflush(stdout);
    };
    auto writer = SampleWriter::start(argv[1], *run, o);
    if (!writer) return 1;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (uint64_t seq = 0; std::chrono::steady_clock::now() < end; ++seq) {
        SampleRow r = recorded[seq % recorded.size()];
        r.sample.sequence = seq;
        (*writer)->add(r);
        if (seq % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return (*writer)->finish("finished").ok() ? 0 : 1;
}
