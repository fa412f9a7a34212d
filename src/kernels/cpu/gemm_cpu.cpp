#include <cblas.h>

#include <string>

#include "cpu/gemm_panels.h"
#include "cpu/kernels_cpu.h"
#include "loom/runtime/parallel.h"

namespace loom::kernels::cpu {

void gemm_openblas(const GemmArgs& g) {
  // OpenBLAS runs at one thread; loom's pool splits the GEMM (NOTE [GEMM panels]).
  const auto ta = g.trans_a ? CblasTrans : CblasNoTrans;
  const auto tb = g.trans_b ? CblasTrans : CblasNoTrans;
  for (int64_t i = 0; i < g.batch; ++i) {
    if (g.uniform_dtype() == DType::f32) {
      gemm_in_panels(g, static_cast<const float*>(g.a) + i * g.stride_a,
                     static_cast<const float*>(g.b) + i * g.stride_b, static_cast<float*>(g.c) + i * g.stride_c,
                     [&](int64_t m, int64_t n, const float* a, const float* b, float* c) {
                       cblas_sgemm(CblasRowMajor, ta, tb, m, n, g.k, static_cast<float>(g.alpha), a, g.lda, b, g.ldb,
                                   static_cast<float>(g.beta), c, g.ldc);
                     });
    } else {
      gemm_in_panels(g, static_cast<const double*>(g.a) + i * g.stride_a,
                     static_cast<const double*>(g.b) + i * g.stride_b, static_cast<double*>(g.c) + i * g.stride_c,
                     [&](int64_t m, int64_t n, const double* a, const double* b, double* c) {
                       cblas_dgemm(CblasRowMajor, ta, tb, m, n, g.k, g.alpha, a, g.lda, b, g.ldb, g.beta, c, g.ldc);
                     });
    }
  }
}

BlasVectors openblas_vectors() {
  static const BlasVectors vectors = [] {
    const std::string core = openblas_get_corename();
    if (core == "SkylakeX" || core == "Cooperlake" || core == "SapphireRapids")
      return BlasVectors::avx512;
    if (core == "Haswell" || core == "Zen")
      return BlasVectors::avx2;
    return BlasVectors::older;
  }();
  return vectors;
}

namespace {
template <typename T>
void gemm_reference_typed(const GemmArgs& g) {
  for (int64_t bi = 0; bi < g.batch; ++bi) {
    const T* a = static_cast<const T*>(g.a) + bi * g.stride_a;
    const T* b = static_cast<const T*>(g.b) + bi * g.stride_b;
    T* c = static_cast<T*>(g.c) + bi * g.stride_c;
    for (int64_t i = 0; i < g.m; ++i) {
      for (int64_t j = 0; j < g.n; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < g.k; ++p) {
          double av = g.trans_a ? a[p * g.lda + i] : a[i * g.lda + p];
          double bv = g.trans_b ? b[j * g.ldb + p] : b[p * g.ldb + j];
          acc += av * bv;
        }
        T& out = c[i * g.ldc + j];
        out = static_cast<T>(g.alpha * acc + (g.beta == 0 ? 0.0 : g.beta * out));
      }
    }
  }
}
}  // namespace

void gemm_reference(const GemmArgs& g) {
  if (g.uniform_dtype() == DType::f32) {
    gemm_reference_typed<float>(g);
  } else {
    gemm_reference_typed<double>(g);
  }
}

}  // namespace loom::kernels::cpu
