#pragma once
// Element-wise kernels. Operands arrive already broadcast to dst's shape (as
// stride-0 views), so kernels never deal with broadcasting rules.
#include <cstdint>

#include "loom/core/tensor.h"
#include "loom/kernels/registry.h"

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
const char* unary_op_name(UnaryOp op);

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
const char* binary_op_name(BinaryOp op);

// unary(op, src, dst, alpha, beta): dst = op(src)
using UnaryKernels = KernelList<void(UnaryOp, const Tensor&, const Tensor&, double, double)>;
UnaryKernels& unary_kernels();

// binary(op, a, b, dst): dst = op(a, b); a, b and dst share one shape.
using BinaryKernels = KernelList<void(BinaryOp, const Tensor&, const Tensor&, const Tensor&)>;
BinaryKernels& binary_kernels();

}  // namespace loom::kernels
