// SampleWriter: batched writes of a run on a background thread.
#include "core/store/RunStore.h"

#include "core/store/Sql.h"

#include <chrono>

namespace edgent::core::store {

Result<std::unique_ptr<SampleWriter>> SampleWriter::start(const std::string& path, int64_t runId) {
    return start(path, runId, Options{});
}

Result<std::unique_ptr<SampleWriter>> SampleWriter::start(const std::string& path, int64_t runId, Options options) {
    auto store = RunStore::open(path);
    if (!store) return makeError(store.error());
    if (auto r = (*store)->run(runId); !r) return makeError(r.error());
    std::unique_ptr<SampleWriter> w(new SampleWriter());
    w->path_ = path;
    w->runId_ = runId;
    w->options_ = std::move(options);
    w->store_ = std::move(store).value();
    w->thread_ = std::thread([p = w.get()] { p->loop(); });
    return w;
}

SampleWriter::~SampleWriter() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void SampleWriter::add(SampleRow row) {
    {
        std::lock_guard lock(mutex_);
        samples_.push_back(std::move(row));
    }
    wake_.notify_one();
}

void SampleWriter::addEvent(EventRow row) {
    {
        std::lock_guard lock(mutex_);
        events_.push_back(std::move(row));
    }
    wake_.notify_one();
}

std::string SampleWriter::lastError() const {
    std::lock_guard lock(mutex_);
    return error_;
}

void SampleWriter::loop() {
    std::unique_lock lock(mutex_);
    bool backOff = false;
    while (true) {
        if (backOff) {
            // After a failed write, wait a full flush interval before trying again.
            wake_.wait_for(lock, std::chrono::milliseconds(options_.flushMs), [&] { return stop_; });
            backOff = false;
        } else {
            wake_.wait_for(lock, std::chrono::milliseconds(options_.flushMs),
                           [&] { return stop_ || samples_.size() >= options_.batchRows; });
        }
        if (samples_.empty() && events_.empty()) {
            if (stop_) return;
            continue;
        }
        std::vector<SampleRow> batch(std::make_move_iterator(samples_.begin()), std::make_move_iterator(samples_.end()));
        std::vector<EventRow> events(std::make_move_iterator(events_.begin()), std::make_move_iterator(events_.end()));
        samples_.clear();
        events_.clear();
        lock.unlock();
        const Status s = store_->insertSamples(runId_, batch);
        const Status e = store_->insertEvents(runId_, events);
        lock.lock();
        if (s) {
            committed_ += static_cast<int64_t>(batch.size());
            batch.clear();
        }
        if (e) events.clear();
        if (!s || !e) {
            // Keep what failed, in order, and try again later; a stopping writer gives up
            // and finish() reports the loss.
            if (error_.empty()) error_ = !s ? s.error() : e.error();
            samples_.insert(samples_.begin(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
            events_.insert(events_.begin(), std::make_move_iterator(events.begin()), std::make_move_iterator(events.end()));
            if (stop_) return;
            backOff = true;
        }
        if (s && options_.onCommit) {
            const int64_t committed = committed_.load();
            lock.unlock();
            options_.onCommit(committed);
            lock.lock();
        }
    }
}

Status SampleWriter::finish(const std::string& status, const std::string& error) {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    {
        std::lock_guard lock(mutex_);
        if (!samples_.empty() || !events_.empty()) {
            std::string lost;
            if (!samples_.empty()) lost = std::to_string(samples_.size()) + (samples_.size() == 1 ? " sample" : " samples");
            if (!events_.empty())
                lost +=
                    (lost.empty() ? "" : " and ") + std::to_string(events_.size()) + (events_.size() == 1 ? " event" : " events");
            return makeError("could not store " + lost + ": " + error_);
        }
    }
    // The end of a run is worth a full sync.
    char* message = nullptr;
    sqlite3_exec(store_->handle(), "PRAGMA synchronous=FULL", nullptr, nullptr, &message);
    sqlite3_free(message);
    if (auto s = store_->finishRun(runId_, status, error); !s) return s;
    sqlite3_exec(store_->handle(), "PRAGMA wal_checkpoint(PASSIVE)", nullptr, nullptr, &message);
    sqlite3_free(message);
    return Status::success();
}

}  // namespace edgent::core::store
