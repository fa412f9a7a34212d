// Element-wise reductions for the collectives, and the MPI names of dtypes and ops.
#include <algorithm>

#include "collectives.h"
#include "loom/core/error.h"
#include "loom/kernels/elementwise.h"

namespace loom::distributed::detail {
namespace {

struct Sum {
  template <typename T>
  static T apply(T a, T b) {
    return a + b;
  }
};
struct Max {
  template <typename T>
  static T apply(T a, T b) {
    return a < b ? b : a;
  }
};
struct Min {
  template <typename T>
  static T apply(T a, T b) {
    return b < a ? b : a;
  }
};

// Plain loops over restrict pointers: the compiler vectorises them, and a reduction is
// bound by memory bandwidth anyway.
template <typename T, typename Op, bool SrcFirst>
void reduce_loop(void* dst, const void* src, int64_t n) {
  T* __restrict d = static_cast<T*>(dst);
  const T* __restrict s = static_cast<const T*>(src);
  for (int64_t i = 0; i < n; ++i)
    d[i] = SrcFirst ? Op::apply(s[i], d[i]) : Op::apply(d[i], s[i]);
}

// Gradients are f32 sums, the hot case: through the SIMD kernel. Sum is commutative in
// IEEE arithmetic, so the operand order (src_first) does not change a bit.
void sum_f32(void* dst, const void* src, int64_t n) {
  kernels::add_into_f32(static_cast<float*>(dst), static_cast<const float*>(src), n);
}

template <typename T>
ReduceFn pick(ReduceOp op, bool src_first) {
  switch (op) {
    case ReduceOp::sum:
      return src_first ? reduce_loop<T, Sum, true> : reduce_loop<T, Sum, false>;
    case ReduceOp::max:
      return src_first ? reduce_loop<T, Max, true> : reduce_loop<T, Max, false>;
    case ReduceOp::min:
      return src_first ? reduce_loop<T, Min, true> : reduce_loop<T, Min, false>;
  }
  LOOM_THROW(ValueError, "unknown reduce op ", static_cast<int>(op));
}

}  // namespace

ReduceFn reduce_function(DType dtype, ReduceOp op, bool src_first) {
  switch (dtype) {
    case DType::f32:
      return op == ReduceOp::sum ? sum_f32 : pick<float>(op, src_first);
    case DType::f64:
      return pick<double>(op, src_first);
    case DType::i64:
      return pick<int64_t>(op, src_first);
    case DType::i32:
      return pick<int32_t>(op, src_first);
    default:
      LOOM_THROW(NotImplementedError, "allreduce: dtype ", dtype_name(dtype),
                 " is not supported; collectives reduce f32, f64, i64 and i32 (use a compressor for fp16)");
  }
}

MPI_Datatype mpi_datatype(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return MPI_FLOAT;
    case DType::f64:
      return MPI_DOUBLE;
    case DType::i64:
      return MPI_INT64_T;
    case DType::i32:
      return MPI_INT32_T;
    default:
      LOOM_THROW(NotImplementedError, "no MPI datatype for ", dtype_name(dtype));
  }
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
      return MPI_SUM;
    case ReduceOp::max:
      return MPI_MAX;
    case ReduceOp::min:
      return MPI_MIN;
  }
  LOOM_THROW(ValueError, "unknown reduce op ", static_cast<int>(op));
}

}  // namespace loom::distributed::detail
