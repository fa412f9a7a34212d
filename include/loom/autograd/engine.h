#pragma once
#include "loom/core/tensor.h"

namespace loom::autograd {

// Reverse-mode pass from `root`, seeding it with `grad_root` (ones for a scalar
// root when undefined). Leaf gradients accumulate into Tensor::grad(). The graph
// is released afterwards unless retain_graph is set.
void backward(const Tensor& root, const Tensor& grad_root = Tensor(), bool retain_graph = false);

}  // namespace loom::autograd
