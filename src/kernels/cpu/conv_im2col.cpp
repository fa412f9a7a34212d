// Convolution as im2col + GEMM, in two work splits:
//  - im2col_gemm: one large GEMM over the whole batch. cols is [C*kh*kw, N*oh*ow],
//    so one GEMM per direction keeps OpenBLAS's threads busy.
//  - im2col_split (f32): the batch split statically over loom's threads, each
//    running im2col and a single-threaded GEMM per image of its own (ATen's
//    slow_conv2d). The output is written straight in NCHW, no transposes; weight
//    gradients are summed per thread and then reduced in thread order, so the bits
//    depend only on the thread count. The per-image GEMMs go through oneDNN's
//    sgemm with the calling thread's OpenMP count set to 1, because OpenBLAS's
//    pthreads build serialises concurrent multi-threaded calls on one lock.
#include <omp.h>

#include <oneapi/dnnl/dnnl.h>
#include <algorithm>
#include <cstring>
#include <vector>

#include "cpu/conv_kernels.h"
#include "cpu/cpu_common.h"
#include "cpu/kernels_cpu.h"
#include "loom/runtime/parallel.h"

namespace loom::kernels::cpu {
namespace {

// Output columns [lo, hi) whose input column ox * stride - pad + j falls inside
// [0, w): computed once per kernel column, so the inner loops have no bounds checks.
struct ValidRange {
  int64_t lo, hi;
};
ValidRange valid_columns(int64_t w, int64_t ow, int64_t stride, int64_t pad, int64_t j) {
  auto ceil_div = [](int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); };
  int64_t lo = std::max<int64_t>(0, ceil_div(pad - j, stride));
  int64_t hi = std::min<int64_t>(ow, ceil_div(w + pad - j, stride));
  return {lo, std::max(lo, hi)};
}

template <typename T>
void im2col(const Window2d& g, const T* x, T* cols) {
  const int64_t plane = g.oh * g.ow, row = g.n * plane;
  runtime::parallel_for(0, g.c * g.kh * g.kw, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t c = r / (g.kh * g.kw), i = (r / g.kw) % g.kh, j = r % g.kw;
      const ValidRange v = valid_columns(g.w, g.ow, g.sw, g.pw, j);
      T* dst = cols + r * row;
      for (int64_t n = 0; n < g.n; ++n) {
        const T* src = x + (n * g.c + c) * g.h * g.w;
        for (int64_t oy = 0; oy < g.oh; ++oy) {
          const int64_t iy = oy * g.sh - g.ph + i;
          T* d = dst + n * plane + oy * g.ow;
          if (iy < 0 || iy >= g.h) {
            std::memset(d, 0, sizeof(T) * g.ow);
            continue;
          }
          const T* s = src + iy * g.w - g.pw + j;  // s[ox * sw] is input column ox*sw - pw + j
          for (int64_t ox = 0; ox < v.lo; ++ox)
            d[ox] = T(0);
          if (g.sw == 1) {
            std::memcpy(d + v.lo, s + v.lo, sizeof(T) * (v.hi - v.lo));
          } else {
            for (int64_t ox = v.lo; ox < v.hi; ++ox)
              d[ox] = s[ox * g.sw];
          }
          for (int64_t ox = v.hi; ox < g.ow; ++ox)
            d[ox] = T(0);
        }
      }
    }
  });
}

// gx[n, c] += cols rows (c, i, j) of image n; each (n, c) plane has one writer.
template <typename T>
void col2im(const Window2d& g, const T* cols, T* gx) {
  const int64_t plane = g.oh * g.ow, row = g.n * plane;
  runtime::parallel_for(0, g.n * g.c, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t nc = lo; nc < hi; ++nc) {
      const int64_t n = nc / g.c, c = nc % g.c;
      T* dst = gx + nc * g.h * g.w;
      std::memset(dst, 0, sizeof(T) * g.h * g.w);
      for (int64_t i = 0; i < g.kh; ++i)
        for (int64_t j = 0; j < g.kw; ++j) {
          const ValidRange v = valid_columns(g.w, g.ow, g.sw, g.pw, j);
          const T* src = cols + ((c * g.kh + i) * g.kw + j) * row + n * plane;
          for (int64_t oy = 0; oy < g.oh; ++oy) {
            const int64_t iy = oy * g.sh - g.ph + i;
            if (iy < 0 || iy >= g.h)
              continue;
            T* d = dst + iy * g.w - g.pw + j;
            const T* s = src + oy * g.ow;
            if (g.sw == 1) {
              for (int64_t ox = v.lo; ox < v.hi; ++ox)
                d[ox] += s[ox];
            } else {
              for (int64_t ox = v.lo; ox < v.hi; ++ox)
                d[ox * g.sw] += s[ox];
            }
          }
        }
    }
  });
}

GemmArgs make_gemm(DType dtype, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const void* a, int64_t lda,
                   const void* b, int64_t ldb, void* c, int64_t ldc) {
  GemmArgs args;
  args.set_dtypes(dtype);
  args.trans_a = ta;
  args.trans_b = tb;
  args.m = m;
  args.n = n;
  args.k = k;
  args.a = a;
  args.lda = lda;
  args.b = b;
  args.ldb = ldb;
  args.c = c;
  args.ldc = ldc;
  return args;
}

}  // namespace

void conv2d_forward_im2col(const Window2d& g, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y) {
  const int64_t K = g.c * g.kh * g.kw, P = g.n * g.oh * g.ow, plane = g.oh * g.ow;
  dispatch_float(x.dtype(), [&]<typename T>() {
    Tensor cols = Tensor::empty({K, P}, x.dtype());
    im2col<T>(g, static_cast<const T*>(x.raw_data()), cols.data<T>());
    Tensor out = Tensor::empty({g.oc, P}, x.dtype());  // [oc, n*oh*ow]
    gemm_kernels()(
        make_gemm(x.dtype(), false, false, g.oc, P, K, w.raw_data(), K, cols.raw_data(), P, out.raw_data(), P));
    const T* o = out.data<T>();
    const T* bias = b.defined() ? static_cast<const T*>(b.raw_data()) : nullptr;
    T* dst = static_cast<T*>(y.raw_data());
    runtime::parallel_for(0, g.n * g.oc, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t nc = lo; nc < hi; ++nc) {
        const int64_t n = nc / g.oc, c = nc % g.oc;
        const T* s = o + c * P + n * plane;
        T* d = dst + nc * plane;
        const T bv = bias ? bias[c] : T(0);
        for (int64_t p = 0; p < plane; ++p)
          d[p] = s[p] + bv;
      }
    });
  });
}

// [n, oc, plane] -> [oc, n*plane], the layout the GEMMs want.
template <typename T>
static Tensor channels_first(const Window2d& g, const Tensor& gy) {
  const int64_t plane = g.oh * g.ow, P = g.n * plane;
  Tensor out = Tensor::empty({g.oc, P}, gy.dtype());
  const T* s = static_cast<const T*>(gy.raw_data());
  T* d = out.data<T>();
  runtime::parallel_for(0, g.n * g.oc, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t nc = lo; nc < hi; ++nc) {
      const int64_t n = nc / g.oc, c = nc % g.oc;
      std::memcpy(d + c * P + n * plane, s + nc * plane, sizeof(T) * plane);
    }
  });
  return out;
}

void conv2d_backward_input_col2im(const Window2d& g, const Tensor& gy, const Tensor& w, const Tensor& gx) {
  const int64_t K = g.c * g.kh * g.kw, P = g.n * g.oh * g.ow;
  dispatch_float(gy.dtype(), [&]<typename T>() {
    Tensor gyc = channels_first<T>(g, gy);
    Tensor cols = Tensor::empty({K, P}, gy.dtype());
    gemm_kernels()(
        make_gemm(gy.dtype(), true, false, K, P, g.oc, w.raw_data(), K, gyc.raw_data(), P, cols.raw_data(), P));
    col2im<T>(g, cols.data<T>(), static_cast<T*>(gx.raw_data()));
  });
}

void conv2d_backward_weight_im2col(const Window2d& g, const Tensor& x, const Tensor& gy, const Tensor& gw) {
  const int64_t K = g.c * g.kh * g.kw, P = g.n * g.oh * g.ow;
  dispatch_float(x.dtype(), [&]<typename T>() {
    Tensor gyc = channels_first<T>(g, gy);
    Tensor cols = Tensor::empty({K, P}, x.dtype());
    im2col<T>(g, static_cast<const T*>(x.raw_data()), cols.data<T>());
    gemm_kernels()(
        make_gemm(x.dtype(), false, true, g.oc, K, P, gyc.raw_data(), P, cols.raw_data(), P, gw.raw_data(), K));
  });
}

namespace {

void sgemm_serial(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                  int64_t ldb, float beta, float* c, int64_t ldc) {
  const dnnl_status_t st = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
  LOOM_ASSERT(st == dnnl_success);
}

Window2d one_image(Window2d g) {
  g.n = 1;
  return g;
}

}  // namespace

std::string conv2d_split_declines(const Tensor& first) {
  if (!first.device().is_cpu())
    return "tensor is on " + first.device().str();
  if (first.dtype() != DType::f32)
    return std::string("dtype ") + dtype_name(first.dtype()) + " (the per-image GEMM is f32 only)";
  return "";
}

void conv2d_forward_split(const Window2d& g, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y) {
  const int64_t K = g.c * g.kh * g.kw, plane = g.oh * g.ow, in_image = g.c * g.h * g.w;
  const Window2d g1 = one_image(g);
  const float* src = static_cast<const float*>(x.raw_data());
  const float* wt = static_cast<const float*>(w.raw_data());
  const float* bias = b.defined() ? static_cast<const float*>(b.raw_data()) : nullptr;
  float* dst = static_cast<float*>(y.raw_data());
  for_each_batch_slice(g.n, batch_parts(g.n), [&](int64_t, int64_t lo, int64_t hi) {
    std::vector<float> cols(static_cast<size_t>(K * plane));
    for (int64_t n = lo; n < hi; ++n) {
      im2col<float>(g1, src + n * in_image, cols.data());
      float* out = dst + n * g.oc * plane;
      sgemm_serial(false, false, g.oc, plane, K, wt, K, cols.data(), plane, 0.0f, out, plane);
      if (bias) {
        for (int64_t c = 0; c < g.oc; ++c)
          for (int64_t p = 0; p < plane; ++p)
            out[c * plane + p] += bias[c];
      }
    }
  });
}

void conv2d_backward_input_split(const Window2d& g, const Tensor& gy, const Tensor& w, const Tensor& gx) {
  const int64_t K = g.c * g.kh * g.kw, plane = g.oh * g.ow, in_image = g.c * g.h * g.w;
  const Window2d g1 = one_image(g);
  const float* src = static_cast<const float*>(gy.raw_data());
  const float* wt = static_cast<const float*>(w.raw_data());
  float* dst = static_cast<float*>(gx.raw_data());
  for_each_batch_slice(g.n, batch_parts(g.n), [&](int64_t, int64_t lo, int64_t hi) {
    std::vector<float> cols(static_cast<size_t>(K * plane));
    for (int64_t n = lo; n < hi; ++n) {
      sgemm_serial(true, false, K, plane, g.oc, wt, K, src + n * g.oc * plane, plane, 0.0f, cols.data(), plane);
      col2im<float>(g1, cols.data(), dst + n * in_image);
    }
  });
}

void conv2d_backward_weight_split(const Window2d& g, const Tensor& x, const Tensor& gy, const Tensor& gw) {
  const int64_t K = g.c * g.kh * g.kw, plane = g.oh * g.ow, in_image = g.c * g.h * g.w, size = g.oc * K;
  const Window2d g1 = one_image(g);
  const float* src = static_cast<const float*>(x.raw_data());
  const float* dy = static_cast<const float*>(gy.raw_data());
  float* dw = static_cast<float*>(gw.raw_data());
  const int64_t parts = batch_parts(g.n);
  // Slice 0 sums into gw itself, the others into their own buffers.
  std::vector<float> partial(static_cast<size_t>((parts - 1) * size));
  for_each_batch_slice(g.n, parts, [&](int64_t t, int64_t lo, int64_t hi) {
    float* acc = t == 0 ? dw : partial.data() + (t - 1) * size;
    if (lo == hi)
      std::memset(acc, 0, sizeof(float) * size);
    std::vector<float> cols(static_cast<size_t>(K * plane));
    for (int64_t n = lo; n < hi; ++n) {
      im2col<float>(g1, src + n * in_image, cols.data());
      sgemm_serial(false, true, g.oc, K, plane, dy + n * g.oc * plane, plane, cols.data(), plane, n == lo ? 0.0f : 1.0f,
                   acc, K);
    }
  });
  for (int64_t t = 1; t < parts; ++t) {
    const float* p = partial.data() + (t - 1) * size;
    for (int64_t i = 0; i < size; ++i)
      dw[i] += p[i];
  }
}

}  // namespace loom::kernels::cpu
