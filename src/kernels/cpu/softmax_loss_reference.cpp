#include <cmath>
#include <cstring>
#include <limits>

#include "cpu/cpu_common.h"
#include "cpu/kernels_cpu.h"
#include "loom/runtime/parallel.h"

namespace loom::kernels::cpu {

void softmax_forward_reference(const Tensor& src, const Tensor& dst, bool log) {
  const int64_t cols = src.size(-1), rows = src.numel() / std::max<int64_t>(cols, 1);
  dispatch_float(src.dtype(), [&]<typename T>() {
    const T* s = static_cast<const T*>(src.raw_data());
    T* d = static_cast<T*>(dst.raw_data());
    runtime::parallel_for(0, rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(cols, 1)),
                          [&](int64_t lo, int64_t hi) {
                            for (int64_t r = lo; r < hi; ++r) {
                              const T* x = s + r * cols;
                              T* y = d + r * cols;
                              T m = -std::numeric_limits<T>::infinity();
                              for (int64_t j = 0; j < cols; ++j)
                                m = x[j] > m ? x[j] : m;
                              T sum = 0;
                              for (int64_t j = 0; j < cols; ++j)
                                sum += std::exp(x[j] - m);
                              if (log) {
                                const T lse = m + std::log(sum);
                                for (int64_t j = 0; j < cols; ++j)
                                  y[j] = x[j] - lse;
                              } else {
                                const T inv = T(1) / sum;
                                for (int64_t j = 0; j < cols; ++j)
                                  y[j] = std::exp(x[j] - m) * inv;
                              }
                            }
                          });
  });
}

void softmax_backward_reference(const Tensor& y, const Tensor& gy, const Tensor& gx, bool log) {
  const int64_t cols = y.size(-1), rows = y.numel() / std::max<int64_t>(cols, 1);
  dispatch_float(y.dtype(), [&]<typename T>() {
    const T* ys = static_cast<const T*>(y.raw_data());
    const T* gs = static_cast<const T*>(gy.raw_data());
    T* d = static_cast<T*>(gx.raw_data());
    runtime::parallel_for(0, rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(cols, 1)),
                          [&](int64_t lo, int64_t hi) {
                            for (int64_t r = lo; r < hi; ++r) {
                              const T* yr = ys + r * cols;
                              const T* g = gs + r * cols;
                              T* o = d + r * cols;
                              if (log) {  // dx = g - softmax * sum(g)
                                T sum = 0;
                                for (int64_t j = 0; j < cols; ++j)
                                  sum += g[j];
                                for (int64_t j = 0; j < cols; ++j)
                                  o[j] = g[j] - std::exp(yr[j]) * sum;
                              } else {  // dx = y * (g - sum(g * y))
                                T dot = 0;
                                for (int64_t j = 0; j < cols; ++j)
                                  dot += g[j] * yr[j];
                                for (int64_t j = 0; j < cols; ++j)
                                  o[j] = yr[j] * (g[j] - dot);
                              }
                            }
                          });
  });
}

void nll_loss_forward_reference(const Tensor& logp, const Tensor& target, const Tensor& loss) {
  const int64_t n = logp.size(0), c = logp.size(1);
  const int64_t* t = static_cast<const int64_t*>(target.raw_data());
  dispatch_float(logp.dtype(), [&]<typename T>() {
    const T* lp = static_cast<const T*>(logp.raw_data());
    double acc = 0;
    for (int64_t i = 0; i < n; ++i) {
      LOOM_CHECK(t[i] >= 0 && t[i] < c, "nll_loss: target ", t[i], " at position ", i, " is out of range for ", c,
                 " classes");
      acc -= lp[i * c + t[i]];
    }
    *static_cast<T*>(loss.raw_data()) = static_cast<T>(n > 0 ? acc / n : 0.0);
  });
}

void nll_loss_backward_reference(const Tensor& grad, const Tensor& target, const Tensor& glogp) {
  const int64_t n = glogp.size(0), c = glogp.size(1);
  const int64_t* t = static_cast<const int64_t*>(target.raw_data());
  dispatch_float(glogp.dtype(), [&]<typename T>() {
    T* g = static_cast<T*>(glogp.raw_data());
    std::memset(g, 0, sizeof(T) * n * c);
    const T v = -static_cast<T>(load_as_double(grad.raw_data(), grad.dtype(), 0)) / static_cast<T>(n);
    for (int64_t i = 0; i < n; ++i)
      g[i * c + t[i]] = v;
  });
}

void index_select_rows_reference(const Tensor& table, const Tensor& index, const Tensor& dst) {
  const int64_t v = table.size(0), d = table.size(1), k = index.numel();
  const int64_t* idx = static_cast<const int64_t*>(index.raw_data());
  for (int64_t i = 0; i < k; ++i) {
    if (idx[i] < 0 || idx[i] >= v) {
      LOOM_THROW(IndexError, "embedding: index ", idx[i], " at position ", i, " is out of range for a table of ", v,
                 " rows");
    }
  }
  const size_t es = dtype_size(table.dtype());
  const char* s = static_cast<const char*>(table.raw_data());
  char* o = static_cast<char*>(dst.raw_data());
  runtime::parallel_for(0, k, 64, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i)
      std::memcpy(o + i * d * es, s + idx[i] * d * es, d * es);
  });
}

void index_add_rows_reference(const Tensor& src, const Tensor& index, const Tensor& dst) {
  const int64_t d = src.size(1), k = index.numel();
  const int64_t* idx = static_cast<const int64_t*>(index.raw_data());
  dispatch_float(src.dtype(), [&]<typename T>() {
    const T* s = static_cast<const T*>(src.raw_data());
    T* o = static_cast<T*>(dst.raw_data());
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < d; ++j)
        o[idx[i] * d + j] += s[i * d + j];
  });
}

}  // namespace loom::kernels::cpu
