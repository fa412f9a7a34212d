#pragma once
// Helpers shared by the op definitions.
#include "../dispatch.h"
#include "loom/autograd/node.h"
#include "loom/autograd/ops.h"
#include "loom/kernels/elementwise.h"
#include "loom/runtime/profiler.h"

namespace loom::ops_detail {
using autograd::dispatch;
using autograd::NoAttrs;
using autograd::OpDef;
using autograd::OpId;
using autograd::OpOutput;
using autograd::TensorMeta;
using Inputs = std::vector<Tensor>;
using Metas = std::vector<TensorMeta>;

// One scalar attribute (add_scalar's value, pow_scalar's exponent).
struct ScalarAttrs {
  double value = 0.0;
  template <typename V>
  void fields(V&& v) {
    v("value", value);
  }
};
// One axis (softmax, squeeze, unsqueeze).
struct AxisAttrs {
  int64_t axis = -1;
  template <typename V>
  void fields(V&& v) {
    v("axis", axis);
  }
};
// A target shape (reshape, expand, sum_to).
struct ShapeAttrs {
  Shape shape;
  template <typename V>
  void fields(V&& v) {
    v("shape", shape);
  }
};

// The checks of the shape rules and of the ops themselves: one message for both.
[[noreturn]] void throw_not_float(bool defined, DType dtype, const Shape& shape, const char* op);
[[noreturn]] void throw_dtypes_differ(DType a, DType b, const char* op);
inline void check_float_meta(const TensorMeta& x, const char* op) {
  if (!x.defined || (x.dtype != DType::f32 && x.dtype != DType::f64))
    throw_not_float(x.defined, x.dtype, x.shape, op);
}
inline void check_same_dtype_meta(const TensorMeta& a, const TensorMeta& b, const char* op) {
  if (a.dtype != b.dtype)
    throw_dtypes_differ(a.dtype, b.dtype, op);
}
// Rules shared by several ops.
TensorMeta same_as_input(OpId id, const Metas& in, const auto&) {
  check_float_meta(in[0], autograd::op_name(id));
  return in[0];
}
TensorMeta broadcast_meta(OpId id, const Metas& in, const NoAttrs&);

// NOTE [Saved outputs]
// A backward closure that needs its op's output captures out.detach(), never
// `out` itself: `out` owns the node that owns the closure, and that cycle would
// keep the graph alive when backward never runs (a loss computed only to print).

inline Tensor empty_like(const Tensor& x) { return Tensor::empty(x.shape(), x.dtype(), x.device()); }

// Ops compute in floating point; integer inputs are a user error with a clear message.
inline void check_float(const Tensor& x, const char* op) {
  if (!x.defined() || (x.dtype() != DType::f32 && x.dtype() != DType::f64))
    throw_not_float(x.defined(), x.defined() ? x.dtype() : DType::f32, x.defined() ? x.shape() : Shape{}, op);
}

inline void check_same_dtype(const Tensor& a, const Tensor& b, const char* op) {
  if (a.dtype() != b.dtype())
    throw_dtypes_differ(a.dtype(), b.dtype(), op);
}
// The metas of an op's inputs, for the forward to call its own shape rule.
inline Metas metas_of(const Inputs& inputs) { return autograd::detail::metas(inputs); }

// A view of x broadcast to `shape` (stride 0 on the broadcast axes).
Tensor broadcast_view(const Tensor& x, const Shape& shape);

// dst = op(x) through the unary kernel list.
Tensor unary_kernel(kernels::UnaryOp op, const Tensor& x, double alpha = 0, double beta = 0);
// dst = op(a, b) with broadcasting, through the binary kernel list.
Tensor binary_kernel(kernels::BinaryOp op, const Tensor& a, const Tensor& b, const char* name);

}  // namespace loom::ops_detail
