#include "loom/optim/adam.h"

#include <cmath>

#include "loom/kernels/optimizer_updates.h"

namespace loom::optim {

Adam::Adam(ParamGroups params, OptimizerOptions options) : Adam(std::move(params), options, false) {}

Adam::Adam(ParamGroups params, OptimizerOptions options, bool decoupled_decay)
    : Optimizer(std::move(params), options), decoupled_decay_(decoupled_decay) {
  // name() is not yet the derived one inside a constructor.
  const char* who = decoupled_decay ? "AdamW" : "Adam";
  LOOM_CHECK(options_.beta1 >= 0 && options_.beta1 < 1 && options_.beta2 >= 0 && options_.beta2 < 1, who,
             ": betas must be in [0, 1), got beta1 ", options_.beta1, " and beta2 ", options_.beta2);
  LOOM_CHECK(options_.eps >= 0, who, ": eps must be >= 0, got ", options_.eps);
}

void Adam::step() {
  ++steps_;
  const double t = static_cast<double>(steps_);
  kernels::AdamStep c;
  c.beta1 = options_.beta1;
  c.beta2 = options_.beta2;
  c.eps = options_.eps;
  c.inv_bc2_sqrt = 1.0 / std::sqrt(1.0 - std::pow(options_.beta2, t));
  for_each_segment([&](Segment& s) {
    c.l2 = decoupled_decay_ ? 0.0 : s.weight_decay;
    c.shrink = decoupled_decay_ ? 1.0 - s.lr * s.weight_decay : 1.0;
    c.step_size = s.lr / (1.0 - std::pow(options_.beta1, t));
    const Tensor m = segment_slot(s, "exp_avg");
    const Tensor v = segment_slot(s, "exp_avg_sq");
    kernels::adam_update_kernels()(s.param, s.grad, m, v, c);
  });
}

}  // namespace loom::optim
