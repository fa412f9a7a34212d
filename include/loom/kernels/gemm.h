#pragma once
#include <cstdint>
#include <string>

#include "loom/core/tensor.h"
#include "loom/kernels/registry.h"

namespace loom::kernels {

// C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C, row-major, for `batch`
// matrices spaced by the stride_* element counts (0 = the same matrix for all).
// NOTE [GEMM operand dtypes]
// Each operand names its dtype. The combinations the lists hold:
// - f32 x f32 -> f32 and f64 x f64 -> f64 (every float entry);
// - {u8, i8} x {i8, u8} -> i32: C = alpha * sum_k (A - a_zero_point)(B - b_zero_point)
//   + beta * C, accumulated in i32 as VNNI's vpdpbusd does, alpha 1 and beta 0 or 1;
// - bf16 x bf16 -> f32 or bf16, accumulated in f32 (as vdpbf16ps does).
// The low-precision entries today are references, checked against f32; the fast
// ones come with compression, in front of them.
struct GemmArgs {
  DType a_dtype = DType::f32, b_dtype = DType::f32, c_dtype = DType::f32;
  int32_t a_zero_point = 0, b_zero_point = 0;  // integer operands only
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

  void set_dtypes(DType all) { a_dtype = b_dtype = c_dtype = all; }
  // The operands' one dtype, or kCount when they differ.
  DType uniform_dtype() const { return a_dtype == b_dtype && b_dtype == c_dtype ? a_dtype : DType::kCount; }
  std::string dtypes_str() const;  // "u8 x i8 -> i32"
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
