#include "loom/nn/merge.h"

namespace loom::nn {
namespace {

void check_several(const Module& m, size_t n) {
  LOOM_CHECK(n >= 2, m.describe(), " merges two or more inputs but was given ", n,
             "; list them in the layer's \"inputs\"");
}

// inputs[0] op inputs[1] op ... , left to right.
Tensor fold(const Module& m, const std::vector<Tensor>& inputs, Tensor (*op)(const Tensor&, const Tensor&)) {
  check_several(m, inputs.size());
  Tensor y = op(inputs[0], inputs[1]);
  for (size_t i = 2; i < inputs.size(); ++i)
    y = op(y, inputs[i]);
  return y;
}

}  // namespace

Tensor Add::forward(const Tensor&) {
  check_several(*this, 1);
  return {};
}

Tensor Add::forward_inputs(const std::vector<Tensor>& inputs) { return fold(*this, inputs, add); }

Tensor Mul::forward(const Tensor&) {
  check_several(*this, 1);
  return {};
}

Tensor Mul::forward_inputs(const std::vector<Tensor>& inputs) { return fold(*this, inputs, mul); }

Tensor Concat::forward(const Tensor&) {
  check_several(*this, 1);
  return {};
}

Tensor Concat::forward_inputs(const std::vector<Tensor>& inputs) {
  check_several(*this, inputs.size());
  return concat(inputs, axis_);
}

}  // namespace loom::nn
