#include "loom/distributed/linear_models.h"

#include <cmath>

#include "loom/core/error.h"

namespace loom::distributed {

double LinearModel::predict(const double* row) const {
  double z = bias;
  for (size_t j = 0; j < weights.size(); ++j)
    z += weights[j] * row[j];
  return z;
}

std::pair<int64_t, int64_t> row_range(int64_t n, int rank, int world) {
  return {n * rank / world, n * (rank + 1) / world};
}

LinearModel fit_linear_model(const Tensor& x, const Tensor& y, const LinearModelOptions& o, Communicator* comm) {
  LOOM_CHECK(x.dim() == 2, "fit_linear_model: x must be [rows, features], got ", shape_str(x.shape()));
  LOOM_CHECK(y.dim() == 1 && y.size(0) == x.size(0), "fit_linear_model: y must be [", x.size(0), "], got ",
             shape_str(y.shape()));
  const int64_t n = x.size(0), d = x.size(1);
  const std::vector<double> xv = x.to_vector<double>(), yv = y.to_vector<double>();
  if (o.logistic)
    for (double v : yv)
      LOOM_CHECK(v == 0.0 || v == 1.0, "logistic regression: labels must be 0 or 1, found ", v);
  LinearModel m;
  m.weights.assign(static_cast<size_t>(d), 0.0);
  // [grad w (d), grad b, loss sum, rows]
  std::vector<double> acc(static_cast<size_t>(d) + 3);
  for (int64_t it = 0; it < o.iterations; ++it) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int64_t i = 0; i < n; ++i) {
      const double* row = xv.data() + i * d;
      const double z = m.predict(row);
      double r, loss;
      if (o.logistic) {
        const double p = 1.0 / (1.0 + std::exp(-z));
        r = p - yv[i];
        // log(1 + e^z) - y z, computed without overflow
        loss = (z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z))) - yv[i] * z;
      } else {
        r = z - yv[i];
        loss = 0.5 * r * r;
      }
      for (int64_t j = 0; j < d; ++j)
        acc[j] += r * row[j];
      acc[d] += r;
      acc[d + 1] += loss;
    }
    acc[d + 2] = static_cast<double>(n);
    if (comm)
      comm->allreduce(acc.data(), static_cast<int64_t>(acc.size()), DType::f64, ReduceOp::sum);
    const double total = acc[d + 2];
    LOOM_CHECK(total > 0, "fit_linear_model: no rows on any rank");
    double reg = 0;
    for (int64_t j = 0; j < d; ++j)
      reg += m.weights[j] * m.weights[j];
    m.losses.push_back(acc[d + 1] / total + 0.5 * o.l2 * reg);
    for (int64_t j = 0; j < d; ++j)
      m.weights[j] -= o.lr * (acc[j] / total + o.l2 * m.weights[j]);
    m.bias -= o.lr * acc[d] / total;
  }
  return m;
}

}  // namespace loom::distributed
