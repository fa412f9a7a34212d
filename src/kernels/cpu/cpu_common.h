#pragma once
// Helpers shared by the CPU reference kernels.
#include <string>

#include "loom/core/dispatch.h"
#include "loom/core/tensor.h"

namespace loom::kernels::cpu {

// "" when every tensor is on the CPU with a float dtype (f32 or f64) equal to the first.
template <typename... Ts>
std::string declines_unless_cpu_float(const Tensor& first, const Ts&... rest) {
  if (!first.device().is_cpu())
    return "tensor is on " + first.device().str();
  if (first.dtype() != DType::f32 && first.dtype() != DType::f64) {
    return std::string("dtype ") + dtype_name(first.dtype()) + " is not f32/f64";
  }
  std::string why;
  ((why.empty() && rest.defined() && rest.dtype() != first.dtype()
        ? why = std::string("mixed dtypes ") + dtype_name(first.dtype()) + "/" + dtype_name(rest.dtype())
        : why),
   ...);
  return why;
}

using ::loom::dispatch_float;

// Layer norm's weight gradients from per-row-block partial sums laid out as
// [blocks][dgamma n | dbeta n], added block by block in order (so the bits do not
// depend on how blocks went to threads); dgamma or dbeta may be null.
template <typename T>
void sum_row_blocks(const T* partial, int64_t blocks, int64_t n, T* dgamma, T* dbeta) {
  for (int64_t j = 0; j < n; ++j) {
    T sg = 0, sb = 0;
    for (int64_t b = 0; b < blocks; ++b) {
      sg += partial[b * 2 * n + j];
      sb += partial[b * 2 * n + n + j];
    }
    if (dgamma)
      dgamma[j] = sg;
    if (dbeta)
      dbeta[j] = sb;
  }
}

}  // namespace loom::kernels::cpu
