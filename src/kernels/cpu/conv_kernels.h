#pragma once
// Convolution kernels beyond kernels_cpu.h's batched im2col: the per-image batch
// split (conv_im2col.cpp) and the direct-loop reference (conv_reference.cpp).
#include <string>

#include "cpu/omp_threads.h"
#include "loom/kernels/nn_kernels.h"

namespace loom::kernels::cpu {

// "" for CPU f32 tensors; the split entries' per-image GEMM is f32 only.
std::string conv2d_split_declines(const Tensor& first);
void conv2d_forward_split(const Window2d& g, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y);
void conv2d_backward_input_split(const Window2d& g, const Tensor& gy, const Tensor& w, const Tensor& gx);
void conv2d_backward_weight_split(const Window2d& g, const Tensor& x, const Tensor& gy, const Tensor& gw);

void conv2d_forward_reference(const Window2d& g, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y);
void conv2d_backward_input_reference(const Window2d& g, const Tensor& gy, const Tensor& w, const Tensor& gx);
void conv2d_backward_weight_reference(const Window2d& g, const Tensor& x, const Tensor& gy, const Tensor& gw);

}  // namespace loom::kernels::cpu
