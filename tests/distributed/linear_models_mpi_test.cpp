// Distributed gradient descent for linear and logistic regression under mpirun:
// each rank fits on its block of rows and the result equals one process on all rows.
#include <gtest/gtest.h>

#include <cmath>

#include "loom/core/generator.h"
#include "loom/distributed/linear_models.h"

namespace loom::distributed {
namespace {

// A fixed synthetic table, the same on every rank: y = x . w_true + 0.5 (+ noise).
void make_table(int64_t n, int64_t d, bool logistic, Tensor& x, Tensor& y) {
  Generator g(42);
  std::vector<double> xv(static_cast<size_t>(n * d)), yv(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    double z = 0.5;
    for (int64_t j = 0; j < d; ++j) {
      xv[i * d + j] = static_cast<double>(g.below(2001)) / 1000.0 - 1.0;
      z += xv[i * d + j] * static_cast<double>(j % 3 - 1) * 1.5;
    }
    const double noise = static_cast<double>(g.below(1001)) / 5000.0 - 0.1;
    yv[i] = logistic ? (z + noise > 0 ? 1.0 : 0.0) : z + noise;
  }
  x = Tensor::from_vector(xv, {n, d});
  y = Tensor::from_vector(yv, {n});
}

Tensor rows(const Tensor& t, int64_t begin, int64_t end) {
  std::vector<double> v = t.to_vector<double>();
  const int64_t width = t.dim() == 2 ? t.size(1) : 1;
  std::vector<double> part(v.begin() + begin * width, v.begin() + end * width);
  return t.dim() == 2 ? Tensor::from_vector(part, {end - begin, width}) : Tensor::from_vector(part, {end - begin});
}

void check_matches_single_process(bool logistic) {
  auto comm = mpi_world();
  Tensor x, y;
  make_table(1003, 7, logistic, x, y);  // 1003 rows: not divisible by 2, 3 or 4 ranks
  LinearModelOptions o;
  o.logistic = logistic;
  o.lr = logistic ? 0.5 : 0.2;
  o.iterations = 150;
  o.l2 = 1e-3;
  const LinearModel single = fit_linear_model(x, y, o, nullptr);
  auto [begin, end] = row_range(x.size(0), comm->rank(), comm->size());
  const LinearModel dist = fit_linear_model(rows(x, begin, end), rows(y, begin, end), o, comm.get());
  ASSERT_EQ(dist.weights.size(), single.weights.size());
  for (size_t j = 0; j < single.weights.size(); ++j)
    EXPECT_NEAR(dist.weights[j], single.weights[j], 1e-9) << "weight " << j;
  EXPECT_NEAR(dist.bias, single.bias, 1e-9);
  EXPECT_NEAR(dist.losses.back(), single.losses.back(), 1e-9);
  EXPECT_LT(single.losses.back(), single.losses.front() * 0.5) << "gradient descent did not learn";
}

TEST(LinearModelsMpi, LinearRegressionEqualsSingleProcess) { check_matches_single_process(false); }
TEST(LinearModelsMpi, LogisticRegressionEqualsSingleProcess) { check_matches_single_process(true); }

}  // namespace
}  // namespace loom::distributed
