#include "loom/optim/sgd.h"

#include "loom/core/dispatch.h"
#include "update_loop.h"

namespace loom::optim {
namespace {

template <typename T>
void sgd_update(T* p, const T* g, T* buf, int64_t begin, int64_t end, const OptimizerOptions& o, bool first) {
  const T lr = static_cast<T>(o.lr), wd = static_cast<T>(o.weight_decay), mom = static_cast<T>(o.momentum);
  const T keep = static_cast<T>(1.0 - o.dampening);
  // Decay is skipped, not multiplied by 0, so an inf parameter does not turn into NaN.
  const bool decay = o.weight_decay != 0;
  if (buf == nullptr) {
    for (int64_t i = begin; i < end; ++i)
      p[i] -= lr * (decay ? g[i] + wd * p[i] : g[i]);
    return;
  }
  for (int64_t i = begin; i < end; ++i) {
    const T d = decay ? g[i] + wd * p[i] : g[i];
    const T b = first ? d : mom * buf[i] + keep * d;
    buf[i] = b;
    p[i] -= lr * (o.nesterov ? d + mom * b : b);
  }
}

}  // namespace

SGD::SGD(std::vector<Tensor> params, OptimizerOptions options) : Optimizer(std::move(params), options) {
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
    dispatch_float(s.param.dtype(), [&]<typename T>() {
      T* p = s.param.data<T>();
      const T* g = s.grad.data<T>();
      T* b = detail::ptr<T>(buf);
      detail::parallel_update(s.param.numel(),
                              [&](int64_t lo, int64_t hi) { sgd_update<T>(p, g, b, lo, hi, options_, first); });
    });
  });
}

}  // namespace loom::optim
