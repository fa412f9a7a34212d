#include <limits>

#include "cpu/cpu_common.h"
#include "cpu/kernels_cpu.h"
#include "loom/runtime/parallel.h"

namespace loom::kernels::cpu {
namespace {

// Sum of a contiguous run with eight independent partial sums: the loop
// vectorises instead of waiting on one add's latency per element, and the order
// is fixed, so the result repeats bit for bit.
template <typename T>
T sum_run(const T* p, int64_t n) {
  T acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t k = 0;
  for (; k + 8 <= n; k += 8)
    for (int q = 0; q < 8; ++q)
      acc[q] += p[k + q];
  for (; k < n; ++k)
    acc[0] += p[k];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

template <typename T>
void reduce_row(ReduceOp op, const T* base, void* dst, int64_t o, int64_t r, int64_t inner) {
  if (op == ReduceOp::sum) {
    T* d = static_cast<T*>(dst) + o * inner;
    if (inner == 1) {
      *d = sum_run(base, r);
      return;
    }
    for (int64_t j = 0; j < inner; ++j)
      d[j] = 0;
    for (int64_t k = 0; k < r; ++k)
      for (int64_t j = 0; j < inner; ++j)
        d[j] += base[k * inner + j];
  } else if (op == ReduceOp::max || op == ReduceOp::min) {
    T* d = static_cast<T*>(dst) + o * inner;
    const bool is_max = op == ReduceOp::max;
    for (int64_t j = 0; j < inner; ++j)
      d[j] = is_max ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
    for (int64_t k = 0; k < r; ++k)
      for (int64_t j = 0; j < inner; ++j) {
        T v = base[k * inner + j];
        if (is_max ? v > d[j] : v < d[j])
          d[j] = v;
      }
  } else {  // argmax: first index of the maximum, as PyTorch
    int64_t* d = static_cast<int64_t*>(dst) + o * inner;
    for (int64_t j = 0; j < inner; ++j) {
      T best = base[j];
      int64_t at = 0;
      for (int64_t k = 1; k < r; ++k) {
        T v = base[k * inner + j];
        if (v > best) {
          best = v;
          at = k;
        }
      }
      d[j] = at;
    }
  }
}

// Each output element is reduced by one thread in a fixed order, so the result
// does not depend on the thread count.
template <typename T>
void reduce_typed(ReduceOp op, const T* s, void* dst, int64_t outer, int64_t r, int64_t inner) {
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, r * inner));
  runtime::parallel_for(0, outer, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t o = lo; o < hi; ++o)
      reduce_row(op, s + o * r * inner, dst, o, r, inner);
  });
}

}  // namespace

void reduce_reference(ReduceOp op, const Tensor& src, const Tensor& dst, int64_t outer, int64_t r, int64_t inner) {
  LOOM_CHECK(r > 0 || op == ReduceOp::sum, "cannot take max/min/argmax over an empty axis");
  dispatch_float(src.dtype(), [&]<typename T>() {
    reduce_typed<T>(op, static_cast<const T*>(src.raw_data()), dst.raw_data(), outer, r, inner);
  });
}

}  // namespace loom::kernels::cpu
