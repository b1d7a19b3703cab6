#pragma once
// The edge's queue: one FIFO per source (a device's connection), served round robin, bounded
// per source and in total. A source with work waiting is served once per round, however much
// another source sends; an item that does not fit is refused at once (the edge answers it
// `busy`), so the queue, and the memory it holds, never grows past its bounds.
//
// Not thread-safe: the owner locks. Torch- and ZeroMQ-free, so it is tested on its own.

#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace edgent::core::net {

template <typename Item>
class FairQueue {
public:
    enum class Admit { Queued, Full, SourceFull };

    FairQueue(size_t capacity, size_t perSource) : capacity_(capacity), perSource_(perSource) {}

    Admit push(const std::string& source, Item item) {
        if (size_ >= capacity_) return Admit::Full;
        auto& q = queues_[source];
        if (q.size() >= perSource_) return Admit::SourceFull;
        if (q.empty()) order_.push_back(source);
        q.push_back(std::move(item));
        ++size_;
        return Admit::Queued;
    }

    // The next item, round robin across the sources with work waiting.
    std::optional<std::pair<std::string, Item>> pop() {
        if (order_.empty()) return std::nullopt;
        std::string source = std::move(order_.front());
        order_.pop_front();
        auto it = queues_.find(source);
        std::pair<std::string, Item> out{source, std::move(it->second.front())};
        it->second.pop_front();
        --size_;
        if (it->second.empty())
            queues_.erase(it);
        else
            order_.push_back(std::move(source));
        return out;
    }

    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    size_t sources() const { return order_.size(); }  // sources with work waiting
    size_t capacity() const { return capacity_; }
    size_t perSource() const { return perSource_; }

private:
    size_t capacity_, perSource_;
    size_t size_ = 0;
    std::map<std::string, std::deque<Item>> queues_;
    std::deque<std::string> order_;
};

}  // namespace edgent::core::net
