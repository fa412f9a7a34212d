// Direct-loop convolution: the last entry of each conv list and the yardstick the
// tests compare the fast entries against. Accumulates in double.
#include "cpu/conv_kernels.h"
#include "cpu/cpu_common.h"
#include "loom/runtime/parallel.h"

namespace loom::kernels::cpu {

void conv2d_forward_reference(const Window2d& g, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y) {
  dispatch_float(x.dtype(), [&]<typename T>() {
    const T* src = static_cast<const T*>(x.raw_data());
    const T* wt = static_cast<const T*>(w.raw_data());
    const T* bias = b.defined() ? static_cast<const T*>(b.raw_data()) : nullptr;
    T* dst = static_cast<T*>(y.raw_data());
    runtime::parallel_for(0, g.n * g.oc, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t no = lo; no < hi; ++no) {
        const int64_t n = no / g.oc, o = no % g.oc;
        for (int64_t oy = 0; oy < g.oh; ++oy)
          for (int64_t ox = 0; ox < g.ow; ++ox) {
            double acc = bias ? double(bias[o]) : 0.0;
            for (int64_t c = 0; c < g.c; ++c)
              for (int64_t i = 0; i < g.kh; ++i) {
                const int64_t iy = oy * g.sh - g.ph + i;
                if (iy < 0 || iy >= g.h)
                  continue;
                for (int64_t j = 0; j < g.kw; ++j) {
                  const int64_t ix = ox * g.sw - g.pw + j;
                  if (ix >= 0 && ix < g.w)
                    acc += double(src[((n * g.c + c) * g.h + iy) * g.w + ix]) *
                           double(wt[((o * g.c + c) * g.kh + i) * g.kw + j]);
                }
              }
            dst[(no * g.oh + oy) * g.ow + ox] = static_cast<T>(acc);
          }
      }
    });
  });
}

void conv2d_backward_input_reference(const Window2d& g, const Tensor& gy, const Tensor& w, const Tensor& gx) {
  dispatch_float(gy.dtype(), [&]<typename T>() {
    const T* dy = static_cast<const T*>(gy.raw_data());
    const T* wt = static_cast<const T*>(w.raw_data());
    T* dx = static_cast<T*>(gx.raw_data());
    // Gathers, per input pixel, every (output pixel, tap) that read it: one writer each.
    runtime::parallel_for(0, g.n * g.c, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t nc = lo; nc < hi; ++nc) {
        const int64_t n = nc / g.c, c = nc % g.c;
        for (int64_t iy = 0; iy < g.h; ++iy)
          for (int64_t ix = 0; ix < g.w; ++ix) {
            double acc = 0;
            for (int64_t i = 0; i < g.kh; ++i) {
              const int64_t ty = iy + g.ph - i;
              if (ty < 0 || ty % g.sh != 0 || ty / g.sh >= g.oh)
                continue;
              for (int64_t j = 0; j < g.kw; ++j) {
                const int64_t tx = ix + g.pw - j;
                if (tx < 0 || tx % g.sw != 0 || tx / g.sw >= g.ow)
                  continue;
                for (int64_t o = 0; o < g.oc; ++o)
                  acc += double(dy[((n * g.oc + o) * g.oh + ty / g.sh) * g.ow + tx / g.sw]) *
                         double(wt[((o * g.c + c) * g.kh + i) * g.kw + j]);
              }
            }
            dx[(nc * g.h + iy) * g.w + ix] = static_cast<T>(acc);
          }
      }
    });
  });
}

void conv2d_backward_weight_reference(const Window2d& g, const Tensor& x, const Tensor& gy, const Tensor& gw) {
  dispatch_float(x.dtype(), [&]<typename T>() {
    const T* src = static_cast<const T*>(x.raw_data());
    const T* dy = static_cast<const T*>(gy.raw_data());
    T* dw = static_cast<T*>(gw.raw_data());
    const int64_t taps = g.c * g.kh * g.kw;
    runtime::parallel_for(0, g.oc * taps, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t e = lo; e < hi; ++e) {
        const int64_t o = e / taps, c = (e / (g.kh * g.kw)) % g.c, i = (e / g.kw) % g.kh, j = e % g.kw;
        double acc = 0;
        for (int64_t n = 0; n < g.n; ++n)
          for (int64_t oy = 0; oy < g.oh; ++oy) {
            const int64_t iy = oy * g.sh - g.ph + i;
            if (iy < 0 || iy >= g.h)
              continue;
            for (int64_t ox = 0; ox < g.ow; ++ox) {
              const int64_t ix = ox * g.sw - g.pw + j;
              if (ix >= 0 && ix < g.w)
                acc += double(src[((n * g.c + c) * g.h + iy) * g.w + ix]) *
                       double(dy[((n * g.oc + o) * g.oh + oy) * g.ow + ox]);
            }
          }
        dw[e] = static_cast<T>(acc);
      }
    });
  });
}

}  // namespace loom::kernels::cpu
