// Helper for tst_store_crash: writes a run's samples through SampleWriter (replaying
// samples recorded from a real run) and prints "committed N" after every commit, until it
// is killed. Stops by itself after 60 s so it can never outlive a test.
// Usage: edgent-store-crasher DB RECORDED.csv
#include "core/store/Export.h"
#include "core/store/RunStore.h"

#include <chrono>
#include <cstdio>
#include <thread>

using namespace edgent::core::store;

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: edgent-store-crasher DB RECORDED.csv\n");
        return 2;
    }
    auto loaded = readSamplesCsv(argv[2]);
    if (!loaded) {
        std::fprintf(stderr, "%s\n", loaded.error().c_str());
        return 1;
    }
    const std::vector<SampleRow> recorded = std::move(loaded).value();
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
