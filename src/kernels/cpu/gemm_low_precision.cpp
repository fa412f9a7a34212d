// The low-precision GEMM references (NOTE [GEMM operand dtypes] in
// loom/kernels/gemm.h): plain loops in the accumulator types the fast kernels
// use (i32 for 8-bit integers, f32 for bf16), so a fast entry can be checked
// against them bit for bit on integers and closely on bf16.
#include <cstring>

#include "cpu/kernels_cpu.h"

namespace loom::kernels::cpu {
namespace {

bool is_byte(DType t) { return t == DType::u8 || t == DType::i8; }

int32_t load_byte(const void* base, DType t, int64_t i) {
  return t == DType::u8 ? static_cast<const uint8_t*>(base)[i] : static_cast<const int8_t*>(base)[i];
}

// Element (i, p) of op(A) and (p, j) of op(B), as row-major offsets.
int64_t a_index(const GemmArgs& g, int64_t i, int64_t p) { return g.trans_a ? p * g.lda + i : i * g.lda + p; }
int64_t b_index(const GemmArgs& g, int64_t p, int64_t j) { return g.trans_b ? j * g.ldb + p : p * g.ldb + j; }

}  // namespace

std::string gemm_int8_reference_declines(const GemmArgs& g) {
  if (!g.device.is_cpu())
    return "operands are on " + g.device.str();
  if (!is_byte(g.a_dtype) || !is_byte(g.b_dtype) || g.c_dtype != DType::i32)
    return "dtypes " + g.dtypes_str() + " (this entry takes {u8, i8} x {u8, i8} -> i32)";
  if (g.alpha != 1.0 || (g.beta != 0.0 && g.beta != 1.0))
    return "an integer GEMM takes alpha 1 and beta 0 or 1";
  return "";
}

void gemm_int8_reference(const GemmArgs& g) {
  for (int64_t bi = 0; bi < g.batch; ++bi) {
    const int64_t ao = bi * g.stride_a, bo = bi * g.stride_b;
    int32_t* c = static_cast<int32_t*>(g.c) + bi * g.stride_c;
    for (int64_t i = 0; i < g.m; ++i)
      for (int64_t j = 0; j < g.n; ++j) {
        // i32 arithmetic wraps like the hardware's (unsigned, so no UB on overflow)
        uint32_t acc = 0;
        for (int64_t p = 0; p < g.k; ++p) {
          const int32_t av = load_byte(g.a, g.a_dtype, ao + a_index(g, i, p)) - g.a_zero_point;
          const int32_t bv = load_byte(g.b, g.b_dtype, bo + b_index(g, p, j)) - g.b_zero_point;
          acc += static_cast<uint32_t>(av * bv);
        }
        int32_t& out = c[i * g.ldc + j];
        out = static_cast<int32_t>(acc + (g.beta == 0.0 ? 0u : static_cast<uint32_t>(out)));
      }
  }
}

std::string gemm_bf16_reference_declines(const GemmArgs& g) {
  if (!g.device.is_cpu())
    return "operands are on " + g.device.str();
  if (g.a_dtype != DType::bf16 || g.b_dtype != DType::bf16 || (g.c_dtype != DType::f32 && g.c_dtype != DType::bf16))
    return "dtypes " + g.dtypes_str() + " (this entry takes bf16 x bf16 -> f32 or bf16)";
  return "";
}

void gemm_bf16_reference(const GemmArgs& g) {
  for (int64_t bi = 0; bi < g.batch; ++bi) {
    const uint16_t* a = static_cast<const uint16_t*>(g.a) + bi * g.stride_a;
    const uint16_t* b = static_cast<const uint16_t*>(g.b) + bi * g.stride_b;
    for (int64_t i = 0; i < g.m; ++i)
      for (int64_t j = 0; j < g.n; ++j) {
        float acc = 0;
        for (int64_t p = 0; p < g.k; ++p)
          acc += bf16_to_float(a[a_index(g, i, p)]) * bf16_to_float(b[b_index(g, p, j)]);
        const int64_t at = bi * g.stride_c + i * g.ldc + j;
        const float alpha = static_cast<float>(g.alpha), beta = static_cast<float>(g.beta);
        if (g.c_dtype == DType::f32) {
          float& out = static_cast<float*>(g.c)[at];
          out = alpha * acc + (beta == 0 ? 0.0f : beta * out);
        } else {
          uint16_t& out = static_cast<uint16_t*>(g.c)[at];
          out = float_to_bf16(alpha * acc + (beta == 0 ? 0.0f : beta * bf16_to_float(out)));
        }
      }
  }
}

}  // namespace loom::kernels::cpu
