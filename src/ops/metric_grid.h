#pragma once

#include <prometheus/family.h>
#include <prometheus/labels.h>

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace beckon::ops::detail {

// The label value used when a caller passes an index outside the values it declared at
// construction. Seeing it in a scrape means a caller and its probe disagree about a label set.
inline constexpr std::string_view kUnknownLabelValue = "unknown";

// One label dimension of a metric family: the label name and the values that indices 0..n-1 map to.
struct LabelDim {
  std::string name;
  std::vector<std::string> values;

  LabelDim(std::string n, std::span<const std::string_view> v) : name(std::move(n)) {
    values.reserve(v.size());
    for (std::string_view s : v) values.emplace_back(s);
  }
};

// The children of one metric family over one or two label dimensions, resolved once at
// construction into a flat array so that the hot path is an index and an atomic add, never a map
// lookup. An out-of-range index falls back to the child labelled "unknown" on that dimension,
// created on first use through the family (slow, but correct and visible in the scrape).
//
// Owned by a probe; the family (and so its registry) must outlive it. Thread-safe: the array is
// immutable after construction and prometheus-cpp's Family::Add and metric updates are thread-safe.
template <typename Metric>
class MetricGrid {
 public:
  // Adds (or finds) the child with the given labels; captures bucket boundaries for histograms.
  using AddFn = std::function<Metric&(const prometheus::Labels&)>;

  MetricGrid(AddFn add, std::vector<LabelDim> dims) : add_(std::move(add)), dims_(std::move(dims)) {
    const std::size_t rows = dims_.empty() ? 1 : dims_[0].values.size();
    const std::size_t cols = dims_.size() < 2 ? 1 : dims_[1].values.size();
    cols_ = cols;
    cells_.reserve(rows * cols);
    for (std::size_t i = 0; i < rows; ++i) {
      for (std::size_t j = 0; j < cols; ++j) cells_.push_back(&add_(labels_for(i, j)));
    }
  }

  // The child for index i of the only dimension (or of the first, with column 0).
  Metric& at(int i) { return at(i, 0); }

  // The child for index i of the first dimension and j of the second.
  Metric& at(int i, int j) {
    if (in_range(0, i) && in_range(1, j)) {
      return *cells_[static_cast<std::size_t>(i) * cols_ + static_cast<std::size_t>(j)];
    }
    return add_(labels_for_index(i, j));
  }

 private:
  bool in_range(std::size_t dim, int index) const {
    if (dim >= dims_.size()) return index == 0;
    return index >= 0 && static_cast<std::size_t>(index) < dims_[dim].values.size();
  }

  prometheus::Labels labels_for(std::size_t i, std::size_t j) const {
    prometheus::Labels labels;
    const std::size_t idx[2] = {i, j};
    for (std::size_t d = 0; d < dims_.size() && d < 2; ++d) {
      const auto& values = dims_[d].values;
      labels.emplace(dims_[d].name, idx[d] < values.size() ? values[idx[d]]
                                                            : std::string(kUnknownLabelValue));
    }
    return labels;
  }

  prometheus::Labels labels_for_index(int i, int j) const {
    // Negative indices map to "unknown" like too-large ones.
    auto clamp = [](int v) { return v < 0 ? static_cast<std::size_t>(-1) : static_cast<std::size_t>(v); };
    return labels_for(clamp(i), clamp(j));
  }

  AddFn add_;
  std::vector<LabelDim> dims_;
  std::size_t cols_ = 1;
  std::vector<Metric*> cells_;
};

// Helpers building a grid's AddFn from a family.
template <typename Metric>
typename MetricGrid<Metric>::AddFn adder(prometheus::Family<Metric>& family) {
  return [&family](const prometheus::Labels& labels) -> Metric& { return family.Add(labels); };
}

template <typename Metric, typename Arg>
typename MetricGrid<Metric>::AddFn adder(prometheus::Family<Metric>& family, Arg arg) {
  return [&family, arg](const prometheus::Labels& labels) -> Metric& {
    return family.Add(labels, arg);
  };
}

}  // namespace beckon::ops::detail
