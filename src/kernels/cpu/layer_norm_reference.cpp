// Layer normalisation over the last axis of [rows, n], forward and backward, f32
// and f64. Rows go in blocks of kBlock: each block's share of dgamma and dbeta is
// summed apart and the blocks are added in order, so the result has the same bits
// for every thread count.
#include <cmath>
#include <vector>

#include "cpu/cpu_common.h"
#include "cpu/kernels_cpu.h"
#include "loom/runtime/parallel.h"

namespace loom::kernels::cpu {
namespace {

constexpr int64_t kBlock = 32;

template <typename T>
const T* cdata(const Tensor& t) {
  return t.defined() ? static_cast<const T*>(t.raw_data()) : nullptr;
}
template <typename T>
T* mdata(const Tensor& t) {
  return t.defined() ? static_cast<T*>(t.raw_data()) : nullptr;
}

template <typename T>
void forward(const Tensor& xt, const Tensor& gt, const Tensor& bt, const Tensor& yt, const Tensor& mt, const Tensor& rt,
             double eps) {
  const int64_t n = xt.size(-1), rows = xt.numel() / std::max<int64_t>(n, 1);
  const T *x = cdata<T>(xt), *gamma = cdata<T>(gt), *beta = cdata<T>(bt);
  T *y = mdata<T>(yt), *mean = mdata<T>(mt), *rstd = mdata<T>(rt);
  runtime::parallel_for(0, rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(n, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const T* xr = x + r * n;
      T* yr = y + r * n;
      T sum = 0;
      for (int64_t j = 0; j < n; ++j)
        sum += xr[j];
      const T mu = sum / static_cast<T>(n);
      T sq = 0;
      for (int64_t j = 0; j < n; ++j)
        sq += (xr[j] - mu) * (xr[j] - mu);
      const T rs = T(1) / std::sqrt(sq / static_cast<T>(n) + static_cast<T>(eps));
      mean[r] = mu;
      rstd[r] = rs;
      for (int64_t j = 0; j < n; ++j) {
        T v = (xr[j] - mu) * rs;
        if (gamma)
          v *= gamma[j];
        if (beta)
          v += beta[j];
        yr[j] = v;
      }
    }
  });
}

// xhat = (x - mean) rstd, dxhat = dy gamma:
//   dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), dgamma = sum dy xhat, dbeta = sum dy.
template <typename T>
void backward(const LayerNormGrads& g) {
  const int64_t n = g.x.size(-1), rows = g.x.numel() / std::max<int64_t>(n, 1);
  const T *x = cdata<T>(g.x), *dy = cdata<T>(g.dy), *gamma = cdata<T>(g.gamma);
  const T *mean = cdata<T>(g.mean), *rstd = cdata<T>(g.rstd);
  T *dx = mdata<T>(g.dx), *dgamma = mdata<T>(g.dgamma), *dbeta = mdata<T>(g.dbeta);
  const int64_t blocks = (rows + kBlock - 1) / kBlock;
  const bool sums = dgamma || dbeta;
  std::vector<T> partial(sums ? static_cast<size_t>(blocks * 2 * n) : 0, T(0));
  runtime::parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
    std::vector<T> dxhat(static_cast<size_t>(n));
    for (int64_t b = b0; b < b1; ++b) {
      T* pg = sums ? partial.data() + b * 2 * n : nullptr;
      T* pb = sums ? pg + n : nullptr;
      for (int64_t r = b * kBlock; r < std::min(rows, (b + 1) * kBlock); ++r) {
        const T *xr = x + r * n, *dyr = dy + r * n;
        const T mu = mean[r], rs = rstd[r];
        T sum_d = 0, sum_dx = 0;
        for (int64_t j = 0; j < n; ++j) {
          const T xhat = (xr[j] - mu) * rs;
          const T d = gamma ? dyr[j] * gamma[j] : dyr[j];
          dxhat[j] = d;
          sum_d += d;
          sum_dx += d * xhat;
          if (pg) {
            pg[j] += dyr[j] * xhat;
            pb[j] += dyr[j];
          }
        }
        const T inv_n = T(1) / static_cast<T>(n);
        const T md = sum_d * inv_n, mdx = sum_dx * inv_n;
        T* dxr = dx + r * n;
        for (int64_t j = 0; j < n; ++j)
          dxr[j] = rs * (dxhat[j] - md - (xr[j] - mu) * rs * mdx);
      }
    }
  });
  if (!sums)
    return;
  sum_row_blocks(partial.data(), blocks, n, dgamma, dbeta);
}

}  // namespace

void layer_norm_forward_reference(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& y,
                                  const Tensor& mean, const Tensor& rstd, double eps) {
  dispatch_float(x.dtype(), [&]<typename T>() { forward<T>(x, gamma, beta, y, mean, rstd, eps); });
}

void layer_norm_backward_reference(const LayerNormGrads& g) {
  dispatch_float(g.x.dtype(), [&]<typename T>() { backward<T>(g); });
}

}  // namespace loom::kernels::cpu
