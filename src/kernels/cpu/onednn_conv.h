#pragma once
// Convolution kernels on oneDNN (NOTE [oneDNN convolution] in onednn_conv.cpp).
// Each `*_declines` returns why the entry cannot run these arguments, "" if it can.
#include <string>

#include "loom/kernels/nn_kernels.h"

namespace loom::kernels::cpu {

// The plan cache (NOTE [Plan cache]): how many plans it holds, and its capacity
// (at least 1; default 256), which returns the previous one.
size_t onednn_conv_cached_plans();
size_t set_onednn_conv_plan_capacity(size_t capacity);

std::string conv2d_forward_onednn_declines(const Window2d& g, const Tensor& x, const Tensor& w, const Tensor& b,
                                           const Tensor& y);
void conv2d_forward_onednn(const Window2d& g, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y);

std::string conv2d_backward_input_onednn_declines(const Window2d& g, const Tensor& gy, const Tensor& w,
                                                  const Tensor& gx);
void conv2d_backward_input_onednn(const Window2d& g, const Tensor& gy, const Tensor& w, const Tensor& gx);

std::string conv2d_backward_weight_onednn_declines(const Window2d& g, const Tensor& x, const Tensor& gy,
                                                   const Tensor& gw);
void conv2d_backward_weight_onednn(const Window2d& g, const Tensor& x, const Tensor& gy, const Tensor& gw);

}  // namespace loom::kernels::cpu
