// Plain C++ element-wise kernels for f32/f64; the compiler vectorises the
// contiguous loops. Also the correctness reference for faster entries.
#include <cmath>

#include "cpu/cpu_common.h"
#include "cpu/kernels_cpu.h"
#include "loom/core/strided.h"
#include "loom/runtime/parallel.h"

namespace loom::kernels::cpu {
namespace {

constexpr int64_t kGrain = 1 << 15;  // elements per task: below this, threads cost more than they save

template <typename T>
inline T gelu(T x) {
  return static_cast<T>(0.5) * x * (1 + std::erf(x * static_cast<T>(M_SQRT1_2)));
}
template <typename T>
inline T gelu_grad(T x) {
  const T cdf = static_cast<T>(0.5) * (1 + std::erf(x * static_cast<T>(M_SQRT1_2)));
  const T pdf = std::exp(static_cast<T>(-0.5) * x * x) * static_cast<T>(0.3989422804014327);
  return cdf + x * pdf;
}

template <typename T, typename F>
void run_unary(const Tensor& src, const Tensor& dst, F f) {
  const T* s = static_cast<const T*>(src.raw_data());
  T* d = static_cast<T*>(dst.raw_data());
  if (src.is_contiguous() && dst.is_contiguous()) {
    runtime::parallel_for(0, dst.numel(), kGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i)
        d[i] = f(s[i]);
    });
    return;
  }
  StridedRuns<2> runs(dst.shape(), {dst.strides(), src.strides()});
  runs.for_each([&](const std::array<int64_t, 2>& o, int64_t n, const std::array<int64_t, 2>& st) {
    for (int64_t i = 0; i < n; ++i)
      d[o[0] + i * st[0]] = f(s[o[1] + i * st[1]]);
  });
}

template <typename T>
void unary_typed(UnaryOp op, const Tensor& src, const Tensor& dst, double alpha, double beta) {
  const T a = static_cast<T>(alpha), b = static_cast<T>(beta);
  switch (op) {
    case UnaryOp::neg:
      return run_unary<T>(src, dst, [](T x) { return -x; });
    case UnaryOp::relu:
      return run_unary<T>(src, dst, [](T x) { return x > 0 ? x : T(0); });
    case UnaryOp::gelu:
      return run_unary<T>(src, dst, [](T x) { return gelu(x); });
    case UnaryOp::tanh:
      return run_unary<T>(src, dst, [](T x) { return std::tanh(x); });
    case UnaryOp::sigmoid:
      return run_unary<T>(src, dst, [](T x) { return T(1) / (T(1) + std::exp(-x)); });
    case UnaryOp::exp:
      return run_unary<T>(src, dst, [](T x) { return std::exp(x); });
    case UnaryOp::log:
      return run_unary<T>(src, dst, [](T x) { return std::log(x); });
    case UnaryOp::sqrt:
      return run_unary<T>(src, dst, [](T x) { return std::sqrt(x); });
    case UnaryOp::rsqrt:
      return run_unary<T>(src, dst, [](T x) { return T(1) / std::sqrt(x); });
    case UnaryOp::abs:
      return run_unary<T>(src, dst, [](T x) { return std::abs(x); });
    case UnaryOp::square:
      return run_unary<T>(src, dst, [](T x) { return x * x; });
    case UnaryOp::reciprocal:
      return run_unary<T>(src, dst, [](T x) { return T(1) / x; });
    case UnaryOp::scale_shift:
      return run_unary<T>(src, dst, [=](T x) { return x * a + b; });
    case UnaryOp::pow:
      return run_unary<T>(src, dst, [=](T x) { return std::pow(x, a); });
    default:
      LOOM_ASSERT(false);
  }
}

template <typename T, typename F>
void run_binary(const Tensor& a, const Tensor& b, const Tensor& dst, F f) {
  const T* pa = static_cast<const T*>(a.raw_data());
  const T* pb = static_cast<const T*>(b.raw_data());
  T* d = static_cast<T*>(dst.raw_data());
  if (a.is_contiguous() && b.is_contiguous() && dst.is_contiguous()) {
    runtime::parallel_for(0, dst.numel(), kGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i)
        d[i] = f(pa[i], pb[i]);
    });
    return;
  }
  StridedRuns<3> runs(dst.shape(), {dst.strides(), a.strides(), b.strides()});
  runs.for_each([&](const std::array<int64_t, 3>& o, int64_t n, const std::array<int64_t, 3>& st) {
    T* dd = d + o[0];
    const T* aa = pa + o[1];
    const T* bb = pb + o[2];
    if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
      for (int64_t i = 0; i < n; ++i)
        dd[i] = f(aa[i], bb[i]);
    } else if (st[0] == 1 && st[1] == 1 && st[2] == 0) {
      const T bv = *bb;
      for (int64_t i = 0; i < n; ++i)
        dd[i] = f(aa[i], bv);
    } else if (st[0] == 1 && st[1] == 0 && st[2] == 1) {
      const T av = *aa;
      for (int64_t i = 0; i < n; ++i)
        dd[i] = f(av, bb[i]);
    } else {
      for (int64_t i = 0; i < n; ++i)
        dd[i * st[0]] = f(aa[i * st[1]], bb[i * st[2]]);
    }
  });
}

template <typename T>
void binary_typed(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& dst) {
  switch (op) {
    case BinaryOp::add:
      return run_binary<T>(a, b, dst, [](T x, T y) { return x + y; });
    case BinaryOp::sub:
      return run_binary<T>(a, b, dst, [](T x, T y) { return x - y; });
    case BinaryOp::mul:
      return run_binary<T>(a, b, dst, [](T x, T y) { return x * y; });
    case BinaryOp::div:
      return run_binary<T>(a, b, dst, [](T x, T y) { return x / y; });
    case BinaryOp::maximum:
      return run_binary<T>(a, b, dst, [](T x, T y) { return x > y ? x : y; });
    case BinaryOp::minimum:
      return run_binary<T>(a, b, dst, [](T x, T y) { return x < y ? x : y; });
    case BinaryOp::relu_backward:
      return run_binary<T>(a, b, dst, [](T g, T x) { return x > 0 ? g : T(0); });
    case BinaryOp::gelu_backward:
      return run_binary<T>(a, b, dst, [](T g, T x) { return g * gelu_grad(x); });
    case BinaryOp::tanh_backward:
      return run_binary<T>(a, b, dst, [](T g, T y) { return g * (1 - y * y); });
    case BinaryOp::sigmoid_backward:
      return run_binary<T>(a, b, dst, [](T g, T y) { return g * y * (1 - y); });
    case BinaryOp::greater:
      return run_binary<T>(a, b, dst, [](T x, T y) { return x > y ? T(1) : T(0); });
    case BinaryOp::equal:
      return run_binary<T>(a, b, dst, [](T x, T y) { return x == y ? T(1) : T(0); });
    default:
      LOOM_ASSERT(false);
  }
}

}  // namespace

void unary_reference(UnaryOp op, const Tensor& src, const Tensor& dst, double alpha, double beta) {
  dispatch_float(dst.dtype(), [&]<typename T>() { unary_typed<T>(op, src, dst, alpha, beta); });
}

void binary_reference(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& dst) {
  dispatch_float(dst.dtype(), [&]<typename T>() { binary_typed<T>(op, a, b, dst); });
}

}  // namespace loom::kernels::cpu
