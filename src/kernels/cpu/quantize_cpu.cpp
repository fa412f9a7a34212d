// The CPU's quantize and dequantize entries (loom/kernels/quantize.h): plain
// loops, the reference a vectorised entry would be checked against.
#include <algorithm>
#include <cmath>

#include "cpu/cpu_backend.h"

namespace loom::kernels {
namespace {

// How element i (row-major) finds its group: (i / inner) % groups.
struct Groups {
  int64_t inner = 1, groups = 1;
};
Groups groups_of(const Tensor& q) {
  const QuantParams& p = *q.quant_params();
  if (p.is_per_tensor())
    return {q.numel() > 0 ? q.numel() : 1, 1};
  return {shape_numel(Shape(q.shape().begin() + p.axis + 1, q.shape().end())), q.size(p.axis)};
}

std::string declines(const Tensor& f, const Tensor& q) {
  if (!f.device().is_cpu() || !q.device().is_cpu())
    return "not on the CPU";
  if (f.dtype() != DType::f32)
    return std::string("real side is ") + dtype_name(f.dtype()) + ", not f32";
  if (!q.is_quantized())
    return "the integer side carries no quantization parameters";
  if (q.dtype() != DType::i8 && q.dtype() != DType::u8 && q.dtype() != DType::i32)
    return std::string("integer side is ") + dtype_name(q.dtype());
  if (!f.is_contiguous() || !q.is_contiguous())
    return "not contiguous";
  return "";
}

template <typename Q>
void quantize_typed(const float* x, Q* q, int64_t n, const QuantParams& p, Groups g, double qmin, double qmax) {
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = (i / g.inner) % g.groups;
    const double v = std::nearbyint(static_cast<double>(x[i]) / p.scales[k]) + p.zero_points[k];
    q[i] = static_cast<Q>(std::clamp(v, qmin, qmax));
  }
}

template <typename Q>
void dequantize_typed(const Q* q, float* x, int64_t n, const QuantParams& p, Groups g) {
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = (i / g.inner) % g.groups;
    x[i] = p.scales[k] * static_cast<float>(static_cast<int64_t>(q[i]) - p.zero_points[k]);
  }
}

void quantize_cpu(const Tensor& x, const Tensor& q) {
  const QuantParams& p = *q.quant_params();
  const Groups g = groups_of(q);
  const double qmin = static_cast<double>(quant_min(q.dtype())), qmax = static_cast<double>(quant_max(q.dtype()));
  const float* src = x.data<float>();
  switch (q.dtype()) {
    case DType::i8:
      return quantize_typed(src, q.data<int8_t>(), q.numel(), p, g, qmin, qmax);
    case DType::u8:
      return quantize_typed(src, q.data<uint8_t>(), q.numel(), p, g, qmin, qmax);
    default:
      return quantize_typed(src, q.data<int32_t>(), q.numel(), p, g, qmin, qmax);
  }
}

void dequantize_cpu(const Tensor& q, const Tensor& x) {
  const QuantParams& p = *q.quant_params();
  const Groups g = groups_of(q);
  float* dst = x.data<float>();
  switch (q.dtype()) {
    case DType::i8:
      return dequantize_typed(q.data<int8_t>(), dst, q.numel(), p, g);
    case DType::u8:
      return dequantize_typed(q.data<uint8_t>(), dst, q.numel(), p, g);
    default:
      return dequantize_typed(q.data<int32_t>(), dst, q.numel(), p, g);
  }
}

}  // namespace

void register_cpu_quantize_kernels(KernelLists& lists) {
  lists.quantize.add(DeviceType::CPU, "cpu_reference", declines, quantize_cpu);
  lists.dequantize.add(
      DeviceType::CPU, "cpu_reference", [](const Tensor& q, const Tensor& x) { return declines(x, q); },
      dequantize_cpu);
}

}  // namespace loom::kernels
