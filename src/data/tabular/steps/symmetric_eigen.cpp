// symmetric_eigen (gram.h): Householder reduction to tridiagonal form and the
// implicit QL method, after EISPACK's tred2/tql2 (by way of the public-domain JAMA).
#include <algorithm>
#include <cmath>
#include <limits>

#include "data/tabular/steps/gram.h"
#include "loom/core/error.h"

namespace loom::data::detail {
namespace {

// Row-major n x n view.
struct Matrix {
  std::vector<double>& a;
  int64_t n;
  double& operator()(int64_t i, int64_t j) { return a[static_cast<size_t>(i * n + j)]; }
};

// Householder tridiagonalisation: V becomes the accumulated transform, d the
// diagonal, e the sub-diagonal (e[0] = 0).
void tred2(Matrix V, std::vector<double>& d, std::vector<double>& e) {
  const int64_t n = V.n;
  for (int64_t j = 0; j < n; ++j)
    d[j] = V(n - 1, j);
  for (int64_t i = n - 1; i > 0; --i) {
    double scale = 0.0, h = 0.0;
    for (int64_t k = 0; k < i; ++k)
      scale += std::abs(d[k]);
    if (scale == 0.0) {
      e[i] = d[i - 1];
      for (int64_t j = 0; j < i; ++j) {
        d[j] = V(i - 1, j);
        V(i, j) = 0.0;
        V(j, i) = 0.0;
      }
    } else {
      for (int64_t k = 0; k < i; ++k) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      double f = d[i - 1];
      double g = std::sqrt(h);
      if (f > 0)
        g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (int64_t j = 0; j < i; ++j)
        e[j] = 0.0;
      for (int64_t j = 0; j < i; ++j) {
        f = d[j];
        V(j, i) = f;
        g = e[j] + V(j, j) * f;
        for (int64_t k = j + 1; k <= i - 1; ++k) {
          g += V(k, j) * d[k];
          e[k] += V(k, j) * f;
        }
        e[j] = g;
      }
      f = 0.0;
      for (int64_t j = 0; j < i; ++j) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const double hh = f / (h + h);
      for (int64_t j = 0; j < i; ++j)
        e[j] -= hh * d[j];
      for (int64_t j = 0; j < i; ++j) {
        f = d[j];
        g = e[j];
        for (int64_t k = j; k <= i - 1; ++k)
          V(k, j) -= (f * e[k] + g * d[k]);
        d[j] = V(i - 1, j);
        V(i, j) = 0.0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations.
  for (int64_t i = 0; i < n - 1; ++i) {
    V(n - 1, i) = V(i, i);
    V(i, i) = 1.0;
    const double h = d[i + 1];
    if (h != 0.0) {
      for (int64_t k = 0; k <= i; ++k)
        d[k] = V(k, i + 1) / h;
      for (int64_t j = 0; j <= i; ++j) {
        double g = 0.0;
        for (int64_t k = 0; k <= i; ++k)
          g += V(k, i + 1) * V(k, j);
        for (int64_t k = 0; k <= i; ++k)
          V(k, j) -= g * d[k];
      }
    }
    for (int64_t k = 0; k <= i; ++k)
      V(k, i + 1) = 0.0;
  }
  for (int64_t j = 0; j < n; ++j) {
    d[j] = V(n - 1, j);
    V(n - 1, j) = 0.0;
  }
  V(n - 1, n - 1) = 1.0;
  e[0] = 0.0;
}

// Implicit QL iterations on the tridiagonal (d, e), rotating V along.
void tql2(Matrix V, std::vector<double>& d, std::vector<double>& e) {
  const int64_t n = V.n;
  for (int64_t i = 1; i < n; ++i)
    e[i - 1] = e[i];
  e[n - 1] = 0.0;
  double f = 0.0, tst1 = 0.0;
  const double eps = std::numeric_limits<double>::epsilon();
  constexpr int kMaxIter = 100;
  for (int64_t l = 0; l < n; ++l) {
    tst1 = std::max(tst1, std::abs(d[l]) + std::abs(e[l]));
    int64_t m = l;
    while (m < n && std::abs(e[m]) > eps * tst1)
      ++m;
    if (m == n)
      m = n - 1;
    if (m > l) {
      int iter = 0;
      do {
        LOOM_CHECK(++iter <= kMaxIter, "pca: the eigen-solver did not converge in ", kMaxIter,
                   " iterations; the covariance matrix may hold NaN or infinite values");
        double g = d[l];
        double p = (d[l + 1] - g) / (2.0 * e[l]);
        double r = std::hypot(p, 1.0);
        if (p < 0)
          r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const double dl1 = d[l + 1];
        double h = g - d[l];
        for (int64_t i = l + 2; i < n; ++i)
          d[i] -= h;
        f += h;
        p = d[m];
        double c = 1.0, c2 = c, c3 = c;
        const double el1 = e[l + 1];
        double s = 0.0, s2 = 0.0;
        for (int64_t i = m - 1; i >= l; --i) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = std::hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          for (int64_t k = 0; k < n; ++k) {
            h = V(k, i + 1);
            V(k, i + 1) = s * V(k, i) + c * h;
            V(k, i) = c * V(k, i) - s * h;
          }
        }
        p = -s * s2 * c3 * el1 * e[l] / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (std::abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0.0;
  }
  // Sort ascending (selection sort keeps the pairing with V's columns).
  for (int64_t i = 0; i < n - 1; ++i) {
    int64_t k = i;
    double p = d[i];
    for (int64_t j = i + 1; j < n; ++j) {
      if (d[j] < p) {
        k = j;
        p = d[j];
      }
    }
    if (k != i) {
      d[k] = d[i];
      d[i] = p;
      for (int64_t j = 0; j < n; ++j)
        std::swap(V(j, i), V(j, k));
    }
  }
}

}  // namespace

void symmetric_eigen(int64_t n, std::vector<double>& a, std::vector<double>& values) {
  LOOM_ASSERT(static_cast<int64_t>(a.size()) == n * n);
  values.assign(static_cast<size_t>(n), 0.0);
  if (n == 0)
    return;
  for (double v : a)
    LOOM_CHECK(std::isfinite(v), "pca: the covariance matrix holds a non-finite value; check the input for infinities");
  std::vector<double> e(static_cast<size_t>(n), 0.0);
  tred2(Matrix{a, n}, values, e);
  tql2(Matrix{a, n}, values, e);
}

}  // namespace loom::data::detail
