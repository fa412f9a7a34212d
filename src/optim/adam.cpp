#include "loom/optim/adam.h"

#include <cmath>
#include <type_traits>

#include "loom/core/dispatch.h"
#include "loom/kernels/adam_update.h"
#include "update_loop.h"

namespace loom::optim {

Adam::Adam(std::vector<Tensor> params, OptimizerOptions options) : Adam(std::move(params), options, false) {}

Adam::Adam(std::vector<Tensor> params, OptimizerOptions options, bool decoupled_decay)
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
  c.l2 = decoupled_decay_ ? 0.0 : options_.weight_decay;
  c.shrink = decoupled_decay_ ? 1.0 - options_.lr * options_.weight_decay : 1.0;
  c.step_size = options_.lr / (1.0 - std::pow(options_.beta1, t));
  c.inv_bc2_sqrt = 1.0 / std::sqrt(1.0 - std::pow(options_.beta2, t));
  for_each_segment([&](Segment& s) {
    const Tensor m = segment_slot(s, "exp_avg");
    const Tensor v = segment_slot(s, "exp_avg_sq");
    dispatch_float(s.param.dtype(), [&]<typename T>() {
      T* p = s.param.data<T>();
      const T* g = s.grad.data<T>();
      T* mp = m.data<T>();
      T* vp = v.data<T>();
      detail::parallel_update(s.param.numel(), [&](int64_t lo, int64_t hi) {
        if constexpr (std::is_same_v<T, float>)
          kernels::adam_update_f32(p + lo, g + lo, mp + lo, vp + lo, hi - lo, c);
        else
          kernels::adam_update_scalar<T>(p, g, mp, vp, lo, hi, c);
      });
    });
  });
}

}  // namespace loom::optim
