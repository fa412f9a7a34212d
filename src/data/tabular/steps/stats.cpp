#include "data/tabular/steps/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "loom/core/error.h"

namespace loom::data::detail {

double sum(const double* x, int64_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += x[i];
    s1 += x[i + 1];
    s2 += x[i + 2];
    s3 += x[i + 3];
  }
  for (; i < n; ++i)
    s0 += x[i];
  return (s0 + s1) + (s2 + s3);
}

double numpy_sum(const double* x, int64_t n) {
  if (n < 8) {
    double res = 0.0;
    for (int64_t i = 0; i < n; ++i)
      res += x[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j)
      r[j] = x[j];
    int64_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (int j = 0; j < 8; ++j)
        r[j] += x[i + j];
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i)
      res += x[i];
    return res;
  }
  int64_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_sum(x, n2) + numpy_sum(x + n2, n - n2);
}

Moments nan_moments(const double* x, int64_t n) {
  // Four interleaved partial sums (a fixed order, so the same bits on any thread)
  // keep the loop from waiting on one chain of additions; NaN counts as 0.
  double s[4] = {0, 0, 0, 0};
  int64_t count[4] = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int j = 0; j < 4; ++j) {
      const double v = x[i + j];
      const bool present = v == v;
      s[j] += present ? v : 0.0;
      count[j] += present;
    }
  }
  for (; i < n; ++i) {
    const bool present = x[i] == x[i];
    s[0] += present ? x[i] : 0.0;
    count[0] += present;
  }
  Moments m;
  m.count = (count[0] + count[1]) + (count[2] + count[3]);
  if (m.count == 0) {
    m.mean = m.var = std::numeric_limits<double>::quiet_NaN();
    return m;
  }
  const double total = static_cast<double>(m.count);
  m.mean = ((s[0] + s[1]) + (s[2] + s[3])) / total;
  // Corrected two-pass: sum((x - mean)^2) - (sum(x - mean))^2 / count.
  double c[4] = {0, 0, 0, 0}, q[4] = {0, 0, 0, 0};
  for (i = 0; i + 4 <= n; i += 4) {
    for (int j = 0; j < 4; ++j) {
      const double v = x[i + j];
      const double d = v == v ? v - m.mean : 0.0;
      c[j] += d;
      q[j] += d * d;
    }
  }
  for (; i < n; ++i) {
    const double d = x[i] == x[i] ? x[i] - m.mean : 0.0;
    c[0] += d;
    q[0] += d * d;
  }
  const double correction = (c[0] + c[1]) + (c[2] + c[3]);
  const double squares = (q[0] + q[1]) + (q[2] + q[3]);
  m.var = (squares - correction * correction / total) / total;
  return m;
}

bool is_constant_feature(double var, double mean, int64_t count) {
  const double eps = std::numeric_limits<double>::epsilon();
  const double n = static_cast<double>(count);
  const double bound = n * eps * var + (n * mean * eps) * (n * mean * eps);
  return var <= bound;
}

std::vector<double> present_values(const double* x, int64_t n) {
  std::vector<double> out;
  out.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isnan(x[i]))
      out.push_back(x[i]);
  }
  return out;
}

namespace {

// numpy's _lerp: a + (b - a) t, computed from b's side when t >= 0.5.
double lerp(double a, double b, double t) {
  const double diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

// numpy's virtual index for method "linear": (n - 1) * q, q = percent / 100.
struct Position {
  int64_t lo;  // -1: take the last value
  double gamma;
};

Position position(int64_t n, double percent) {
  const double q = percent / 100.0;
  const double v = static_cast<double>(n - 1) * q;
  if (v >= static_cast<double>(n - 1))
    return {-1, 0};
  if (v < 0)
    return {0, 0};
  const double lo = std::floor(v);
  return {static_cast<int64_t>(lo), v - lo};
}

}  // namespace

double percentile_sorted(const std::vector<double>& sorted, double percent) {
  const int64_t n = static_cast<int64_t>(sorted.size());
  LOOM_ASSERT(n > 0);
  const Position p = position(n, percent);
  if (p.lo < 0)
    return sorted.back();
  return lerp(sorted[static_cast<size_t>(p.lo)], sorted[static_cast<size_t>(p.lo + 1)], p.gamma);
}

double percentile(std::vector<double>& values, double percent) {
  const int64_t n = static_cast<int64_t>(values.size());
  LOOM_ASSERT(n > 0);
  const Position p = position(n, percent);
  if (p.lo < 0)
    return *std::max_element(values.begin(), values.end());
  auto lo = values.begin() + p.lo;
  std::nth_element(values.begin(), lo, values.end());
  const double a = *lo;
  const double b = *std::min_element(lo + 1, values.end());
  return lerp(a, b, p.gamma);
}

double median(std::vector<double>& values) {
  const int64_t n = static_cast<int64_t>(values.size());
  LOOM_ASSERT(n > 0);
  auto mid = values.begin() + n / 2;
  std::nth_element(values.begin(), mid, values.end());
  if (n % 2 == 1)
    return *mid;
  const double below = *std::max_element(values.begin(), mid);
  return (below + *mid) / 2.0;
}

}  // namespace loom::data::detail
