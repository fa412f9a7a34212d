#pragma once
// Element-wise kernels. Operands arrive already broadcast to dst's shape (as
// stride-0 views), so kernels never deal with broadcasting rules.
#include <cstdint>

#include "loom/core/tensor.h"
#include "loom/kernels/op_codes.h"
#include "loom/kernels/registry.h"

namespace loom::kernels {

const char* unary_op_name(UnaryOp op);
const char* binary_op_name(BinaryOp op);

// unary(op, src, dst, alpha, beta): dst = op(src)
using UnaryKernels = KernelList<void(UnaryOp, const Tensor&, const Tensor&, double, double)>;
UnaryKernels& unary_kernels();

// binary(op, a, b, dst): dst = op(a, b); a, b and dst share one shape.
using BinaryKernels = KernelList<void(BinaryOp, const Tensor&, const Tensor&, const Tensor&)>;
BinaryKernels& binary_kernels();

// dst[i] += src[i] over plain f32 arrays, on the calling thread, with the widest SIMD this
// CPU has (LOOM_ISA lowers it). The collectives reduce received gradients with it: a
// communication thread must not fan out over the pool, and a baseline-x86-64 loop runs
// at half the speed of AVX-512 on data in cache.
void add_into_f32(float* dst, const float* src, int64_t n);

// dst[i] = float(src[i]) / 255 (torchvision's ToTensor on 8-bit pixels, bit for bit), on
// the calling thread with the widest SIMD this CPU has: how batches of byte images
// become f32 while they are gathered.
void bytes_to_unit_f32(const uint8_t* src, float* dst, int64_t n);

}  // namespace loom::kernels
