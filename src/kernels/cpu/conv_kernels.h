#pragma once
// Convolution kernels beyond kernels_cpu.h's batched im2col: the per-image batch
// split (conv_im2col.cpp) and the direct-loop reference (conv_reference.cpp).
#include <algorithm>
#include <cstdint>
#include <string>

#include "cpu/omp_threads.h"
#include "loom/kernels/nn_kernels.h"
#include "loom/runtime/parallel.h"

namespace loom::kernels::cpu {

// How many batch slices a convolution splits into: one per thread, one when
// already inside a parallel region (NOTE [oneDNN on loom threads]).
inline int64_t batch_parts(int64_t batch) {
  const int64_t threads = runtime::in_parallel_region() ? 1 : runtime::num_threads();
  return std::max<int64_t>(1, std::min(threads, batch));
}

// Runs fn(part, image_begin, image_end) for each of `parts` static slices of the
// batch (balance211), one slice per pool thread, with OpenMP serial there.
template <typename Fn>
void for_each_batch_slice(int64_t batch, int64_t parts, Fn&& fn) {
  runtime::parallel_for(0, parts, 1, [&](int64_t lo, int64_t hi) {
    OmpThreads serial(1);
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t base = batch / parts, extra = batch % parts;
      const int64_t b = t * base + std::min(t, extra);
      fn(t, b, b + base + (t < extra ? 1 : 0));
    }
  });
}

// "" for CPU f32 tensors; the split entries' per-image GEMM is f32 only.
std::string conv2d_split_declines(const Tensor& first);
void conv2d_forward_split(const Window2d& g, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y);
void conv2d_backward_input_split(const Window2d& g, const Tensor& gy, const Tensor& w, const Tensor& gx);
void conv2d_backward_weight_split(const Window2d& g, const Tensor& x, const Tensor& gy, const Tensor& gw);

// Direct stride-1 convolution forward for fewer than 8 input channels
// (conv_small.cpp, NOTE [Direct small-channel convolution]).
std::string conv2d_forward_small_declines(const Window2d& g, const Tensor& x, const Tensor& w, const Tensor& b,
                                          const Tensor& y);
void conv2d_forward_small(const Window2d& g, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y);

void conv2d_forward_reference(const Window2d& g, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y);
void conv2d_backward_input_reference(const Window2d& g, const Tensor& gy, const Tensor& w, const Tensor& gx);
void conv2d_backward_weight_reference(const Window2d& g, const Tensor& x, const Tensor& gy, const Tensor& gw);

}  // namespace loom::kernels::cpu
