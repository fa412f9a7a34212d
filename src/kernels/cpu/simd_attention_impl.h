#pragma once
// Fused attention over one (batch, head), written once over V (NOTE [ISA files] in
// simd_kernels.h; NOTE [Fused attention] in src/autograd/ops/attention.cpp).
//
// Queries go kAttentionRows at a time against tiles of kAttentionCols keys. The
// scores of a tile come from a small GEMM against k transposed once per head (so
// the inner loop is a broadcast of q times a row of k^T, no horizontal sums); the
// forward keeps a running max, sum and output per row (online softmax); the
// backward recomputes a tile's probabilities from the saved log-sum-exp. Memory:
// k^T (and v^T for the backward) of one head plus two tiles, linear in the keys.
#include "cpu/simd_impl.h"

namespace loom::kernels::cpu::simd {
namespace {

constexpr int64_t kRows = kAttentionRows;
constexpr int64_t kCols = kAttentionCols;
constexpr int64_t kColVecs = kCols / W;
static_assert(kCols % W == 0, "a key tile is whole vectors");

inline float neg_inf() { return -__builtin_inff(); }
inline float lane0(R v) {
  float lanes[W];
  V::store(lanes, v);
  return lanes[0];
}
inline float scalar_exp(float x) { return lane0(vexp(V::set1(x))); }
inline float scalar_log(float x) { return lane0(vlog(V::set1(x))); }
inline int64_t clamp_to(int64_t x, int64_t lo, int64_t hi) { return x < lo ? lo : (x > hi ? hi : x); }

inline void zero_rows(float* x, int64_t ld, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      x[r * ld + c] = 0;
}

// dst[c * sp + j] = src[j * ld + c] for j < s, zero for s <= j < sp.
inline void transpose_into(const float* src, int64_t ld, int64_t s, int64_t cols, float* dst, int64_t sp) {
  for (int64_t c = 0; c < cols; ++c) {
    float* d = dst + c * sp;
    for (int64_t j = 0; j < s; ++j)
      d[j] = src[j * ld + c];
    for (int64_t j = s; j < sp; ++j)
      d[j] = 0;
  }
}

// tile[r][c] = scale * sum_e a[r][e] * bt[e][j0 + c] for r < kRows (rows past nr
// repeat the last one) and the vectors of c < cols (the keys any row sees: a
// causal block skips the rest); a [nr, n] with rows ld apart, bt [n, sp].
inline void product_tile(const float* a, int64_t ld, int64_t nr, const float* bt, int64_t sp, int64_t j0, int64_t n,
                         float scale, float* tile, int64_t cols = kCols) {
  const int64_t nvec = (cols + W - 1) / W;
  R acc[kRows][kColVecs];
  for (int64_t r = 0; r < kRows; ++r)
    for (int64_t v = 0; v < kColVecs; ++v)
      acc[r][v] = V::zero();
  const float* rows[kRows];
  for (int64_t r = 0; r < kRows; ++r)
    rows[r] = a + (r < nr ? r : nr - 1) * ld;
  for (int64_t e = 0; e < n; ++e) {
    const float* b = bt + e * sp + j0;
    R bv[kColVecs];
    for (int64_t v = 0; v < kColVecs; ++v)
      bv[v] = v < nvec ? V::load(b + v * W) : V::zero();
    for (int64_t r = 0; r < kRows; ++r) {
      const R av = V::set1(rows[r][e]);
      for (int64_t v = 0; v < kColVecs; ++v)
        if (v < nvec)
          acc[r][v] = V::fmadd(av, bv[v], acc[r][v]);
    }
  }
  const R sv = V::set1(scale);
  for (int64_t r = 0; r < kRows; ++r)
    for (int64_t v = 0; v < kColVecs; ++v)
      V::store(tile + r * kCols + v * W, V::mul(acc[r][v], sv));
}

// Up to kChunk vectors of a row at e0, zero past `width` (a masked tail).
constexpr int64_t kChunk = 4;
inline R load_part(const float* row, int64_t e0, int64_t k, int64_t width) {
  const int64_t at = e0 + k * W;
  if (at + W <= width)
    return V::load(row + at);
  return at < width ? V::load_tail(row + at, width - at) : V::zero();
}
inline void store_part(float* row, int64_t e0, int64_t k, int64_t width, R v) {
  const int64_t at = e0 + k * W;
  if (at + W <= width)
    V::store(row + at, v);
  else if (at < width)
    V::store_tail(row + at, v, width - at);
}

// dst[r] = dst[r] * keep[r] + sum_{c < cols} coef[r][c] * src[c] for r < nr, rows
// of `width` floats; coef is a [kRows, kCols] tile. The sums stay in registers
// across the keys (kChunk vectors of each row at a time).
inline void gather_rows(const float* coef, int64_t cols, const float* src, int64_t src_ld, int64_t width, float* dst,
                        int64_t dst_ld, const float* keep, int64_t nr) {
  for (int64_t e0 = 0; e0 < width; e0 += kChunk * W) {
    R acc[kRows][kChunk];
    for (int64_t r = 0; r < kRows; ++r)
      for (int64_t k = 0; k < kChunk; ++k)
        acc[r][k] = V::zero();
    for (int64_t c = 0; c < cols; ++c) {
      const float* s = src + c * src_ld;
      R sv[kChunk];
      for (int64_t k = 0; k < kChunk; ++k)
        sv[k] = load_part(s, e0, k, width);
      for (int64_t r = 0; r < kRows; ++r) {
        const R a = V::set1(coef[r * kCols + c]);
        for (int64_t k = 0; k < kChunk; ++k)
          acc[r][k] = V::fmadd(a, sv[k], acc[r][k]);
      }
    }
    for (int64_t r = 0; r < nr; ++r) {
      float* d = dst + r * dst_ld;
      const R kv = V::set1(keep ? keep[r] : 1.0f);
      for (int64_t k = 0; k < kChunk; ++k)
        store_part(d, e0, k, width, V::fmadd(load_part(d, e0, k, width), kv, acc[r][k]));
    }
  }
}

// dst[c] += sum_{r < nr} coef[r][c] * rows[r] for c < cols (rows of `width` floats).
inline void scatter_rows(const float* coef, int64_t cols, const float* rows, int64_t rows_ld, int64_t nr, int64_t width,
                         float* dst, int64_t dst_ld) {
  for (int64_t e0 = 0; e0 < width; e0 += kChunk * W) {
    R q[kRows][kChunk];
    for (int64_t r = 0; r < kRows; ++r)
      for (int64_t k = 0; k < kChunk; ++k)
        q[r][k] = r < nr ? load_part(rows + r * rows_ld, e0, k, width) : V::zero();
    for (int64_t c = 0; c < cols; ++c) {
      float* d = dst + c * dst_ld;
      R acc[kChunk];
      for (int64_t k = 0; k < kChunk; ++k)
        acc[k] = load_part(d, e0, k, width);
      for (int64_t r = 0; r < nr; ++r) {
        const R a = V::set1(coef[r * kCols + c]);
        for (int64_t k = 0; k < kChunk; ++k)
          acc[k] = V::fmadd(a, q[r][k], acc[k]);
      }
      for (int64_t k = 0; k < kChunk; ++k)
        store_part(d, e0, k, width, acc[k]);
    }
  }
}

// The keys [0, end) that query row i sees.
inline int64_t visible_keys(const AttentionHead& a, int64_t i) {
  return a.causal ? clamp_to(i + (a.s - a.t) + 1, 0, a.s) : a.s;
}

// Adds the mask to the first n scores of query row i in the tile at key j0.
inline void add_mask(const AttentionHead& a, int64_t i, int64_t j0, int64_t n, float* row) {
  if (a.mask == nullptr)
    return;
  const float* m = a.mask + i * a.mask_ld + j0 * a.mask_col;
  if (a.mask_col == 1) {
    for (int64_t c = 0; c < n; ++c)
      row[c] += m[c];
  } else {
    for (int64_t c = 0; c < n; ++c)
      row[c] += m[c * a.mask_col];
  }
}

// row[c] = exp(row[c] - shift) for c < n and 0 for n <= c < kCols; returns the sum.
inline float exp_row(float* row, int64_t n, float shift) {
  const R sv = V::set1(shift);
  R sum = V::zero();
  for (int64_t v = 0; v < kColVecs; ++v) {
    const int64_t c = v * W;
    R p = V::zero();
    if (c + W <= n)
      p = vexp(V::sub(V::load(row + c), sv));
    else if (c < n)
      p = V::keep(V::tail_mask(n - c), vexp(V::sub(V::load(row + c), sv)));
    V::store(row + c, p);
    sum = V::add(sum, p);
  }
  return V::hsum(sum);
}

inline float row_max(const float* row, int64_t n) {
  R m = V::set1(neg_inf());
  int64_t c = 0;
  for (; c + W <= n; c += W)
    m = V::max(V::load(row + c), m);
  if (c < n)
    m = V::select(V::tail_mask(n - c), V::max(V::load(row + c), m), m);
  return V::hmax(m);
}

void attention_forward(const AttentionHead& a) {
  const int64_t sp = (a.s + kCols - 1) / kCols * kCols;
  float* kt = a.scratch;              // [d, sp]
  float* tile = kt + a.d * sp;        // [kRows, kCols]
  float* acc = tile + kRows * kCols;  // [kRows, dv]
  transpose_into(a.k, a.k_ld, a.s, a.d, kt, sp);
  for (int64_t i0 = 0; i0 < a.t; i0 += kRows) {
    const int64_t nr = a.t - i0 < kRows ? a.t - i0 : kRows;
    float m[kRows], l[kRows], correction[kRows];
    int64_t ends[kRows];
    int64_t end = 0;
    for (int64_t r = 0; r < nr; ++r) {
      m[r] = neg_inf();
      l[r] = 0;
      ends[r] = visible_keys(a, i0 + r);
      end = ends[r] > end ? ends[r] : end;
    }
    zero_rows(acc, a.dv, nr, a.dv);
    for (int64_t j0 = 0; j0 < end; j0 += kCols) {
      const int64_t tile_cols = clamp_to(end - j0, 0, kCols);
      product_tile(a.q + i0 * a.q_ld, a.q_ld, nr, kt, sp, j0, a.d, a.scale, tile, tile_cols);
      int64_t cols = 0;  // the keys of this tile any row sees
      for (int64_t r = 0; r < nr; ++r) {
        float* row = tile + r * kCols;
        const int64_t n = clamp_to(ends[r] - j0, 0, kCols);
        add_mask(a, i0 + r, j0, n, row);
        const float tile_max = n > 0 ? row_max(row, n) : neg_inf();
        const float mnew = tile_max > m[r] ? tile_max : m[r];
        if (mnew == neg_inf()) {  // nothing visible yet (or all masked with -inf)
          exp_row(row, 0, 0);
          correction[r] = 1;
          continue;
        }
        // The first tile a row sees has nothing to correct (and no exp to wait for).
        correction[r] = m[r] == neg_inf() ? 0.0f : (m[r] == mnew ? 1.0f : scalar_exp(m[r] - mnew));
        l[r] = l[r] * correction[r] + exp_row(row, n, mnew);
        m[r] = mnew;
        cols = n > cols ? n : cols;
      }
      // acc = acc * correction + p v over the tile's keys (rows past a row's
      // visible keys have p = 0).
      gather_rows(tile, cols, a.v + j0 * a.v_ld, a.v_ld, a.dv, acc, a.dv, correction, nr);
    }
    for (int64_t r = 0; r < nr; ++r) {
      float* o = a.out + (i0 + r) * a.out_ld;
      if (l[r] == 0) {
        for (int64_t e = 0; e < a.dv; ++e)
          o[e] = 0;
        a.lse[i0 + r] = neg_inf();
        continue;
      }
      const float inv = 1.0f / l[r];
      for (int64_t e = 0; e < a.dv; ++e)
        o[e] = acc[r * a.dv + e] * inv;
      a.lse[i0 + r] = m[r] + scalar_log(l[r]);
    }
  }
}

// With p = exp(score - lse) and D = dO . O per row: dV_j += p dO, dP = dO v_j^T,
// dS = p (dP - D) scale, dQ += dS k_j, dK_j += dS q.
void attention_backward(const AttentionHead& a) {
  const int64_t sp = (a.s + kCols - 1) / kCols * kCols;
  float* kt = a.scratch;          // [d, sp]
  float* vt = kt + a.d * sp;      // [dv, sp]
  float* ptile = vt + a.dv * sp;  // [kRows, kCols]
  float* dtile = ptile + kRows * kCols;
  transpose_into(a.k, a.k_ld, a.s, a.d, kt, sp);
  transpose_into(a.v, a.v_ld, a.s, a.dv, vt, sp);
  zero_rows(a.grad_k, a.grad_k_ld, a.s, a.d);
  zero_rows(a.grad_v, a.grad_v_ld, a.s, a.dv);
  for (int64_t i0 = 0; i0 < a.t; i0 += kRows) {
    const int64_t nr = a.t - i0 < kRows ? a.t - i0 : kRows;
    float di[kRows], lse[kRows];
    int64_t ends[kRows];
    int64_t end = 0;
    zero_rows(a.grad_q + i0 * a.grad_q_ld, a.grad_q_ld, nr, a.d);
    for (int64_t r = 0; r < nr; ++r) {
      const int64_t i = i0 + r;
      lse[r] = a.lse[i];
      ends[r] = lse[r] == neg_inf() ? 0 : visible_keys(a, i);
      end = ends[r] > end ? ends[r] : end;
      di[r] = vdot(a.grad_out + i * a.grad_out_ld, a.out + i * a.out_ld, a.dv);
    }
    for (int64_t j0 = 0; j0 < end; j0 += kCols) {
      const int64_t tile_cols = clamp_to(end - j0, 0, kCols);
      product_tile(a.q + i0 * a.q_ld, a.q_ld, nr, kt, sp, j0, a.d, a.scale, ptile, tile_cols);
      product_tile(a.grad_out + i0 * a.grad_out_ld, a.grad_out_ld, nr, vt, sp, j0, a.dv, 1.0f, dtile, tile_cols);
      int64_t cols = 0;
      for (int64_t r = 0; r < nr; ++r) {
        float* p = ptile + r * kCols;
        float* ds = dtile + r * kCols;
        const int64_t n = clamp_to(ends[r] - j0, 0, kCols);
        add_mask(a, i0 + r, j0, n, p);
        exp_row(p, n, lse[r]);  // zero past n
        const R dv = V::set1(di[r]), sc = V::set1(a.scale);
        for (int64_t v = 0; v < kColVecs; ++v)
          V::store(ds + v * W, V::mul(V::mul(V::load(p + v * W), V::sub(V::load(ds + v * W), dv)), sc));
        cols = n > cols ? n : cols;
      }
      gather_rows(dtile, cols, a.k + j0 * a.k_ld, a.k_ld, a.d, a.grad_q + i0 * a.grad_q_ld, a.grad_q_ld, nullptr, nr);
      scatter_rows(dtile, cols, a.q + i0 * a.q_ld, a.q_ld, nr, a.d, a.grad_k + j0 * a.grad_k_ld, a.grad_k_ld);
      scatter_rows(ptile, cols, a.grad_out + i0 * a.grad_out_ld, a.grad_out_ld, nr, a.dv, a.grad_v + j0 * a.grad_v_ld,
                   a.grad_v_ld);
    }
  }
}

}  // namespace
}  // namespace loom::kernels::cpu::simd
