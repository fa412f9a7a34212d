// The reference attention kernels: one query row at a time over a row of its
// scores (memory linear in the key count), plain loops, f32 and f64. The SIMD
// entries (simd_attention_impl.h) are checked against these.
#include <cmath>
#include <limits>
#include <vector>

#include "cpu/cpu_common.h"
#include "cpu/kernels_cpu.h"
#include "loom/runtime/parallel.h"

namespace loom::kernels::cpu {
namespace {

// Element (bi, hi, row) of a [b, h, rows, cols] tensor with a contiguous last axis.
template <typename T>
T* row_ptr(const Tensor& x, int64_t bi, int64_t hi, int64_t row) {
  const Shape& st = x.strides();
  return static_cast<T*>(x.raw_data()) + bi * st[0] + hi * st[1] + row * st[2];
}

// The keys query i may see: [0, limit).
int64_t key_limit(const AttentionShape& a, int64_t i) {
  return a.causal ? std::min<int64_t>(a.s, std::max<int64_t>(0, i + (a.s - a.t) + 1)) : a.s;
}

// score[j] = scale * q.k_j + mask[i, j] for j < limit.
template <typename T>
void scores_row(const AttentionShape& a, const Tensor& q, const Tensor& k, const Tensor& mask, int64_t bi, int64_t hi,
                int64_t i, int64_t limit, T* score) {
  const T* qi = row_ptr<const T>(q, bi, hi, i);
  const T scale = static_cast<T>(a.scale);
  for (int64_t j = 0; j < limit; ++j) {
    const T* kj = row_ptr<const T>(k, bi, hi, j);
    T dot = 0;
    for (int64_t c = 0; c < a.d; ++c)
      dot += qi[c] * kj[c];
    score[j] = dot * scale;
  }
  if (mask.defined()) {
    const Shape& ms = mask.strides();
    const T* m = static_cast<const T*>(mask.raw_data()) + bi * ms[0] + hi * ms[1] + i * ms[2];
    for (int64_t j = 0; j < limit; ++j)
      score[j] += m[j * ms[3]];
  }
}

template <typename T>
void forward(const AttentionShape& a, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
             const Tensor& out, const Tensor& lse) {
  runtime::parallel_for(0, a.b * a.h, 1, [&](int64_t lo, int64_t hi_end) {
    std::vector<T> score(static_cast<size_t>(a.s));
    for (int64_t bh = lo; bh < hi_end; ++bh) {
      const int64_t bi = bh / a.h, hi = bh % a.h;
      for (int64_t i = 0; i < a.t; ++i) {
        const int64_t limit = key_limit(a, i);
        T* o = row_ptr<T>(out, bi, hi, i);
        T* l = static_cast<T*>(lse.raw_data()) + bh * a.t + i;
        scores_row<T>(a, q, k, mask, bi, hi, i, limit, score.data());
        T m = -std::numeric_limits<T>::infinity();
        for (int64_t j = 0; j < limit; ++j)
          m = std::max(m, score[j]);
        for (int64_t c = 0; c < a.dv; ++c)
          o[c] = 0;
        if (m == -std::numeric_limits<T>::infinity()) {  // no key visible
          *l = m;
          continue;
        }
        T sum = 0;
        for (int64_t j = 0; j < limit; ++j) {
          const T p = std::exp(score[j] - m);
          sum += p;
          const T* vj = row_ptr<const T>(v, bi, hi, j);
          for (int64_t c = 0; c < a.dv; ++c)
            o[c] += p * vj[c];
        }
        for (int64_t c = 0; c < a.dv; ++c)
          o[c] /= sum;
        *l = m + std::log(sum);
      }
    }
  });
}

// With p = exp(score - lse) and D_i = dO_i . O_i:
//   dV_j += p dO_i,  dS = p (dO_i . v_j - D_i),  dQ_i += scale dS k_j,  dK_j += scale dS q_i.
// Each (batch, head) is one task, so the sums run in one fixed order.
template <typename T>
void backward(const AttentionShape& a, const AttentionGrads& g) {
  runtime::parallel_for(0, a.b * a.h, 1, [&](int64_t lo, int64_t hi_end) {
    std::vector<T> score(static_cast<size_t>(a.s));
    const T scale = static_cast<T>(a.scale);
    for (int64_t bh = lo; bh < hi_end; ++bh) {
      const int64_t bi = bh / a.h, hi = bh % a.h;
      for (int64_t j = 0; j < a.s; ++j) {
        T* gk = row_ptr<T>(g.grad_k, bi, hi, j);
        T* gv = row_ptr<T>(g.grad_v, bi, hi, j);
        for (int64_t c = 0; c < a.d; ++c)
          gk[c] = 0;
        for (int64_t c = 0; c < a.dv; ++c)
          gv[c] = 0;
      }
      for (int64_t i = 0; i < a.t; ++i) {
        const int64_t limit = key_limit(a, i);
        const T lse = static_cast<const T*>(g.lse.raw_data())[bh * a.t + i];
        const T* go = row_ptr<const T>(g.grad_out, bi, hi, i);
        const T* o = row_ptr<const T>(g.out, bi, hi, i);
        const T* qi = row_ptr<const T>(g.q, bi, hi, i);
        T* gq = row_ptr<T>(g.grad_q, bi, hi, i);
        for (int64_t c = 0; c < a.d; ++c)
          gq[c] = 0;
        if (lse == -std::numeric_limits<T>::infinity())
          continue;
        T di = 0;
        for (int64_t c = 0; c < a.dv; ++c)
          di += go[c] * o[c];
        scores_row<T>(a, g.q, g.k, g.mask, bi, hi, i, limit, score.data());
        for (int64_t j = 0; j < limit; ++j) {
          const T p = std::exp(score[j] - lse);
          const T* vj = row_ptr<const T>(g.v, bi, hi, j);
          const T* kj = row_ptr<const T>(g.k, bi, hi, j);
          T* gv = row_ptr<T>(g.grad_v, bi, hi, j);
          T* gk = row_ptr<T>(g.grad_k, bi, hi, j);
          T dp = 0;
          for (int64_t c = 0; c < a.dv; ++c) {
            gv[c] += p * go[c];
            dp += go[c] * vj[c];
          }
          const T ds = p * (dp - di) * scale;
          for (int64_t c = 0; c < a.d; ++c) {
            gq[c] += ds * kj[c];
            gk[c] += ds * qi[c];
          }
        }
      }
    }
  });
}

}  // namespace

void attention_forward_reference(const AttentionShape& a, const Tensor& q, const Tensor& k, const Tensor& v,
                                 const Tensor& mask, const Tensor& out, const Tensor& lse) {
  dispatch_float(q.dtype(), [&]<typename T>() { forward<T>(a, q, k, v, mask, out, lse); });
}

void attention_backward_reference(const AttentionShape& a, const AttentionGrads& g) {
  dispatch_float(g.q.dtype(), [&]<typename T>() { backward<T>(a, g); });
}

}  // namespace loom::kernels::cpu
