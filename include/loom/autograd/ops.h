#pragma once
// Differentiable operations. Each one is defined once, in src/autograd/ops/, with
// its attributes, shape rule, call into the kernel lists and backward side by side,
// registered as its schema and run through the one dispatch path (NOTE [Op schema]
// in op_schema.h; NOTE [Backward closures] in node.h; NOTE [Op table] in op_table.h).
#include <cstdint>
#include <optional>
#include <vector>

#include "loom/core/generator.h"
#include "loom/core/tensor.h"
#include "loom/kernels/op_codes.h"

namespace loom {

// ---- arithmetic (NumPy broadcasting) --------------------------------------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& x);
Tensor add_scalar(const Tensor& x, double value);
Tensor mul_scalar(const Tensor& x, double value);
Tensor pow_scalar(const Tensor& x, double exponent);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& x) { return neg(x); }
inline Tensor operator+(const Tensor& a, double s) { return add_scalar(a, s); }
inline Tensor operator-(const Tensor& a, double s) { return add_scalar(a, -s); }
inline Tensor operator*(const Tensor& a, double s) { return mul_scalar(a, s); }
inline Tensor operator/(const Tensor& a, double s) { return mul_scalar(a, 1.0 / s); }
inline Tensor operator*(double s, const Tensor& a) { return mul_scalar(a, s); }

// In place, never recorded (for optimizers and gradient accumulation).
void add_(Tensor& dst, const Tensor& src, double alpha = 1.0);  // dst += alpha * src
void mul_(Tensor& dst, double value);

// Non-differentiable comparisons, returning 0/1 in the inputs' dtype.
Tensor greater(const Tensor& a, const Tensor& b);
Tensor equal(const Tensor& a, const Tensor& b);

// ---- unary ---------------------------------------------------------------------
Tensor relu(const Tensor& x);
Tensor gelu(const Tensor& x);  // exact (erf) form, as PyTorch's default
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);

// ---- linear algebra --------------------------------------------------------------
// [m,k]@[k,n], batched [b,m,k]@[b,k,n] (either side may be 2-D and is broadcast).
Tensor matmul(const Tensor& a, const Tensor& b);
// x[..., in] @ weight[out, in]^T + bias[out], as torch.nn.functional.linear.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());
// act(linear(x, weight, bias)) in one op: the bias add and activation run in one
// pass over the GEMM's output (NOTE [Fused linear] in src/autograd/ops/linalg.cpp).
using Activation = kernels::Activation;
Tensor linear_act(const Tensor& x, const Tensor& weight, const Tensor& bias, Activation act);

// ---- reductions (axes may be negative; empty axes = all) ------------------------------
Tensor sum(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdim = false);
Tensor mean(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdim = false);
Tensor amax(const Tensor& x, int64_t axis, bool keepdim = false);
Tensor argmax(const Tensor& x, int64_t axis, bool keepdim = false);  // i64, not differentiable
// Sums `x` down to `shape` (the backward of broadcasting).
Tensor sum_to(const Tensor& x, const Shape& shape);

// ---- views and shape ------------------------------------------------------------------
Tensor reshape(const Tensor& x, const Shape& shape);  // a view when possible, else a copy
Tensor flatten(const Tensor& x, int64_t start_axis = 1, int64_t end_axis = -1);
Tensor permute(const Tensor& x, const std::vector<int64_t>& order);
Tensor transpose(const Tensor& x, int64_t a, int64_t b);
Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end, int64_t step = 1);
Tensor expand(const Tensor& x, const Shape& shape);
Tensor squeeze(const Tensor& x, int64_t axis);
Tensor unsqueeze(const Tensor& x, int64_t axis);
Tensor contiguous(const Tensor& x);
Tensor concat(const std::vector<Tensor>& xs, int64_t axis);

// ---- neural-network functions ----------------------------------------------------------
Tensor softmax(const Tensor& x, int64_t axis = -1);
Tensor log_softmax(const Tensor& x, int64_t axis = -1);
// Mean negative log-likelihood; log_probs [..., c], target i64 [...] (the classes
// are the last axis, so a sequence's [batch, time, vocab] scores take [batch, time]
// targets; PyTorch puts them on axis 1 for more than two axes).
Tensor nll_loss(const Tensor& log_probs, const Tensor& target);
// log_softmax + nll_loss, fused; logits [..., c], target i64 [...].
Tensor cross_entropy(const Tensor& logits, const Tensor& target);
Tensor mse_loss(const Tensor& prediction, const Tensor& target);

// Op attributes list their fields for the schema's visitors (NOTE [Op schema]).
struct Conv2dOptions {
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  template <typename V>
  void fields(V&& v) {
    v("stride_h", stride_h);
    v("stride_w", stride_w);
    v("pad_h", pad_h);
    v("pad_w", pad_w);
  }
};
// x [n, c, h, w], weight [oc, c, kh, kw], bias [oc] or undefined.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), Conv2dOptions options = {});
struct Pool2dOptions {
  int64_t kernel_h = 2, kernel_w = 2;
  int64_t stride_h = 0, stride_w = 0;  // 0 = the kernel size
  int64_t pad_h = 0, pad_w = 0;
  template <typename V>
  void fields(V&& v) {
    v("kernel_h", kernel_h);
    v("kernel_w", kernel_w);
    v("stride_h", stride_h);
    v("stride_w", stride_w);
    v("pad_h", pad_h);
    v("pad_w", pad_w);
  }
};
Tensor max_pool2d(const Tensor& x, Pool2dOptions options = {});
// act(max_pool2d(conv2d(x, weight, bias, conv), pool)) as one op whose convolution
// output never leaves the cache (NOTE [Fused conv + max-pool]); act is none or
// relu. Sequential uses it for Conv2d, [ReLU,] MaxPool2d.
Tensor conv2d_max_pool2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Conv2dOptions conv,
                         Pool2dOptions pool, Activation act = Activation::none);
Tensor avg_pool2d(const Tensor& x, Pool2dOptions options = {});

// Normalises over every axis but 1 (channels). In training it uses the batch
// statistics and updates running_mean/var in place (unbiased variance, as PyTorch);
// in evaluation it uses the running statistics.
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor running_mean, Tensor running_var,
                  bool training, double momentum = 0.1, double eps = 1e-5);
// Normalises over the last `normalized_axes` axes; gamma/beta have that trailing shape.
Tensor layer_norm(const Tensor& x, int64_t normalized_axes, const Tensor& gamma = Tensor(),
                  const Tensor& beta = Tensor(), double eps = 1e-5);
// Zeroes elements with probability p and scales the rest by 1/(1-p) when training.
Tensor dropout(const Tensor& x, double p, bool training, Generator& generator = default_generator());
// Rows of table[v, d] picked by index (i64, any shape) -> [..., d].
Tensor embedding(const Tensor& index, const Tensor& table);
// softmax(q k^T * scale + mask) v as one fused op (NOTE [Fused attention] in
// src/autograd/ops/attention.cpp): q [b, h, t, d], k [b, h, s, d], v [b, h, s, dv]
// -> [b, h, t, dv]. mask (optional) is additive and broadcasts to [b, h, t, s]; it
// gets no gradient. causal hides keys after each query (aligned at the bottom
// right: query i sees keys j <= i + s - t). scale 0 means 1 / sqrt(d).
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask = Tensor(),
                                    bool causal = false, double scale = 0.0);
// Self-attention over one projection: qkv [b, t, 3 w] holds q, k and v (in that
// order, each `heads` heads of w / heads) -> [b, t, w] with the heads merged; the
// same as splitting, scaled_dot_product_attention and merging, without the copies.
Tensor qkv_attention(const Tensor& qkv, int64_t heads, bool causal = true, double scale = 0.0);

}  // namespace loom
