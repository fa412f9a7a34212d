#pragma once
// Fused scaled-dot-product attention (NOTE [Fused attention] in
// src/autograd/ops/attention.cpp): softmax(q k^T * scale + mask) v without the
// [queries, keys] score matrix, forward and backward.
#include <cstdint>

#include "loom/core/tensor.h"
#include "loom/kernels/registry.h"

namespace loom::kernels {

// q [b, h, t, d], k [b, h, s, d], v [b, h, s, dv]; any strides with the last axis
// contiguous. An optional additive mask is [b, h, t, s] with any strides (stride 0
// on broadcast axes). With `causal`, query i sees keys j <= i + (s - t): aligned at
// the bottom right, so a query block appended to a cache of s - t keys (generation)
// sees what the same row of a full t = s pass sees.
struct AttentionShape {
  int64_t b = 0, h = 0, t = 0, s = 0, d = 0, dv = 0;
  bool causal = false;
  double scale = 1.0;
};

// attention_forward(shape, q, k, v, mask or undefined, out [b, h, t, dv], lse f32/f64 [b, h, t])
// lse is each query row's log-sum-exp of its scores, what the backward needs to
// recompute the probabilities (a row that sees no key gets out 0 and lse -inf).
using AttentionForwardKernels = KernelList<void(const AttentionShape&, const Tensor&, const Tensor&, const Tensor&,
                                                const Tensor&, const Tensor&, const Tensor&)>;
AttentionForwardKernels& attention_forward_kernels();

// Everything the backward reads and writes: gq, gk, gv are overwritten (same
// shapes as q, k, v, contiguous).
struct AttentionGrads {
  Tensor q, k, v, mask, out, lse, grad_out;
  Tensor grad_q, grad_k, grad_v;
};
inline std::optional<Device> kernel_device_of(const AttentionGrads& g) { return g.q.device(); }
using AttentionBackwardKernels = KernelList<void(const AttentionShape&, const AttentionGrads&)>;
AttentionBackwardKernels& attention_backward_kernels();

}  // namespace loom::kernels
