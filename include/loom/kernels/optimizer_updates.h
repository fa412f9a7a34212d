#pragma once
// The optimizers' element updates as kernel families (NOTE [Kernel lists]): an
// optimizer computes its step's scalars and hands each flat segment (parameter,
// gradient, state slots; NOTE [Fused update] in loom/optim/optimizer.h) to its
// family, so a backend brings its own update with its own kernels.
#include "loom/kernels/adam_update.h"
#include "loom/kernels/registry.h"

namespace loom::kernels {

struct SgdStep {
  double lr = 0, weight_decay = 0, momentum = 0, dampening = 0;
  bool nesterov = false;
  bool first = false;  // the momentum buffer is not yet written: it becomes the gradient
};
// (param, grad, momentum buffer or undefined, step)
using SgdUpdateKernels = KernelList<void(const Tensor&, const Tensor&, const Tensor&, const SgdStep&)>;
SgdUpdateKernels& sgd_update_kernels();

// (param, grad, exp_avg, exp_avg_sq, step)
using AdamUpdateKernels = KernelList<void(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const AdamStep&)>;
AdamUpdateKernels& adam_update_kernels();

struct RmspropStep {
  double lr = 0, weight_decay = 0, eps = 1e-8, alpha = 0.99, momentum = 0;
};
// (param, grad, square_avg, momentum buffer or undefined, step)
using RmspropUpdateKernels =
    KernelList<void(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const RmspropStep&)>;
RmspropUpdateKernels& rmsprop_update_kernels();

}  // namespace loom::kernels
