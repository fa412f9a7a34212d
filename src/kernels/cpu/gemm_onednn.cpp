// f32 GEMM through oneDNN's sgemm, split over loom's pool.
//
// NOTE [oneDNN sgemm]
// oneDNN JIT-compiles its sgemm for the CPU it runs on (AVX-512 here), whatever
// OPENBLAS_CORETYPE says, and on the reference models' small, skinny shapes
// (batch 64 against 784x256, the im2col products) it measures 10-40% faster than
// OpenBLAS on one core (bench/kernels/bm_gemm.cpp). Threads: NOTE [GEMM panels].
// Against OpenBLAS's own AVX-512 kernels it loses on some panel shapes (dnnl_sgemm
// against cblas_sgemm, one core): 0.72-0.92x when k <= 32 (the logits' input
// gradient, 64x128x10), 0.79x on 64x64x256 with B transposed (the MLP's second
// layer, cut in two column panels), 0.84-0.93x on deep products of at most 64 rows
// with B transposed (the CNN's 3136-deep fc layer). onednn_declines_shape() sends those
// to OpenBLAS; under OPENBLAS_CORETYPE=Haswell OpenBLAS runs AVX2 kernels and
// oneDNN keeps them.
// OpenBLAS 0.3.21 does not know every CPU: on a Sapphire Rapids guest it picks its
// Prescott (SSE3) kernels, 2-5x slower than oneDNN on every shape here (256x128x10:
// 31 against 8 us; 256x784x256: 3.4 against 0.67 ms), so when its kernels are
// older than AVX2 oneDNN takes everything. Its AVX-512 kernels beat oneDNN on the
// skinny outputs only while the long side is short: 64x128x10 1.6 against 2.6 us,
// 96 rows 2.6 against 3.6, but 128 rows 9.9 against 6.8 and 256 rows 18 against 8.5
// (inference's logits, batch 256).
#include <oneapi/dnnl/dnnl.h>

#include <algorithm>

#include "cpu/gemm_panels.h"
#include "cpu/kernels_cpu.h"
#include "loom/core/error.h"

namespace loom::kernels::cpu {
namespace {

void sgemm_checked(const GemmArgs& g, int64_t m, int64_t n, const float* a, const float* b, float* c) {
  const dnnl_status_t status =
      dnnl_sgemm(g.trans_a ? 'T' : 'N', g.trans_b ? 'T' : 'N', m, n, g.k, static_cast<float>(g.alpha), a, g.lda, b,
                 g.ldb, static_cast<float>(g.beta), c, g.ldc);
  if (status != dnnl_success)
    LOOM_THROW(Error, "gemm: oneDNN sgemm failed with status ", static_cast<int>(status), " for [", m, " x ", g.k,
               "] x [", g.k, " x ", n, "]");
}

}  // namespace

std::string onednn_declines_shape(const GemmArgs& g) {
  const PanelSplit s = split_panels(g);
  const BlasVectors blas = openblas_vectors();
  if (blas == BlasVectors::older)
    return "";
  // Measured (bench/kernels/bm_gemm.cpp): OpenBLAS is faster when an output side
  // is shorter than 32 (the 10-class logits: 1.8 against 4.4 us), whatever its ISA,
  // unless its AVX-512 kernels meet a long other side.
  if (s.panel_m < 32 || s.panel_n < 32) {
    if (blas == BlasVectors::avx512 && std::max(s.panel_m, s.panel_n) > 96)
      return "";
    return "an output side shorter than 32 (OpenBLAS is faster there)";
  }
  if (blas != BlasVectors::avx512)
    return "";
  if (g.k <= 32 && s.panel_n <= 4096)
    return "a product 32 or less deep (OpenBLAS's AVX-512 kernels are faster)";
  const bool nt = !g.trans_a && g.trans_b;
  if (nt && s.panel_n <= 64)
    return "a panel of 64 or fewer columns with B transposed (OpenBLAS's AVX-512 kernels are faster)";
  if (nt && g.k > 1024 && s.panel_m <= 64)
    return "a deep product of at most 64 rows with B transposed (OpenBLAS's AVX-512 kernels are faster)";
  return "";
}

void gemm_onednn(const GemmArgs& g) {
  OmpThreads serial(1);
  for (int64_t i = 0; i < g.batch; ++i) {
    gemm_in_panels(
        g, static_cast<const float*>(g.a) + i * g.stride_a, static_cast<const float*>(g.b) + i * g.stride_b,
        static_cast<float*>(g.c) + i * g.stride_c,
        [&](int64_t m, int64_t n, const float* a, const float* b, float* c) { sgemm_checked(g, m, n, a, b, c); });
  }
}

}  // namespace loom::kernels::cpu
