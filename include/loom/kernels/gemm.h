#pragma once
#include <cstdint>

#include "loom/core/tensor.h"
#include "loom/kernels/registry.h"

namespace loom::kernels {

// C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C, row-major, for `batch`
// matrices spaced by the stride_* element counts (0 = the same matrix for all).
struct GemmArgs {
  DType dtype = DType::f32;
  Device device;
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  double alpha = 1.0, beta = 0.0;
  const void* a = nullptr;
  int64_t lda = 0;
  const void* b = nullptr;
  int64_t ldb = 0;
  void* c = nullptr;
  int64_t ldc = 0;
  int64_t batch = 1, stride_a = 0, stride_b = 0, stride_c = 0;
};

using GemmKernels = KernelList<void(const GemmArgs&)>;
GemmKernels& gemm_kernels();

}  // namespace loom::kernels
