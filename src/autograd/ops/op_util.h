#pragma once
// Helpers shared by the op definitions.
#include "loom/autograd/node.h"
#include "loom/autograd/ops.h"
#include "loom/kernels/elementwise.h"
#include "loom/runtime/profiler.h"

namespace loom::ops_detail {

// NOTE [Saved outputs]
// A backward closure that needs its op's output captures out.detach(), never
// `out` itself: `out` owns the node that owns the closure, and that cycle would
// keep the graph alive when backward never runs (a loss computed only to print).

inline Tensor empty_like(const Tensor& x) { return Tensor::empty(x.shape(), x.dtype(), x.device()); }

// Marks where op `op` starts on this thread, for its forward span (NOTE [Op spans]
// in node.cpp). Call only while the profiler is on.
void profile_op_begin(const char* op);

// Ops compute in floating point; integer inputs are a user error with a clear message.
// Every op checks its inputs first, so this is also where its forward span begins.
inline void check_float(const Tensor& x, const char* op) {
  if (runtime::profiler_enabled())
    profile_op_begin(op);
  LOOM_CHECK(x.defined(), op, ": input tensor is undefined");
  LOOM_CHECK(x.dtype() == DType::f32 || x.dtype() == DType::f64, op, ": expected an f32 or f64 tensor, got ",
             dtype_name(x.dtype()), " with shape ", shape_str(x.shape()));
}

inline void check_same_dtype(const Tensor& a, const Tensor& b, const char* op) {
  LOOM_CHECK(a.dtype() == b.dtype(), op, ": dtypes differ (", dtype_name(a.dtype()), " and ", dtype_name(b.dtype()),
             ")");
}

// A view of x broadcast to `shape` (stride 0 on the broadcast axes).
Tensor broadcast_view(const Tensor& x, const Shape& shape);

// dst = op(x) through the unary kernel list.
Tensor unary_kernel(kernels::UnaryOp op, const Tensor& x, double alpha = 0, double beta = 0);
// dst = op(a, b) with broadcasting, through the binary kernel list.
Tensor binary_kernel(kernels::BinaryOp op, const Tensor& a, const Tensor& b, const char* name);

}  // namespace loom::ops_detail
