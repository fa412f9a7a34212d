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

// The gemm list is chosen by the operands' device (NOTE [Kernel lists]).
inline std::optional<Device> kernel_device_of(const GemmArgs& g) { return g.device; }

using GemmKernels = KernelList<void(const GemmArgs&)>;
GemmKernels& gemm_kernels();

// Runs small f32 and f64 products of every transpose through the GEMM list on the
// calling thread (inline, not on the pool), so that one-time library set-up happens
// there: oneDNN's sgemm generates its JIT kernels on first use, about 35 ms on this
// machine, which otherwise lands in the first training step. `loom train` runs it on
// a thread while the data loads. Never throws.
void warm_up_gemm();

}  // namespace loom::kernels
