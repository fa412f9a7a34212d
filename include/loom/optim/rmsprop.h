#pragma once
#include "loom/optim/optimizer.h"

namespace loom::optim {

// torch.optim.RMSprop (centered off): with g = grad + weight_decay * p,
//   v = alpha * v + (1 - alpha) * g^2,  a = sqrt(v) + eps
//   with momentum: buf = momentum * buf + g / a (buf starts at 0), p -= lr * buf
//   without:       p -= lr * g / a
// Uses options lr, alpha, eps, momentum, weight_decay. PyTorch's default eps is
// also 1e-8, but its default lr is 1e-2.
class RMSprop : public Optimizer {
 public:
  RMSprop(ParamGroups params, OptimizerOptions options);
  void step() override;
  std::string name() const override { return "rmsprop"; }

 protected:
  std::vector<std::string> slot_names() const override;
};

}  // namespace loom::optim
