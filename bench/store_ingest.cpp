// Run-store throughput: sample ingest through SampleWriter (WAL, batched transactions on
// its own thread) against the same rows inserted one transaction each, and the time to
// export a run of 100,000 samples in every format. Rows replay samples recorded from a
// real run (tests/data/recorded-samples.csv).
// Usage: edgent-bench-store RECORDED.csv [--samples N]
#include "core/store/Export.h"
#include "core/store/RunStore.h"
#include "widgets/RunPlots.h"

#include <QApplication>
#include <QTemporaryDir>

#include <chrono>
#include <cstdio>
#include <cstring>

using namespace edgent::core::store;
using Clock = std::chrono::steady_clock;

static double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int main(int argc, char** argv) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    if (argc < 2) {
        std::fprintf(stderr, "usage: edgent-bench-store RECORDED.csv [--samples N]\n");
        return 2;
    }
    int64_t n = 100000;
    for (int i = 2; i < argc; ++i)
        if (!std::strcmp(argv[i], "--samples") && i + 1 < argc) n = std::atoll(argv[++i]);
    auto loaded = readSamplesCsv(argv[1]);
    if (!loaded || loaded->empty()) {
        std::fprintf(stderr, "edgent-bench-store: %s\n", loaded ? "no samples" : loaded.error().c_str());
        return 1;
    }
    const std::vector<SampleRow> recorded = std::move(loaded).value();
    QTemporaryDir dir;
    const std::string db = dir.filePath("bench.sqlite").toStdString();
    auto store = RunStore::open(db);
    if (!store) return 1;
    auto runId = (*store)->beginRun(RunStart{});

    // 1. SampleWriter: the producer only enqueues; time until everything is durable.
    auto writer = SampleWriter::start(db, *runId);
    auto t0 = Clock::now();
    for (int64_t i = 0; i < n; ++i) {
        SampleRow r = recorded[static_cast<size_t>(i) % recorded.size()];
        r.sample.sequence = static_cast<uint64_t>(i);
        (*writer)->add(r);
    }
    const double enqueue = since(t0);
    if (!(*writer)->finish("finished")) return 1;
    const double writerSeconds = since(t0);

    // 2. The naive way, one transaction per sample, on a smaller count.
    auto naiveRun = (*store)->beginRun(RunStart{});
    const int64_t naiveN = std::min<int64_t>(n, 2000);
    t0 = Clock::now();
    for (int64_t i = 0; i < naiveN; ++i) {
        SampleRow r = recorded[static_cast<size_t>(i) % recorded.size()];
        r.sample.sequence = static_cast<uint64_t>(i);
        if (!(*store)->insertSamples(*naiveRun, {r})) return 1;
    }
    const double naiveSeconds = since(t0);
    std::printf("ingest of %lld samples through SampleWriter: %.0f samples/s durable (producer enqueue %.0f samples/s)\n",
                static_cast<long long>(n), static_cast<double>(n) / writerSeconds, static_cast<double>(n) / enqueue);
    std::printf("one transaction per sample (%lld samples): %.0f samples/s; batching is %.1fx faster\n",
                static_cast<long long>(naiveN), static_cast<double>(naiveN) / naiveSeconds,
                (static_cast<double>(n) / writerSeconds) / (static_cast<double>(naiveN) / naiveSeconds));

    for (const char* ext : {"csv", "json", "sqlite", "png", "pdf"}) {
        const QString out = dir.filePath(QStringLiteral("export.%1").arg(ext));
        t0 = Clock::now();
        bool ok;
        if (!std::strcmp(ext, "png") || !std::strcmp(ext, "pdf")) {
            edgent::widgets::RunFigure fig;
            fig.title = "bench";
            auto rows = (*store)->samples(*runId);
            fig.samples = std::move(rows).value();
            ok = edgent::widgets::saveRunFigure(fig, out).ok();
        } else {
            ok = exportRun(**store, *runId, out.toStdString()).ok();
        }
        std::printf("export of a %lld-sample run to .%-6s %7.3f s  (%lld bytes)%s\n", static_cast<long long>(n), ext, since(t0),
                    static_cast<long long>(QFileInfo(out).size()), ok ? "" : "  FAILED");
    }
    return 0;
}
