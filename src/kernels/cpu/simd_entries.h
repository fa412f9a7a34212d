#pragma once
// The AVX2 / AVX-512 entries of the element-wise, reduction, softmax and fused
// bias+activation kernel lists; `isa` picks the function table. kernel_lists.cpp
// adds one entry per ISA above the reference entries.
#include <string>

#include "cpu/simd_kernels.h"
#include "loom/core/tensor.h"
#include "loom/kernels/attention.h"
#include "loom/kernels/nn_kernels.h"

namespace loom::kernels::cpu::simd {

std::string unary_declines(Isa isa, UnaryOp op, const Tensor& src, const Tensor& dst);
void unary_run(Isa isa, UnaryOp op, const Tensor& src, const Tensor& dst, double alpha, double beta);

std::string binary_declines(Isa isa, const Tensor& a, const Tensor& b, const Tensor& dst);
void binary_run(Isa isa, BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& dst);

std::string reduce_declines(Isa isa, ReduceOp op, const Tensor& src, const Tensor& dst, int64_t r);
void reduce_run(Isa isa, ReduceOp op, const Tensor& src, const Tensor& dst, int64_t outer, int64_t r, int64_t inner);

// c may be undefined (the forward has two tensors).
std::string softmax_declines(Isa isa, const Tensor& a, const Tensor& b, const Tensor& c);
void softmax_forward_run(Isa isa, const Tensor& src, const Tensor& dst, bool log);
void softmax_backward_run(Isa isa, const Tensor& y, const Tensor& gy, const Tensor& gx, bool log);

std::string bias_act_declines(Isa isa, const Tensor& bias, const Tensor& y, const Tensor& pre);
void bias_act_run(Isa isa, Activation act, const Tensor& bias, const Tensor& y, const Tensor& pre);
std::string bias_act_backward_declines(Isa isa, const Tensor& gy, const Tensor& saved, const Tensor& gz,
                                       const Tensor& gbias);
void bias_act_backward_run(Isa isa, Activation act, const Tensor& gy, const Tensor& saved, const Tensor& gz,
                           const Tensor& gbias);

std::string layer_norm_declines(Isa isa, const Tensor& x, const Tensor& gamma, const Tensor& beta);
void layer_norm_forward_run(Isa isa, const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& y,
                            const Tensor& mean, const Tensor& rstd, double eps);
void layer_norm_backward_run(Isa isa, const LayerNormGrads& g);

std::string attention_declines(Isa isa, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask);
void attention_forward_run(Isa isa, const AttentionShape& a, const Tensor& q, const Tensor& k, const Tensor& v,
                           const Tensor& mask, const Tensor& out, const Tensor& lse);
void attention_backward_run(Isa isa, const AttentionShape& a, const AttentionGrads& g);

// 2x2 max pooling at stride 2 without padding; argmax may be undefined (no backward).
std::string max_pool_declines(Isa isa, const Window2d& g, const Tensor& x, const Tensor& y);
void max_pool_forward_run(Isa isa, const Window2d& g, const Tensor& x, const Tensor& y, const Tensor& argmax);

}  // namespace loom::kernels::cpu::simd
