#pragma once
// The Adam / AdamW element update, shared by the optimizer (loom/optim/adam.h) and the
// SIMD kernels, so every ISA computes the same operations in the same order.
#include <cmath>
#include <cstdint>

namespace loom::kernels {

struct AdamStep {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double l2 = 0;            // added to the gradient times the parameter (Adam's weight decay)
  double shrink = 1;        // multiplies the parameter first (AdamW's decoupled decay)
  double step_size = 0;     // lr / (1 - beta1^t)
  double inv_bc2_sqrt = 1;  // 1 / sqrt(1 - beta2^t)
};

// Values [begin, end): m = b1 m + (1 - b1) g', v = b2 v + (1 - b2) g'^2 with
// g' = g + l2 p, then p = shrink p - step_size m / (sqrt(v) inv_bc2_sqrt + eps).
// Decay that is off is skipped, not multiplied by 0, so an inf parameter stays inf.
template <typename T>
void adam_update_scalar(T* p, const T* g, T* m, T* v, int64_t begin, int64_t end, const AdamStep& c) {
  const T b1 = static_cast<T>(c.beta1), b2 = static_cast<T>(c.beta2);
  const T one_b1 = static_cast<T>(1.0 - c.beta1), one_b2 = static_cast<T>(1.0 - c.beta2);
  const T l2 = static_cast<T>(c.l2), shrink = static_cast<T>(c.shrink), eps = static_cast<T>(c.eps);
  const T step_size = static_cast<T>(c.step_size), inv_bc2_sqrt = static_cast<T>(c.inv_bc2_sqrt);
  const bool decay = c.l2 != 0, decoupled = c.shrink != 1.0;
  for (int64_t i = begin; i < end; ++i) {
    const T gi = decay ? g[i] + l2 * p[i] : g[i];
    const T mi = b1 * m[i] + one_b1 * gi;
    const T vi = b2 * v[i] + one_b2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const T pi = decoupled ? p[i] * shrink : p[i];
    p[i] = pi - step_size * mi / (std::sqrt(vi) * inv_bc2_sqrt + eps);
  }
}

// adam_update_scalar<float> over [0, n) on the calling thread, with the widest SIMD
// this CPU has (LOOM_ISA lowers it); the same bits in every ISA. Adam's square root
// and division made the baseline-x86-64 loop 1.6x slower than AVX2 on this update.
void adam_update_f32(float* p, const float* g, float* m, float* v, int64_t n, const AdamStep& c);

}  // namespace loom::kernels
