#include "loom/data/tabular/describe.h"

#include <cmath>
#include <limits>

#include "loom/core/error.h"
#include "loom/runtime/parallel.h"

namespace loom::data {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void numeric_stats(const Column& col, ColumnStats& s) {
  double sum = 0, lo = std::numeric_limits<double>::infinity(), hi = -lo;
  int64_t n = 0;
  for (double v : col.values) {
    if (std::isnan(v))
      continue;
    sum += v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    ++n;
  }
  s.count = n;
  s.missing = col.rows() - n;
  if (n == 0) {
    s.mean = s.std = s.min = s.max = kNaN;
    return;
  }
  s.mean = sum / static_cast<double>(n);
  s.min = lo;
  s.max = hi;
  // Two passes: summing squared deviations from the mean stays accurate where
  // sum(x^2) - n*mean^2 would cancel.
  double ss = 0;
  for (double v : col.values) {
    if (!std::isnan(v))
      ss += (v - s.mean) * (v - s.mean);
  }
  s.std = n > 1 ? std::sqrt(ss / static_cast<double>(n - 1)) : kNaN;
}

void categorical_stats(const Column& col, ColumnStats& s) {
  const size_t k = col.categories.size();
  std::vector<int64_t> counts(k, 0);
  int64_t n = 0;
  for (int64_t r = 0; r < col.rows(); ++r) {
    double v = col.values[static_cast<size_t>(r)];
    if (std::isnan(v))
      continue;
    LOOM_CHECK(v >= 0 && v < static_cast<double>(k) && v == std::floor(v), "describe: column '", col.name, "' row ",
               r + 1, " holds code ", v, ", which is not an index into its ", k, " categories");
    ++counts[static_cast<size_t>(v)];
    ++n;
  }
  s.count = n;
  s.missing = col.rows() - n;
  s.mean = s.std = s.min = s.max = kNaN;
  for (size_t i = 0; i < k; ++i) {
    if (counts[i] == 0)
      continue;
    ++s.unique;
    if (counts[i] > s.top_count) {
      s.top_count = counts[i];
      s.top = col.categories[i];
    }
  }
}

}  // namespace

std::vector<ColumnStats> describe(const Table& table) {
  std::vector<ColumnStats> stats(static_cast<size_t>(table.cols()));
  runtime::parallel_for(0, table.cols(), 1, [&](int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; ++c) {
      const Column& col = table.column(c);
      ColumnStats& s = stats[static_cast<size_t>(c)];
      s.name = col.name;
      s.type = col.type;
      if (col.type == ColumnType::numeric)
        numeric_stats(col, s);
      else
        categorical_stats(col, s);
    }
  });
  return stats;
}

}  // namespace loom::data
