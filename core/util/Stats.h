#pragma once
// Small statistics shared by run summaries.

#include <algorithm>
#include <cmath>
#include <vector>

namespace edgent::core {

// Nearest-rank percentile (q in (0, 1]) of an ascending, non-empty vector.
inline double nearestRank(const std::vector<double>& sorted, double q) {
    const size_t k = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    return sorted[std::min(sorted.size() - 1, k == 0 ? 0 : k - 1)];
}

}  // namespace edgent::core
