// Plain C++ bias + activation kernels around linear_act's GEMMs (f32 and f64);
// the correctness reference for the SIMD entries.
#include <cmath>

#include "cpu/cpu_common.h"
#include "cpu/kernels_cpu.h"
#include "loom/runtime/parallel.h"

namespace loom::kernels::cpu {
namespace {

template <typename T>
T act_forward(Activation act, T z) {
  if (act == Activation::relu)
    return z > 0 ? z : T(0);
  if (act == Activation::gelu)
    return static_cast<T>(0.5) * z * (1 + std::erf(z * static_cast<T>(M_SQRT1_2)));
  return z;
}

template <typename T>
T act_grad(Activation act, T saved) {
  if (act == Activation::relu)
    return saved > 0 ? T(1) : T(0);
  if (act == Activation::gelu) {
    const T cdf = static_cast<T>(0.5) * (1 + std::erf(saved * static_cast<T>(M_SQRT1_2)));
    const T pdf = std::exp(static_cast<T>(-0.5) * saved * saved) * static_cast<T>(0.3989422804014327);
    return cdf + saved * pdf;
  }
  return T(1);
}

}  // namespace

void bias_act_reference(Activation act, const Tensor& bias, const Tensor& y, const Tensor& pre) {
  const int64_t cols = y.size(-1), rows = y.numel() / std::max<int64_t>(cols, 1);
  dispatch_float(y.dtype(), [&]<typename T>() {
    const T* b = bias.defined() ? static_cast<const T*>(bias.raw_data()) : nullptr;
    T* yp = static_cast<T*>(y.raw_data());
    T* pp = pre.defined() ? static_cast<T*>(pre.raw_data()) : nullptr;
    runtime::parallel_for(0, rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(cols, 1)),
                          [&](int64_t lo, int64_t hi) {
                            for (int64_t i = lo; i < hi; ++i)
                              for (int64_t j = 0; j < cols; ++j) {
                                const T z = yp[i * cols + j] + (b ? b[j] : T(0));
                                if (pp)
                                  pp[i * cols + j] = z;
                                yp[i * cols + j] = act_forward(act, z);
                              }
                          });
  });
}

void bias_act_backward_reference(Activation act, const Tensor& gy, const Tensor& saved, const Tensor& gz,
                                 const Tensor& gbias) {
  const int64_t cols = gy.size(-1), rows = gy.numel() / std::max<int64_t>(cols, 1);
  dispatch_float(gy.dtype(), [&]<typename T>() {
    const T* g = static_cast<const T*>(gy.raw_data());
    const T* s = act != Activation::none ? static_cast<const T*>(saved.raw_data()) : nullptr;
    T* z = static_cast<T*>(gz.raw_data());
    for (int64_t k = 0; k < rows * cols; ++k)
      z[k] = s ? g[k] * act_grad(act, s[k]) : g[k];
    if (gbias.defined()) {  // column sums in row order
      T* gb = static_cast<T*>(gbias.raw_data());
      for (int64_t j = 0; j < cols; ++j)
        gb[j] = 0;
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j)
          gb[j] += z[i * cols + j];
    }
  });
}

}  // namespace loom::kernels::cpu
