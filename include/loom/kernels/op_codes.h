#pragma once
// The op codes of the element-wise, reduction and fused-activation kernels, in a
// header with no other includes: the ISA-specific files (*_avx2.cpp, *_avx512.cpp)
// include only this, so no shared inline code is compiled with wider ISA flags
// (NOTE [ISA files] in src/kernels/cpu/simd_kernels.h).
#include <cstdint>

namespace loom::kernels {

enum class UnaryOp : uint8_t {
  neg,
  relu,
  gelu,
  tanh,
  sigmoid,
  exp,
  log,
  sqrt,
  rsqrt,
  abs,
  square,
  reciprocal,
  scale_shift,  // x * alpha + beta
  pow,          // x ^ alpha
  kCount
};

enum class BinaryOp : uint8_t {
  add,
  sub,
  mul,
  div,
  maximum,
  minimum,
  relu_backward,     // a = grad, b = x:  a * (x > 0)
  gelu_backward,     // a = grad, b = x:  a * gelu'(x)
  tanh_backward,     // a = grad, b = y:  a * (1 - y^2)
  sigmoid_backward,  // a = grad, b = y:  a * y * (1 - y)
  greater,           // 1 where a > b, else 0
  equal,             // 1 where a == b, else 0
  kCount
};

enum class ReduceOp : uint8_t { sum, max, min, argmax, kCount };

// The activation fused into linear_act (none = bias only).
enum class Activation : uint8_t { none, relu, gelu, kCount };

}  // namespace loom::kernels
