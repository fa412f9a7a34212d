#pragma once
// The kernel families core's own tensor operations run through (NOTE [Kernel
// lists]): Tensor::copy_, to(), clone(), fill_, zeros and the random fills. Core
// only declares them; each backend registers its entries (src/kernels/<backend>/),
// so nothing below `kernels` computes.
#include "loom/core/generator.h"
#include "loom/core/kernel_list.h"

namespace loom {

// dst = src, same shape and dtype, any strides.
using CopyKernels = KernelList<void(const Tensor& src, const Tensor& dst)>;
CopyKernels& copy_kernels();

// dst = src converted to dst's dtype, same shape, any strides.
using CastKernels = KernelList<void(const Tensor& src, const Tensor& dst)>;
CastKernels& cast_kernels();

// Every element of dst = value (converted to dst's dtype).
using FillKernels = KernelList<void(const Tensor& dst, double value)>;
FillKernels& fill_kernels();

// Draws from the generator into a contiguous dst, element by element in order,
// so a seed gives the same tensor on every backend that draws the same stream.
struct RandomFill {
  enum class Kind { uniform, normal, bernoulli };
  Kind kind = Kind::uniform;
  double a = 0, b = 1;  // uniform [a, b); normal mean a, stddev b; bernoulli p = a, kept value b (else 0)
};
using RandomFillKernels = KernelList<void(const Tensor& dst, const RandomFill& how, Generator& gen)>;
RandomFillKernels& random_fill_kernels();

}  // namespace loom
