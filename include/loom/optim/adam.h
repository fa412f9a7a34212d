#pragma once
#include "loom/optim/optimizer.h"

namespace loom::optim {

// torch.optim.Adam (amsgrad off): at step t, with g = grad + weight_decay * p,
//   m = beta1 * m + (1 - beta1) * g,  v = beta2 * v + (1 - beta2) * g^2
//   p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// t is the optimizer's step count; PyTorch counts per parameter, which differs only
// for a parameter that had no gradient in some earlier step.
class Adam : public Optimizer {
 public:
  Adam(ParamGroups params, OptimizerOptions options);
  void step() override;
  std::string name() const override { return "adam"; }

 protected:
  std::vector<std::string> slot_names() const override { return {"exp_avg", "exp_avg_sq"}; }
  // AdamW: weight decay applied to p itself (p *= 1 - lr * weight_decay) before the
  // Adam update instead of being added to the gradient.
  Adam(ParamGroups params, OptimizerOptions options, bool decoupled_decay);

 private:
  bool decoupled_decay_ = false;
};

// torch.optim.AdamW. Note PyTorch's AdamW defaults weight_decay to 0.01; here the
// value comes from OptimizerOptions like every other optimizer's.
class AdamW : public Adam {
 public:
  AdamW(ParamGroups params, OptimizerOptions options) : Adam(std::move(params), options, true) {}
  std::string name() const override { return "adamw"; }
};

}  // namespace loom::optim
