#pragma once
// Kernels fused into one pass over a GEMM's output (linear_act): the bias add and
// activation after the forward GEMM, and the activation gradient with the bias
// gradient's column sum before the backward GEMMs.
#include "loom/core/tensor.h"
#include "loom/kernels/op_codes.h"
#include "loom/kernels/registry.h"

namespace loom::kernels {

// bias_act(act, bias[cols] or undefined, y[rows, cols], pre[rows, cols] or undefined):
// z = y + bias; pre = z (when defined); y = act(z). y and pre are contiguous.
using BiasActKernels = KernelList<void(Activation, const Tensor&, const Tensor&, const Tensor&)>;
BiasActKernels& bias_act_kernels();

// bias_act_backward(act, grad_y[rows, cols], saved, grad_z, grad_bias[cols] or undefined):
// grad_z = grad_y * act'(z) and grad_bias = column sums of grad_z (overwritten).
// `saved` is the forward's output y for relu (y > 0 exactly where z > 0), the
// pre-activation z for gelu, and unused for none. All contiguous.
using BiasActBackwardKernels = KernelList<void(Activation, const Tensor&, const Tensor&, const Tensor&, const Tensor&)>;
BiasActBackwardKernels& bias_act_backward_kernels();

}  // namespace loom::kernels
