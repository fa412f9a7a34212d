#include "loom/optim/rmsprop.h"

#include <cmath>

#include "loom/core/dispatch.h"
#include "update_loop.h"

namespace loom::optim {
namespace {

template <typename T>
void rmsprop_update(T* p, const T* g, T* v, T* buf, int64_t begin, int64_t end, const OptimizerOptions& o) {
  const T lr = static_cast<T>(o.lr), wd = static_cast<T>(o.weight_decay), eps = static_cast<T>(o.eps);
  const T alpha = static_cast<T>(o.alpha), one_alpha = static_cast<T>(1.0 - o.alpha);
  const T mom = static_cast<T>(o.momentum);
  const bool decay = o.weight_decay != 0;
  for (int64_t i = begin; i < end; ++i) {
    const T gi = decay ? g[i] + wd * p[i] : g[i];
    const T vi = alpha * v[i] + one_alpha * gi * gi;
    v[i] = vi;
    const T a = std::sqrt(vi) + eps;
    if (buf != nullptr) {
      const T b = mom * buf[i] + gi / a;
      buf[i] = b;
      p[i] -= lr * b;
    } else {
      p[i] -= lr * gi / a;
    }
  }
}

}  // namespace

RMSprop::RMSprop(std::vector<Tensor> params, OptimizerOptions options) : Optimizer(std::move(params), options) {
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
    dispatch_float(s.param.dtype(), [&]<typename T>() {
      T* p = s.param.data<T>();
      const T* g = s.grad.data<T>();
      T* vp = v.data<T>();
      T* b = detail::ptr<T>(buf);
      detail::parallel_update(s.param.numel(),
                              [&](int64_t lo, int64_t hi) { rmsprop_update<T>(p, g, vp, b, lo, hi, options_); });
    });
  });
}

}  // namespace loom::optim
