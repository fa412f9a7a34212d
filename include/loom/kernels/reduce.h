#pragma once
#include <cstdint>

#include "loom/core/tensor.h"
#include "loom/kernels/op_codes.h"
#include "loom/kernels/registry.h"

namespace loom::kernels {

// reduce(op, src, dst, outer, r, inner): src is contiguous and read as
// [outer, r, inner]; dst is contiguous [outer, inner] and gets the reduction
// over r (argmax writes i64 indices into r).
using ReduceKernels = KernelList<void(ReduceOp, const Tensor&, const Tensor&, int64_t, int64_t, int64_t)>;
ReduceKernels& reduce_kernels();

}  // namespace loom::kernels
