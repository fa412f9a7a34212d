// f32 GEMM through oneDNN's sgemm, split over loom's pool.
//
// NOTE [oneDNN sgemm]
// oneDNN JIT-compiles its sgemm for the CPU it runs on (AVX-512 here), whatever
// OPENBLAS_CORETYPE says, and on the reference models' small, skinny shapes
// (batch 64 against 784x256, the im2col products) it measures 15-50% faster than
// OpenBLAS on one core (bench/kernels/bm_gemm.cpp). Threads: loom's pool splits C
// into column (or row) panels, one per thread, and each panel is a one-thread
// sgemm (NOTE [oneDNN on loom threads]). Every element of C is computed by one
// call over the whole K, so the split never changes the result.
#include <oneapi/dnnl/dnnl.h>

#include <algorithm>

#include "cpu/kernels_cpu.h"
#include "cpu/omp_threads.h"
#include "loom/core/error.h"
#include "loom/runtime/parallel.h"

namespace loom::kernels::cpu {
namespace {

// Below this many multiply-adds a GEMM is not worth waking a second thread.
constexpr int64_t kMinMacsPerThread = int64_t{1} << 17;
// Panels are whole multiples of 16 columns (one AVX-512 register of floats).
constexpr int64_t kPanelAlign = 16;

void sgemm_checked(const GemmArgs& g, int64_t m, int64_t n, const float* a, const float* b, float* c) {
  const dnnl_status_t status =
      dnnl_sgemm(g.trans_a ? 'T' : 'N', g.trans_b ? 'T' : 'N', m, n, g.k, static_cast<float>(g.alpha), a, g.lda, b,
                 g.ldb, static_cast<float>(g.beta), c, g.ldc);
  if (status != dnnl_success)
    LOOM_THROW(Error, "gemm: oneDNN sgemm failed with status ", static_cast<int>(status), " for [", m, " x ", g.k,
               "] x [", g.k, " x ", n, "]");
}

// C = op(A) op(B) for one matrix of the batch, split into panels over the pool.
void sgemm_split(const GemmArgs& g, const float* a, const float* b, float* c) {
  const int64_t macs = g.m * g.n * g.k;
  const bool by_columns = g.n >= g.m;
  const int64_t extent = by_columns ? g.n : g.m;
  int64_t parts = std::min<int64_t>(runtime::num_threads(), std::max<int64_t>(1, macs / kMinMacsPerThread));
  parts = std::min(parts, std::max<int64_t>(1, extent / kPanelAlign));
  if (parts <= 1 || runtime::in_parallel_region()) {
    sgemm_checked(g, g.m, g.n, a, b, c);
    return;
  }
  const int64_t panel = (extent + parts - 1) / parts;
  const int64_t aligned = (panel + kPanelAlign - 1) / kPanelAlign * kPanelAlign;
  const int64_t pieces = (extent + aligned - 1) / aligned;
  runtime::parallel_for(0, pieces, 1, [&](int64_t lo, int64_t hi) {
    OmpThreads serial(1);
    for (int64_t p = lo; p < hi; ++p) {
      const int64_t begin = p * aligned, len = std::min(aligned, extent - begin);
      if (by_columns) {  // columns [begin, begin + len) of op(B) and C
        const float* bp = g.trans_b ? b + begin * g.ldb : b + begin;
        sgemm_checked(g, g.m, len, a, bp, c + begin);
      } else {  // rows [begin, begin + len) of op(A) and C
        const float* ap = g.trans_a ? a + begin : a + begin * g.lda;
        sgemm_checked(g, len, g.n, ap, b, c + begin * g.ldc);
      }
    }
  });
}

}  // namespace

void gemm_onednn(const GemmArgs& g) {
  OmpThreads serial(1);
  for (int64_t i = 0; i < g.batch; ++i) {
    sgemm_split(g, static_cast<const float*>(g.a) + i * g.stride_a, static_cast<const float*>(g.b) + i * g.stride_b,
                static_cast<float*>(g.c) + i * g.stride_c);
  }
}

}  // namespace loom::kernels::cpu
