#pragma once
// Direct stride-1 convolution forward for layers with few input channels (a network's
// first layer), written once over the vector type V like simd_impl.h and included after it
// by each ISA file (NOTE [ISA files]). NOTE [Direct small-channel convolution] in
// conv_small.cpp says why and when.
//
// It works on one image whose input has been copied, zero-padded, into xp: c planes
// of `rows` x `row` floats (row = w + 2 * pad_w), so no window ever reads outside it.
#include <cstdint>

#include "cpu/simd_impl.h"  // V's aliases R and W

namespace loom::kernels::cpu::simd {
namespace {

// y[o][oy][ox] = bias[o] + sum over (ci, i, j) of w[o][ci][i][j] * xp[ci][oy + i][ox + j],
// four output channels at a time so every input load feeds four FMAs.
void conv_small_forward(const float* xp, int64_t c, int64_t rows, int64_t row, const float* w, const float* bias,
                        float* y, int64_t oc, int64_t oh, int64_t ow, int64_t kh, int64_t kw) {
  const int64_t plane = rows * row, taps = c * kh * kw, out_plane = oh * ow;
  int64_t o = 0;
  for (; o + 4 <= oc; o += 4) {
    const float* w0 = w + o * taps;
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ox += W) {
        const int64_t lanes = ow - ox < W ? ow - ox : W;
        R acc[4];
        for (int k = 0; k < 4; ++k)
          acc[k] = V::set1(bias ? bias[o + k] : 0.0f);
        for (int64_t ci = 0; ci < c; ++ci)
          for (int64_t i = 0; i < kh; ++i) {
            const float* src = xp + ci * plane + (oy + i) * row + ox;
            const float* wt = w0 + (ci * kh + i) * kw;
            for (int64_t j = 0; j < kw; ++j) {
              const R x = lanes == W ? V::load(src + j) : V::load_tail(src + j, lanes);
              for (int k = 0; k < 4; ++k)
                acc[k] = V::fmadd(x, V::set1(wt[k * taps + j]), acc[k]);
            }
          }
        for (int k = 0; k < 4; ++k) {
          float* dst = y + (o + k) * out_plane + oy * ow + ox;
          if (lanes == W)
            V::store(dst, acc[k]);
          else
            V::store_tail(dst, acc[k], lanes);
        }
      }
  }
  for (; o < oc; ++o) {
    const float* wo = w + o * taps;
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ox += W) {
        const int64_t lanes = ow - ox < W ? ow - ox : W;
        R acc = V::set1(bias ? bias[o] : 0.0f);
        for (int64_t ci = 0; ci < c; ++ci)
          for (int64_t i = 0; i < kh; ++i) {
            const float* src = xp + ci * plane + (oy + i) * row + ox;
            for (int64_t j = 0; j < kw; ++j) {
              const R x = lanes == W ? V::load(src + j) : V::load_tail(src + j, lanes);
              acc = V::fmadd(x, V::set1(wo[(ci * kh + i) * kw + j]), acc);
            }
          }
        float* dst = y + o * out_plane + oy * ow + ox;
        if (lanes == W)
          V::store(dst, acc);
        else
          V::store_tail(dst, acc, lanes);
      }
  }
}

}  // namespace
}  // namespace loom::kernels::cpu::simd
