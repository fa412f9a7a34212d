#include "loom/optim/sgd.h"

#include "loom/kernels/optimizer_updates.h"

namespace loom::optim {

SGD::SGD(ParamGroups params, OptimizerOptions options) : Optimizer(std::move(params), options) {
  LOOM_CHECK(options_.momentum >= 0, "SGD: momentum must be >= 0, got ", options_.momentum);
  LOOM_CHECK(!options_.nesterov || (options_.momentum > 0 && options_.dampening == 0),
             "SGD: nesterov needs momentum > 0 and dampening 0, got momentum ", options_.momentum, " and dampening ",
             options_.dampening);
}

std::vector<std::string> SGD::slot_names() const {
  if (options_.momentum == 0)
    return {};
  return {"momentum_buffer"};
}

void SGD::step() {
  ++steps_;
  for_each_segment([&](Segment& s) {
    const bool first = !segment_has_slot(s, "momentum_buffer");
    const Tensor buf = options_.momentum != 0 ? segment_slot(s, "momentum_buffer") : Tensor();
    kernels::SgdStep step{s.lr, s.weight_decay, options_.momentum, options_.dampening, options_.nesterov, first};
    kernels::sgd_update_kernels()(s.param, s.grad, buf, step);
  });
}

}  // namespace loom::optim
