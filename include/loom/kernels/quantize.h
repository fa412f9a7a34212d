#pragma once
// Quantize and dequantize (NOTE [Quantization parameters] in
// loom/core/quant_params.h): q = clamp(round_half_even(x / scale) + zero_point,
// qmin, qmax) and x = scale * (q - zero_point), per tensor or per index along an
// axis, as torch.quantize_per_tensor / quantize_per_channel compute them.
#include "loom/core/tensor.h"
#include "loom/kernels/registry.h"

namespace loom::kernels {

// (f32 src, integer dst carrying its parameters): dst = quantize(src)
using QuantizeKernels = KernelList<void(const Tensor& src, const Tensor& dst)>;
QuantizeKernels& quantize_kernels();
// (integer src carrying its parameters, f32 dst): dst = dequantize(src)
using DequantizeKernels = KernelList<void(const Tensor& src, const Tensor& dst)>;
DequantizeKernels& dequantize_kernels();

// A new i8 or u8 tensor of x's shape holding x quantized with `params`.
Tensor quantize(const Tensor& x, const QuantParams& params, DType dtype);
// A new f32 tensor: the reals a quantized tensor stands for.
Tensor dequantize(const Tensor& q);

// Parameters from x's range, as the min-max observers choose them: symmetric
// (zero point 0, scale max|x| / qmax, for i8 weights) or affine (the range
// [min(x, 0), max(x, 0)] mapped onto the dtype's, for u8 activations); per
// tensor when axis is -1, else one per index along axis.
QuantParams choose_quant_params(const Tensor& x, DType dtype, bool symmetric, int64_t axis = -1);

}  // namespace loom::kernels
