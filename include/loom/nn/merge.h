#pragma once
// Layers that merge several values of a Graph: a residual sum, a concatenation,
// a gate. They take their inputs through forward_inputs.
#include "loom/nn/module.h"

namespace loom::nn {

// The sum of two or more inputs (NumPy broadcasting): a residual connection.
class Add : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  Tensor forward_inputs(const std::vector<Tensor>& inputs) override;
  std::string describe() const override { return "Add()"; }
};

// The element-wise product of two or more inputs (NumPy broadcasting).
class Mul : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  Tensor forward_inputs(const std::vector<Tensor>& inputs) override;
  std::string describe() const override { return "Mul()"; }
};

// Two or more inputs joined along `axis` (of the batched tensor, as torch.cat's dim).
class Concat : public Module {
 public:
  explicit Concat(int64_t axis = 1) : axis_(axis) {}
  Tensor forward(const Tensor& x) override;
  Tensor forward_inputs(const std::vector<Tensor>& inputs) override;
  std::string describe() const override { return "Concat(axis=" + std::to_string(axis_) + ")"; }
  int64_t axis() const { return axis_; }

 private:
  int64_t axis_;
};

}  // namespace loom::nn
