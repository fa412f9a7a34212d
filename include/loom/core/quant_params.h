#pragma once
// NOTE [Quantization parameters]
// An integer tensor (i8, u8, i32) may carry how its integers map to reals:
// real = scale * (q - zero_point), with one (scale, zero point) for the whole
// tensor or one per index along `axis` (per-channel weights), as PyTorch's
// per_tensor_affine and per_channel_affine. The parameters ride on the TensorImpl:
// - views keep per-tensor parameters (every element has the same mapping) and
//   keep per-axis ones only when the view has the same shape and strides (detach);
//   clone, contiguous and to(Device) keep them; to(DType) drops them (the values
//   are converted as integers, not dequantized: use kernels::dequantize).
// - A kernel reads them from its operands (GEMM's zero points come from here), so
//   a quantized model needs no side table of scales.
#include <cstdint>
#include <string>
#include <vector>

#include "loom/core/dtype.h"

namespace loom {

struct QuantParams {
  std::vector<float> scales;         // one (per tensor) or one per index along axis
  std::vector<int32_t> zero_points;  // the same length as scales
  int64_t axis = -1;                 // -1: per tensor

  static QuantParams per_tensor(float scale, int32_t zero_point) { return {{scale}, {zero_point}, -1}; }
  static QuantParams per_axis(std::vector<float> scales, std::vector<int32_t> zero_points, int64_t axis) {
    return {std::move(scales), std::move(zero_points), axis};
  }
  bool is_per_tensor() const { return axis < 0; }
  // Every zero point is 0 (symmetric quantization).
  bool symmetric() const;
  bool operator==(const QuantParams&) const = default;
  std::string str() const;  // "per_tensor(scale=0.1, zero_point=3)" or "per_axis(axis=0, 64 scales)"
};

// The range of q a dtype holds, for quantizing (i8: [-128, 127], u8: [0, 255]).
int64_t quant_min(DType dtype);
int64_t quant_max(DType dtype);

}  // namespace loom
