#pragma once
#include "loom/core/generator.h"
#include "loom/nn/module.h"

namespace loom::nn {

// Zeroes each element with probability p and scales the rest by 1/(1-p) while
// training; the identity in evaluation. The mask is drawn from `gen`, which must
// outlive the layer.
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override { return dropout(x, p_, training_, *gen_); }
  std::string describe() const override;
  double p() const { return p_; }

 private:
  double p_;
  Generator* gen_;
};

}  // namespace loom::nn
