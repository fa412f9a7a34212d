// The CPU's optimizer updates (loom/kernels/optimizer_updates.h). Each is memory
// bound, so threads only pay off on long segments; every element is independent,
// so the split never changes the result.
#include <cmath>
#include <type_traits>

#include "cpu_backend.h"
#include "cpu_common.h"
#include "loom/runtime/parallel.h"

namespace loom::kernels {
namespace {

constexpr int64_t kUpdateGrain = int64_t{1} << 15;

template <typename Fn>
void parallel_update(int64_t n, Fn&& fn) {
  runtime::parallel_for(0, n, kUpdateGrain, fn);
}

template <typename T>
T* ptr(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// Every segment tensor: contiguous, on the CPU, one float dtype.
std::string declines_segments(const Tensor& p, const Tensor& g, const Tensor& a, const Tensor& b) {
  if (std::string why = cpu::declines_unless_cpu_float(p, g, a, b); !why.empty())
    return why;
  for (const Tensor* t : {&p, &g, &a, &b})
    if (t->defined() && !t->is_contiguous())
      return "a segment is not contiguous";
  return "";
}

template <typename T>
void sgd_range(T* p, const T* g, T* buf, int64_t begin, int64_t end, const SgdStep& o) {
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
    const T b = o.first ? d : mom * buf[i] + keep * d;
    buf[i] = b;
    p[i] -= lr * (o.nesterov ? d + mom * b : b);
  }
}

void sgd_cpu(const Tensor& param, const Tensor& grad, const Tensor& buf, const SgdStep& o) {
  dispatch_float(param.dtype(), [&]<typename T>() {
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* b = ptr<T>(buf);
    parallel_update(param.numel(), [&](int64_t lo, int64_t hi) { sgd_range<T>(p, g, b, lo, hi, o); });
  });
}

void adam_cpu(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const AdamStep& c) {
  dispatch_float(param.dtype(), [&]<typename T>() {
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* mp = m.data<T>();
    T* vp = v.data<T>();
    parallel_update(param.numel(), [&](int64_t lo, int64_t hi) {
      if constexpr (std::is_same_v<T, float>)
        adam_update_f32(p + lo, g + lo, mp + lo, vp + lo, hi - lo, c);
      else
        adam_update_scalar<T>(p, g, mp, vp, lo, hi, c);
    });
  });
}

template <typename T>
void rmsprop_range(T* p, const T* g, T* v, T* buf, int64_t begin, int64_t end, const RmspropStep& o) {
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

void rmsprop_cpu(const Tensor& param, const Tensor& grad, const Tensor& v, const Tensor& buf, const RmspropStep& o) {
  dispatch_float(param.dtype(), [&]<typename T>() {
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* vp = v.data<T>();
    T* b = ptr<T>(buf);
    parallel_update(param.numel(), [&](int64_t lo, int64_t hi) { rmsprop_range<T>(p, g, vp, b, lo, hi, o); });
  });
}

}  // namespace

void register_cpu_optimizer_updates(KernelLists& lists) {
  lists.sgd_update.add(
      DeviceType::CPU, "cpu",
      [](const Tensor& p, const Tensor& g, const Tensor& b, const SgdStep&) {
        return declines_segments(p, g, b, Tensor());
      },
      sgd_cpu);
  // adam_update_f32 picks the widest SIMD itself, bit-identical in every ISA.
  lists.adam_update.add(
      DeviceType::CPU, "cpu",
      [](const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, const AdamStep&) {
        return declines_segments(p, g, m, v);
      },
      adam_cpu);
  lists.rmsprop_update.add(
      DeviceType::CPU, "cpu",
      [](const Tensor& p, const Tensor& g, const Tensor& v, const Tensor& b, const RmspropStep&) {
        return declines_segments(p, g, v, b);
      },
      rmsprop_cpu);
}

}  // namespace loom::kernels
