// f32 GEMM through oneDNN's sgemm, split over loom's pool.
//
// NOTE [oneDNN sgemm]
// oneDNN JIT-compiles its sgemm for the CPU it runs on (AVX-512 here), whatever
// OPENBLAS_CORETYPE says, and on the reference models' small, skinny shapes
// (batch 64 against 784x256, the im2col products) it measures 10-40% faster than
// OpenBLAS on one core (bench/kernels/bm_gemm.cpp). Threads: NOTE [GEMM panels].
#include <oneapi/dnnl/dnnl.h>

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
