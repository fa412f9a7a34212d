#include "loom/optim/rmsprop.h"

#include "loom/kernels/optimizer_updates.h"

namespace loom::optim {

RMSprop::RMSprop(ParamGroups params, OptimizerOptions options) : Optimizer(std::move(params), options) {
  LOOM_CHECK(options_.alpha >= 0 && options_.alpha <= 1, "RMSprop: alpha must be in [0, 1], got ", options_.alpha);
  LOOM_CHECK(options_.eps >= 0, "RMSprop: eps must be >= 0, got ", options_.eps);
  LOOM_CHECK(options_.momentum >= 0, "RMSprop: momentum must be >= 0, got ", options_.momentum);
}

std::vector<std::string> RMSprop::slot_names() const {
  if (options_.momentum > 0)
    return {"square_avg", "momentum_buffer"};
  return {"square_avg"};
}

void RMSprop::step() {
  ++steps_;
  for_each_segment([&](Segment& s) {
    const Tensor v = segment_slot(s, "square_avg");
    const Tensor buf = options_.momentum > 0 ? segment_slot(s, "momentum_buffer") : Tensor();
    kernels::RmspropStep step{s.lr, s.weight_decay, options_.eps, options_.alpha, options_.momentum};
    kernels::rmsprop_update_kernels()(s.param, s.grad, v, buf, step);
  });
}

}  // namespace loom::optim
