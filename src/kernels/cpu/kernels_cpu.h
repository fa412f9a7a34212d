#pragma once
// The CPU kernels; src/kernels/*_list.cpp puts them into their families' lists.
#include <string>

#include "loom/kernels/attention.h"
#include "loom/kernels/elementwise.h"
#include "loom/kernels/fused.h"
#include "loom/kernels/gemm.h"
#include "loom/kernels/nn_kernels.h"
#include "loom/kernels/reduce.h"

namespace loom::kernels::cpu {

void unary_reference(UnaryOp op, const Tensor& src, const Tensor& dst, double alpha, double beta);
void binary_reference(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& dst);
void reduce_reference(ReduceOp op, const Tensor& src, const Tensor& dst, int64_t outer, int64_t r, int64_t inner);

void gemm_openblas(const GemmArgs& g);
// The widest vectors of the sgemm kernels OpenBLAS runs: those of the core it
// picked at load time (which OPENBLAS_CORETYPE overrides); older = below AVX2.
enum class BlasVectors { older, avx2, avx512 };
BlasVectors openblas_vectors();
void gemm_onednn(const GemmArgs& g);  // f32 only (NOTE [oneDNN sgemm])
// Why oneDNN's sgemm should leave this GEMM (as it will be cut into panels) to
// OpenBLAS, or "" (NOTE [oneDNN sgemm]).
std::string onednn_declines_shape(const GemmArgs& g);
void gemm_reference(const GemmArgs& g);
// NOTE [GEMM operand dtypes] (gemm_low_precision.cpp)
std::string gemm_int8_reference_declines(const GemmArgs& g);
void gemm_int8_reference(const GemmArgs& g);
std::string gemm_bf16_reference_declines(const GemmArgs& g);
void gemm_bf16_reference(const GemmArgs& g);

void conv2d_forward_im2col(const Window2d& g, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y);
void conv2d_backward_input_col2im(const Window2d& g, const Tensor& gy, const Tensor& w, const Tensor& gx);
void conv2d_backward_weight_im2col(const Window2d& g, const Tensor& x, const Tensor& gy, const Tensor& gw);

void max_pool2d_forward_reference(const Window2d& g, const Tensor& x, const Tensor& y, const Tensor& argmax);
void max_pool2d_backward_reference(const Window2d& g, const Tensor& gy, const Tensor& argmax, const Tensor& gx);
void avg_pool2d_forward_reference(const Window2d& g, const Tensor& x, const Tensor& y);
void avg_pool2d_backward_reference(const Window2d& g, const Tensor& gy, const Tensor& gx);

void softmax_forward_reference(const Tensor& src, const Tensor& dst, bool log);
void softmax_backward_reference(const Tensor& y, const Tensor& gy, const Tensor& gx, bool log);
void nll_loss_forward_reference(const Tensor& logp, const Tensor& target, const Tensor& loss);
void nll_loss_backward_reference(const Tensor& grad, const Tensor& target, const Tensor& glogp);
void index_select_rows_reference(const Tensor& table, const Tensor& index, const Tensor& dst);
void index_add_rows_reference(const Tensor& src, const Tensor& index, const Tensor& dst);

void layer_norm_forward_reference(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& y,
                                  const Tensor& mean, const Tensor& rstd, double eps);
void layer_norm_backward_reference(const LayerNormGrads& g);

void attention_forward_reference(const AttentionShape& a, const Tensor& q, const Tensor& k, const Tensor& v,
                                 const Tensor& mask, const Tensor& out, const Tensor& lse);
void attention_backward_reference(const AttentionShape& a, const AttentionGrads& g);

void bias_act_reference(Activation act, const Tensor& bias, const Tensor& y, const Tensor& pre);
void bias_act_backward_reference(Activation act, const Tensor& gy, const Tensor& saved, const Tensor& gz,
                                 const Tensor& gbias);

}  // namespace loom::kernels::cpu
