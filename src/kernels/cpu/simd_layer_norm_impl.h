#pragma once
// Layer normalisation rows, written once over V (NOTE [ISA files] in
// simd_kernels.h; NOTE [Fused layer norm] in src/autograd/ops/normalization.cpp).
// The sums run in one fixed order per row, so the bits repeat.
#include "cpu/simd_impl.h"

namespace loom::kernels::cpu::simd {
namespace {

inline R load_n(const float* p, int64_t i, int64_t n) {
  return i + W <= n ? V::load(p + i) : V::load_tail(p + i, n - i);
}
inline void store_n(float* p, int64_t i, int64_t n, R v) {
  if (i + W <= n)
    V::store(p + i, v);
  else
    V::store_tail(p + i, v, n - i);
}

void layer_norm_rows(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                     int64_t rows, int64_t n, float eps) {
  const float inv_n = 1.0f / static_cast<float>(n);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    R acc = V::zero();
    for (int64_t i = 0; i < n; i += W)
      acc = V::add(acc, load_n(xr, i, n));
    const float mu = V::hsum(acc) * inv_n;
    const R muv = V::set1(mu);
    R sq = V::zero();
    for (int64_t i = 0; i < n; i += W) {
      // Lanes past n load as 0 and must not count: keep only the row's lanes.
      const R c = i + W <= n ? V::sub(V::load(xr + i), muv)
                             : V::keep(V::tail_mask(n - i), V::sub(V::load_tail(xr + i, n - i), muv));
      sq = V::fmadd(c, c, sq);
    }
    float lanes[W];
    V::store(lanes, V::div(V::set1(1.0f), V::sqrt(V::set1(V::hsum(sq) * inv_n + eps))));
    const float rs = lanes[0];
    mean[r] = mu;
    rstd[r] = rs;
    const R rsv = V::set1(rs);
    for (int64_t i = 0; i < n; i += W) {
      R v = V::mul(V::sub(load_n(xr, i, n), muv), rsv);
      if (gamma)
        v = V::mul(v, load_n(gamma, i, n));
      if (beta)
        v = V::add(v, load_n(beta, i, n));
      store_n(yr, i, n, v);
    }
  }
}

// dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) with dxhat = dy gamma;
// pg += dy xhat and pb += dy over the rows (null: not wanted).
void layer_norm_backward_rows(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                              float* dx, float* pg, float* pb, int64_t rows, int64_t n) {
  const float inv_n = 1.0f / static_cast<float>(n);
  for (int64_t r = 0; r < rows; ++r) {
    const float *xr = x + r * n, *dyr = dy + r * n;
    const R muv = V::set1(mean[r]), rsv = V::set1(rstd[r]);
    R sd = V::zero(), sdx = V::zero();
    for (int64_t i = 0; i < n; i += W) {
      const R g = load_n(dyr, i, n);
      const R xhat = V::mul(V::sub(load_n(xr, i, n), muv), rsv);
      const R d = gamma ? V::mul(g, load_n(gamma, i, n)) : g;
      const R dm = i + W <= n ? d : V::keep(V::tail_mask(n - i), d);
      const R xm = i + W <= n ? xhat : V::keep(V::tail_mask(n - i), xhat);
      sd = V::add(sd, dm);
      sdx = V::fmadd(dm, xm, sdx);
      if (pg) {
        store_n(pg, i, n, V::fmadd(g, xhat, load_n(pg, i, n)));
        store_n(pb, i, n, V::add(g, load_n(pb, i, n)));
      }
    }
    const R md = V::set1(V::hsum(sd) * inv_n), mdx = V::set1(V::hsum(sdx) * inv_n);
    float* dxr = dx + r * n;
    for (int64_t i = 0; i < n; i += W) {
      const R g = load_n(dyr, i, n);
      const R xhat = V::mul(V::sub(load_n(xr, i, n), muv), rsv);
      const R d = gamma ? V::mul(g, load_n(gamma, i, n)) : g;
      store_n(dxr, i, n, V::mul(rsv, V::sub(V::sub(d, md), V::mul(xhat, mdx))));
    }
  }
}

}  // namespace
}  // namespace loom::kernels::cpu::simd
