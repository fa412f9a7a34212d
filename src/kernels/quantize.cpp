// The quantize API over its kernel families, and the min-max parameter choice.
#include "loom/kernels/quantize.h"

#include <algorithm>
#include <cmath>

namespace loom::kernels {
namespace {

void check_quantized_dtype(DType dtype, const char* what) {
  LOOM_CHECK(dtype == DType::i8 || dtype == DType::u8, what, ": quantizes to i8 or u8, not ", dtype_name(dtype));
}

}  // namespace

Tensor quantize(const Tensor& x, const QuantParams& params, DType dtype) {
  check_quantized_dtype(dtype, "quantize");
  LOOM_CHECK(x.defined() && x.dtype() == DType::f32, "quantize: expects an f32 tensor, got ",
             x.defined() ? dtype_name(x.dtype()) : "an undefined tensor");
  Tensor q = Tensor::empty(x.shape(), dtype, x.device()).with_quant_params(params);
  quantize_kernels()(x, q);
  return q;
}

Tensor dequantize(const Tensor& q) {
  LOOM_CHECK(q.defined() && q.is_quantized(), "dequantize: the tensor (",
             q.defined() ? dtype_name(q.dtype()) : "undefined", ") carries no quantization parameters");
  Tensor x = Tensor::empty(q.shape(), DType::f32, q.device());
  dequantize_kernels()(q, x);
  return x;
}

QuantParams choose_quant_params(const Tensor& x, DType dtype, bool symmetric, int64_t axis) {
  check_quantized_dtype(dtype, "choose_quant_params");
  LOOM_CHECK(x.defined() && x.dtype() == DType::f32, "choose_quant_params: expects an f32 tensor");
  LOOM_CHECK(axis < x.dim(), "choose_quant_params: axis ", axis, " is not an axis of shape ", shape_str(x.shape()));
  const std::vector<float> v = x.contiguous().to_vector<float>();
  const int64_t groups = axis < 0 ? 1 : x.size(axis);
  const int64_t inner = axis < 0 ? x.numel() : shape_numel(Shape(x.shape().begin() + axis + 1, x.shape().end()));
  std::vector<float> lo(groups, 0.0f), hi(groups, 0.0f);  // the range always holds 0 (exact zero padding)
  for (int64_t i = 0; i < static_cast<int64_t>(v.size()); ++i) {
    const int64_t g = axis < 0 ? 0 : (i / inner) % groups;
    lo[g] = std::min(lo[g], v[i]);
    hi[g] = std::max(hi[g], v[i]);
  }
  const double qmin = static_cast<double>(quant_min(dtype)), qmax = static_cast<double>(quant_max(dtype));
  QuantParams p;
  p.axis = axis;
  for (int64_t g = 0; g < groups; ++g) {
    double scale;
    int32_t zero_point = 0;
    if (symmetric) {
      // i8 uses [-127, 127] so that -x quantizes to -q (the usual symmetric range)
      const double reach = dtype == DType::i8 ? 127.0 : (qmax - qmin) / 2;
      scale = std::max(std::fabs(lo[g]), std::fabs(hi[g])) / reach;
      zero_point = dtype == DType::u8 ? 128 : 0;
    } else {
      scale = (static_cast<double>(hi[g]) - lo[g]) / (qmax - qmin);
      if (scale > 0)
        zero_point = static_cast<int32_t>(std::clamp(std::nearbyint(qmin - lo[g] / scale), qmin, qmax));
    }
    p.scales.push_back(scale > 0 ? static_cast<float>(scale) : 1.0f);  // an all-zero group: any scale is exact
    p.zero_points.push_back(zero_point);
  }
  return p;
}

}  // namespace loom::kernels
