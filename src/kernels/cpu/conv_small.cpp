// The "direct_small_c" convolution forward entry: stride 1, fewer than 8 input channels.
//
// NOTE [Direct small-channel convolution]
// A network's first layer has one to three input channels, so im2col + GEMM
// multiplies a [oc, c*kh*kw] matrix with c*kh*kw = 9 for a 3x3 grey image: a GEMM
// that short never reaches its peak, and im2col copies the image nine times first.
// Here each image is copied once into a zero-padded buffer and every output vector
// is c*kh*kw FMAs over shifted loads of it, four output channels per load
// (simd_conv_impl.h). bm_conv: the reference CNN's first layer in 0.44 ms against
// im2col_split's 0.65 (batch 64, 1 thread), close to the time it takes to write
// the 6.4 MB output. The batch is split over the threads as the other entries
// split it. A direct weight gradient (one dot product per weight over the image)
// measured slower than im2col_split's (1.01 against 1.15 ms on 1 thread, 0.82
// against 0.61 on 2) and was dropped: that pass stays on im2col + GEMM.
#include <cstring>
#include <string>
#include <vector>

#include "cpu/conv_kernels.h"
#include "cpu/simd_kernels.h"

namespace loom::kernels::cpu {
namespace {

const simd::Table* active_table() {
  switch (simd::active_isa()) {
    case simd::Isa::avx512:
      return &simd::avx512_table();
    case simd::Isa::avx2:
      return &simd::avx2_table();
    case simd::Isa::reference:
      break;
  }
  return nullptr;
}

// Image n's input, zero-padded, into buf (c planes of (h + 2 ph) x (w + 2 pw)).
void pad_image(const Window2d& g, const float* x, std::vector<float>& buf) {
  const int64_t rows = g.h + 2 * g.ph, row = g.w + 2 * g.pw;
  buf.assign(static_cast<size_t>(g.c * rows * row), 0.0f);
  for (int64_t c = 0; c < g.c; ++c)
    for (int64_t y = 0; y < g.h; ++y)
      std::memcpy(buf.data() + (c * rows + y + g.ph) * row + g.pw, x + (c * g.h + y) * g.w,
                  sizeof(float) * static_cast<size_t>(g.w));
}

std::string declines_small(const Window2d& g, std::initializer_list<const Tensor*> tensors) {
  if (!active_table())
    return "no AVX2 or AVX-512 on this CPU (or LOOM_ISA=reference)";
  for (const Tensor* t : tensors) {
    if (!t->defined())
      continue;
    if (!t->device().is_cpu())
      return "tensor is on " + t->device().str();
    if (t->dtype() != DType::f32)
      return std::string("dtype ") + dtype_name(t->dtype()) + " (this entry is f32 only)";
    if (!t->is_contiguous())
      return "non-contiguous";
  }
  if (g.sh != 1 || g.sw != 1)
    return "stride is not 1";
  if (g.c >= 8)
    return "8 or more input channels (" + std::to_string(g.c) + "): oneDNN's kernels are faster there";
  if (g.n * g.c * g.h * g.w == 0 || g.oc == 0)
    return "empty tensor";
  return "";
}

}  // namespace

std::string conv2d_forward_small_declines(const Window2d& g, const Tensor& x, const Tensor& w, const Tensor& b,
                                          const Tensor& y) {
  return declines_small(g, {&x, &w, &b, &y});
}

void conv2d_forward_small(const Window2d& g, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y) {
  const simd::Table& t = *active_table();
  const float* src = static_cast<const float*>(x.raw_data());
  const float* wt = static_cast<const float*>(w.raw_data());
  const float* bias = b.defined() ? static_cast<const float*>(b.raw_data()) : nullptr;
  float* dst = static_cast<float*>(y.raw_data());
  for_each_batch_slice(g.n, batch_parts(g.n), [&](int64_t, int64_t lo, int64_t hi) {
    std::vector<float> padded;
    for (int64_t n = lo; n < hi; ++n) {
      pad_image(g, src + n * g.c * g.h * g.w, padded);
      t.conv_small_forward(padded.data(), g.c, g.h + 2 * g.ph, g.w + 2 * g.pw, wt, bias, dst + n * g.oc * g.oh * g.ow,
                           g.oc, g.oh, g.ow, g.kh, g.kw);
    }
  });
}

}  // namespace loom::kernels::cpu
