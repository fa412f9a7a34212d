#pragma once
#include "loom/optim/optimizer.h"

namespace loom::optim {

// torch.optim.SGD: with g = grad + weight_decay * p,
//   buf = g on the first step, then momentum * buf + (1 - dampening) * g
//   d = nesterov ? g + momentum * buf : buf   (d = g without momentum)
//   p -= lr * d
// Uses options lr, momentum, dampening, nesterov, weight_decay.
class SGD : public Optimizer {
 public:
  SGD(ParamGroups params, OptimizerOptions options);
  void step() override;
  std::string name() const override { return "sgd"; }

 protected:
  std::vector<std::string> slot_names() const override;
};

}  // namespace loom::optim
