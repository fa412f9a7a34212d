#pragma once
// Per-column statistics, computed the way numpy / scikit-learn compute them so
// fitted values agree with theirs (NOTE [Deterministic steps] in columns.h: each
// runs on one thread, in row order).
#include <cstdint>
#include <vector>

namespace loom::data::detail {

// Sum of x[0..n) in a fixed order (four interleaved partial sums, then combined).
double sum(const double* x, int64_t n);

// numpy's sum of a contiguous array (pairwise summation, blocks of 128 with
// eight partial sums), bit for bit.
double numpy_sum(const double* x, int64_t n);

// Count, mean and population variance (ddof 0) of the present (non-NaN) values,
// by scikit-learn's corrected two-pass algorithm (_incremental_mean_and_var).
struct Moments {
  int64_t count = 0;
  double mean = 0;
  double var = 0;
};
Moments nan_moments(const double* x, int64_t n);

// scikit-learn's _is_constant_feature: a variance within the rounding error of
// the two-pass algorithm counts as zero.
bool is_constant_feature(double var, double mean, int64_t count);

// The present values of x[0..n).
std::vector<double> present_values(const double* x, int64_t n);

// numpy.percentile(values, percent) with the default "linear" method, for
// `values` without NaN. Reorders `values` (partial selection, O(n)).
double percentile(std::vector<double>& values, double percent);
// The same on values already sorted ascending.
double percentile_sorted(const std::vector<double>& sorted, double percent);
// numpy.median: the mean of the two middle values for an even count.
double median(std::vector<double>& values);

}  // namespace loom::data::detail
