#include "loom/nn/merge.h"

namespace loom::nn {
namespace {

void check_several(const Module& m, size_t n) {
  LOOM_CHECK(n >= 2, m.describe(), " merges two or more inputs but was given ", n,
             "; list them in the layer's \"inputs\"");
}

}  // namespace

Tensor Add::forward(const Tensor&) {
  check_several(*this, 1);
  return {};
}

Tensor Add::forward_inputs(const std::vector<Tensor>& inputs) {
  check_several(*this, inputs.size());
  Tensor y = add(inputs[0], inputs[1]);
  for (size_t i = 2; i < inputs.size(); ++i)
    y = add(y, inputs[i]);
  return y;
}

Tensor Mul::forward(const Tensor&) {
  check_several(*this, 1);
  return {};
}

Tensor Mul::forward_inputs(const std::vector<Tensor>& inputs) {
  check_several(*this, inputs.size());
  Tensor y = mul(inputs[0], inputs[1]);
  for (size_t i = 2; i < inputs.size(); ++i)
    y = mul(y, inputs[i]);
  return y;
}

Tensor Concat::forward(const Tensor&) {
  check_several(*this, 1);
  return {};
}

Tensor Concat::forward_inputs(const std::vector<Tensor>& inputs) {
  check_several(*this, inputs.size());
  return concat(inputs, axis_);
}

}  // namespace loom::nn
