#include "loom/optim/adam.h"

#include <cmath>

#include "loom/core/dispatch.h"
#include "update_loop.h"

namespace loom::optim {
namespace {

struct AdamCoefficients {
  double beta1, beta2, eps;
  double l2;            // added to the gradient (Adam)
  double shrink;        // multiplies p before the update (AdamW), 1 otherwise
  double step_size;     // lr / (1 - beta1^t)
  double inv_bc2_sqrt;  // 1 / sqrt(1 - beta2^t)
};

template <typename T>
void adam_update(T* p, const T* g, T* m, T* v, int64_t begin, int64_t end, const AdamCoefficients& c) {
  const T b1 = static_cast<T>(c.beta1), b2 = static_cast<T>(c.beta2);
  const T one_b1 = static_cast<T>(1.0 - c.beta1), one_b2 = static_cast<T>(1.0 - c.beta2);
  const T l2 = static_cast<T>(c.l2), shrink = static_cast<T>(c.shrink), eps = static_cast<T>(c.eps);
  const T step_size = static_cast<T>(c.step_size), inv_bc2_sqrt = static_cast<T>(c.inv_bc2_sqrt);
  const bool decay = c.l2 != 0, decoupled = c.shrink != 1.0;
  for (int64_t i = begin; i < end; ++i) {
    const T gi = decay ? g[i] + l2 * p[i] : g[i];
    const T mi = b1 * m[i] + one_b1 * gi;
    const T vi = b2 * v[i] + one_b2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const T pi = decoupled ? p[i] * shrink : p[i];
    p[i] = pi - step_size * mi / (std::sqrt(vi) * inv_bc2_sqrt + eps);
  }
}

}  // namespace

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
  AdamCoefficients c;
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
      detail::parallel_update(s.param.numel(),
                              [&](int64_t lo, int64_t hi) { adam_update<T>(p, g, mp, vp, lo, hi, c); });
    });
  });
}

}  // namespace loom::optim
