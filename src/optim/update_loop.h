#pragma once
// Helpers shared by the optimizers' update loops (NOTE [Fused update] in optimizer.h).
#include <cstdint>

#include "loom/core/tensor.h"
#include "loom/runtime/parallel.h"

namespace loom::optim::detail {

// The update is memory bound, so threads only pay off on long runs; every element
// is independent, so the split never changes the result.
constexpr int64_t kUpdateGrain = int64_t{1} << 15;

// fn(begin, end) over [0, n) on the intra-op pool.
template <typename Fn>
void parallel_update(int64_t n, Fn&& fn) {
  runtime::parallel_for(0, n, kUpdateGrain, fn);
}

// Typed pointer to a flat segment tensor, or nullptr when it is undefined.
template <typename T>
T* ptr(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

}  // namespace loom::optim::detail
