#include <limits>

#include "cpu/cpu_common.h"
#include "cpu/kernels_cpu.h"
#include "loom/runtime/parallel.h"

namespace loom::kernels::cpu {
namespace {

// Each output element is reduced by one thread in a fixed order, so the result
// does not depend on the thread count.
template <typename T>
void reduce_typed(ReduceOp op, const T* s, void* dst, int64_t outer, int64_t r, int64_t inner) {
  runtime::parallel_for(
      0, outer, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, r * inner)), [&](int64_t lo, int64_t hi) {
        for (int64_t o = lo; o < hi; ++o) {
          const T* base = s + o * r * inner;
          if (op == ReduceOp::sum) {
            T* d = static_cast<T*>(dst) + o * inner;
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
