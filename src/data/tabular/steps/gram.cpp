#include "data/tabular/steps/gram.h"

#include <algorithm>

#include "data/tabular/steps/columns.h"
#include "loom/kernels/gemm.h"

namespace loom::data::detail {
namespace {

constexpr int64_t kGemmRows = 16384;  // NOTE [Row blocks for GEMM]

// Copies rows [r0, r0 + m) of the columns, centred, into buf as [d, m].
void fill_block(const Table& table, const std::vector<int64_t>& cols, const std::vector<double>& mean, int64_t r0,
                int64_t m, double* buf) {
  parallel_each(static_cast<int64_t>(cols.size()), [&](int64_t c) {
    const double* x = table.column(cols[static_cast<size_t>(c)]).values.data() + r0;
    const double mu = mean[static_cast<size_t>(c)];
    double* dst = buf + c * m;
    for (int64_t r = 0; r < m; ++r)
      dst[r] = x[r] - mu;
  });
}

void gemm(bool trans_b, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b, int64_t ldb,
          double beta, double* c, int64_t ldc) {
  kernels::GemmArgs g;
  g.set_dtypes(DType::f64);
  g.trans_b = trans_b;
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = a;
  g.lda = lda;
  g.b = b;
  g.ldb = ldb;
  g.beta = beta;
  g.c = c;
  g.ldc = ldc;
  kernels::gemm_kernels()(g);
}

}  // namespace

std::vector<double> centered_gram(const Table& table, const std::vector<int64_t>& cols,
                                  const std::vector<double>& mean) {
  const int64_t d = static_cast<int64_t>(cols.size()), n = table.rows();
  std::vector<double> gram(static_cast<size_t>(d * d), 0.0);
  if (d == 0 || n == 0)
    return gram;
  std::vector<double> buf(static_cast<size_t>(d * std::min(n, kGemmRows)));
  for (int64_t r0 = 0; r0 < n; r0 += kGemmRows) {
    const int64_t m = std::min(kGemmRows, n - r0);
    fill_block(table, cols, mean, r0, m, buf.data());
    gemm(true, d, d, m, buf.data(), m, buf.data(), m, r0 == 0 ? 0.0 : 1.0, gram.data(), d);
  }
  // GEMM does not promise a bitwise-symmetric result; mirror the upper triangle.
  for (int64_t i = 0; i < d; ++i) {
    for (int64_t j = 0; j < i; ++j)
      gram[static_cast<size_t>(i * d + j)] = gram[static_cast<size_t>(j * d + i)];
  }
  return gram;
}

void project(const Table& table, const std::vector<int64_t>& cols, const std::vector<double>& mean,
             const std::vector<double>& weights, std::vector<Column>& out) {
  const int64_t d = static_cast<int64_t>(cols.size()), n = table.rows(), k = static_cast<int64_t>(out.size());
  if (k == 0 || n == 0)
    return;
  const int64_t block = std::min(n, kGemmRows);
  std::vector<double> buf(static_cast<size_t>(d * block)), res(static_cast<size_t>(k * block));
  for (int64_t r0 = 0; r0 < n; r0 += kGemmRows) {
    const int64_t m = std::min(kGemmRows, n - r0);
    fill_block(table, cols, mean, r0, m, buf.data());
    gemm(false, k, m, d, weights.data(), d, buf.data(), m, 0.0, res.data(), m);
    parallel_each(
        k, [&](int64_t j) { std::copy_n(res.data() + j * m, m, out[static_cast<size_t>(j)].values.data() + r0); });
  }
}

}  // namespace loom::data::detail
