#pragma once
// 2x2 max pooling at stride 2, written once over V (NOTE [ISA files] in
// simd_kernels.h). Each output row takes W outputs a step from 2W floats of its two
// input rows, split into even and odd columns; the selects are the reference's
// (ties go to the earlier element, a NaN candidate loses), so values and indices
// are the reference's bit for bit.
#include "cpu/simd_impl.h"

namespace loom::kernels::cpu::simd {
namespace {

inline int64_t smaller(int64_t a, int64_t b) { return a < b ? a : b; }  // not std::min (NOTE [ISA files])

// The 2W floats of one input row under n outputs (n <= W) as (a, b).
inline void load_pairs(const float* row, int64_t n, R& a, R& b) {
  if (n == W) {
    a = V::load(row);
    b = V::load(row + W);
    return;
  }
  a = V::load_tail(row, smaller(W, 2 * n));
  b = 2 * n > W ? V::load_tail(row + W, 2 * n - W) : V::zero();
}

void max_pool_2x2(const float* x, float* y, int32_t* argmax, int64_t planes, int64_t h, int64_t w, int64_t oh,
                  int64_t ow) {
  const R one = V::set1(1.0f), below = V::set1(static_cast<float>(w));
  const R two_lanes = V::add(V::iota(), V::iota());
  for (int64_t p = 0; p < planes; ++p) {
    for (int64_t oy = 0; oy < oh; ++oy) {
      const float* r0 = x + p * h * w + 2 * oy * w;
      const float* r1 = r0 + w;
      const int64_t out_at = p * oh * ow + oy * ow;
      for (int64_t ox = 0; ox < ow; ox += W) {
        const int64_t n = smaller(W, ow - ox);
        R a, b, top_left, top_right, bottom_left, bottom_right;
        load_pairs(r0 + 2 * ox, n, a, b);
        V::deinterleave(a, b, top_left, top_right);
        load_pairs(r1 + 2 * ox, n, a, b);
        V::deinterleave(a, b, bottom_left, bottom_right);
        const M right_top = V::gt(top_right, top_left), right_bottom = V::gt(bottom_right, bottom_left);
        const R top = V::select(right_top, top_right, top_left);
        const R bottom = V::select(right_bottom, bottom_right, bottom_left);
        const M use_bottom = V::gt(bottom, top);
        const R best = V::select(use_bottom, bottom, top);
        if (n == W)
          V::store(y + out_at + ox, best);
        else
          V::store_tail(y + out_at + ox, best, n);
        if (!argmax)
          continue;
        // Flat index 2*oy*w + 2*ox + (bottom ? w + right_bottom : right_top), exact in
        // floats because the caller keeps h*w below 2^24.
        const R offset = V::select(use_bottom, V::add(below, V::keep(right_bottom, one)), V::keep(right_top, one));
        const R index = V::add(V::set1(static_cast<float>(2 * oy * w + 2 * ox)), V::add(two_lanes, offset));
        if (n == W)
          V::store_i32(argmax + out_at + ox, index);
        else
          V::store_i32_tail(argmax + out_at + ox, index, n);
      }
    }
  }
}

}  // namespace
}  // namespace loom::kernels::cpu::simd
