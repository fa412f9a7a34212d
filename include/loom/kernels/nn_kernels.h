#pragma once
// Kernels for the neural-network ops: convolution, pooling, softmax, NLL loss,
// and row gather/scatter for embeddings.
#include <cstdint>
#include <optional>

#include "loom/core/tensor.h"
#include "loom/kernels/registry.h"

namespace loom::kernels {

// Geometry of a 2-D window op over NCHW input (convolution and pooling).
struct Window2d {
  int64_t n = 0, c = 0, h = 0, w = 0;  // input
  int64_t oc = 0;                      // output channels (convolution only)
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0;
  int64_t oh = 0, ow = 0;  // output
};

// conv2d_forward(g, x[n,c,h,w], weight[oc,c,kh,kw], bias[oc] or undefined, y[n,oc,oh,ow])
using Conv2dForwardKernels =
    KernelList<void(const Window2d&, const Tensor&, const Tensor&, const Tensor&, const Tensor&)>;
Conv2dForwardKernels& conv2d_forward_kernels();
// conv2d_backward_input(g, grad_y, weight, grad_x)
using Conv2dBackwardInputKernels = KernelList<void(const Window2d&, const Tensor&, const Tensor&, const Tensor&)>;
Conv2dBackwardInputKernels& conv2d_backward_input_kernels();
// conv2d_backward_weight(g, x, grad_y, grad_weight) (overwrites grad_weight)
using Conv2dBackwardWeightKernels = KernelList<void(const Window2d&, const Tensor&, const Tensor&, const Tensor&)>;
Conv2dBackwardWeightKernels& conv2d_backward_weight_kernels();

// max_pool2d_forward(g, x, y, argmax i32 [n,c,oh,ow] = flat index into h*w; i32 halves
// the traffic of i64, and pool_geometry_of checks that h*w fits). argmax may be
// undefined: a forward that records no backward does not need the indices.
using MaxPoolForwardKernels = KernelList<void(const Window2d&, const Tensor&, const Tensor&, const Tensor&)>;
MaxPoolForwardKernels& max_pool2d_forward_kernels();
// max_pool2d_backward(g, grad_y, argmax, grad_x) (overwrites grad_x)
using MaxPoolBackwardKernels = KernelList<void(const Window2d&, const Tensor&, const Tensor&, const Tensor&)>;
MaxPoolBackwardKernels& max_pool2d_backward_kernels();
// avg_pool2d_forward(g, x, y) / avg_pool2d_backward(g, grad_y, grad_x); padding
// counts toward the divisor (PyTorch's count_include_pad=True).
using AvgPoolKernels = KernelList<void(const Window2d&, const Tensor&, const Tensor&)>;
AvgPoolKernels& avg_pool2d_forward_kernels();
AvgPoolKernels& avg_pool2d_backward_kernels();

// softmax_forward(src[rows, cols], dst, log) along the last axis.
using SoftmaxForwardKernels = KernelList<void(const Tensor&, const Tensor&, bool)>;
SoftmaxForwardKernels& softmax_forward_kernels();
// softmax_backward(y, grad_y, grad_x, log): y is the forward output.
using SoftmaxBackwardKernels = KernelList<void(const Tensor&, const Tensor&, const Tensor&, bool)>;
SoftmaxBackwardKernels& softmax_backward_kernels();

// nll_loss_forward(log_probs[n, c], target i64[n], loss scalar) -> mean over n.
using NllForwardKernels = KernelList<void(const Tensor&, const Tensor&, const Tensor&)>;
NllForwardKernels& nll_loss_forward_kernels();
// nll_loss_backward(grad scalar, target, grad_log_probs[n, c]) (overwrites)
using NllBackwardKernels = KernelList<void(const Tensor&, const Tensor&, const Tensor&)>;
NllBackwardKernels& nll_loss_backward_kernels();

// index_select_rows(table[v, d], index i64[k], dst[k, d]); bounds-checked.
using GatherKernels = KernelList<void(const Tensor&, const Tensor&, const Tensor&)>;
GatherKernels& index_select_rows_kernels();
// index_add_rows(src[k, d], index i64[k], dst[v, d]): dst[index[i]] += src[i]
using ScatterKernels = KernelList<void(const Tensor&, const Tensor&, const Tensor&)>;
ScatterKernels& index_add_rows_kernels();

// layer_norm_forward(x [rows, n], gamma [n] or undefined, beta [n] or undefined,
// y [rows, n], mean [rows], rstd [rows], eps): y = (x - mean) * rstd * gamma + beta
// with rstd = 1 / sqrt(var + eps) (biased variance), all contiguous.
using LayerNormForwardKernels =
    KernelList<void(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, double)>;
LayerNormForwardKernels& layer_norm_forward_kernels();
// The backward overwrites dx and (when defined) dgamma and dbeta; their sums over
// rows run in fixed blocks of rows, so the bits do not depend on the thread count.
struct LayerNormGrads {
  Tensor dy, x, gamma, mean, rstd;
  Tensor dx, dgamma, dbeta;
};
inline std::optional<Device> kernel_device_of(const LayerNormGrads& g) { return g.x.device(); }
using LayerNormBackwardKernels = KernelList<void(const LayerNormGrads&)>;
LayerNormBackwardKernels& layer_norm_backward_kernels();

}  // namespace loom::kernels
