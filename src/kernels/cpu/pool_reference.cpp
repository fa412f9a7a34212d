#include <cstring>
#include <limits>

#include "cpu/cpu_common.h"
#include "cpu/kernels_cpu.h"
#include "loom/runtime/parallel.h"

namespace loom::kernels::cpu {

// Every kernel here works on whole (n, c) planes, one thread per plane.

void max_pool2d_forward_reference(const Window2d& g, const Tensor& x, const Tensor& y, const Tensor& argmax) {
  dispatch_float(x.dtype(), [&]<typename T>() {
    const T* src = static_cast<const T*>(x.raw_data());
    T* dst = static_cast<T*>(y.raw_data());
    int64_t* idx = static_cast<int64_t*>(argmax.raw_data());
    runtime::parallel_for(0, g.n * g.c, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t nc = lo; nc < hi; ++nc) {
        const T* s = src + nc * g.h * g.w;
        for (int64_t oy = 0; oy < g.oh; ++oy)
          for (int64_t ox = 0; ox < g.ow; ++ox) {
            T best = -std::numeric_limits<T>::infinity();
            int64_t at = -1;
            for (int64_t i = 0; i < g.kh; ++i) {
              const int64_t iy = oy * g.sh - g.ph + i;
              if (iy < 0 || iy >= g.h)
                continue;
              for (int64_t j = 0; j < g.kw; ++j) {
                const int64_t ix = ox * g.sw - g.pw + j;
                if (ix < 0 || ix >= g.w)
                  continue;
                const T v = s[iy * g.w + ix];
                if (at < 0 || v > best) {
                  best = v;
                  at = iy * g.w + ix;
                }
              }
            }
            const int64_t o = nc * g.oh * g.ow + oy * g.ow + ox;
            dst[o] = best;
            idx[o] = at;
          }
      }
    });
  });
}

void max_pool2d_backward_reference(const Window2d& g, const Tensor& gy, const Tensor& argmax, const Tensor& gx) {
  dispatch_float(gy.dtype(), [&]<typename T>() {
    const T* s = static_cast<const T*>(gy.raw_data());
    const int64_t* idx = static_cast<const int64_t*>(argmax.raw_data());
    T* d = static_cast<T*>(gx.raw_data());
    runtime::parallel_for(0, g.n * g.c, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t nc = lo; nc < hi; ++nc) {
        T* plane = d + nc * g.h * g.w;
        std::memset(plane, 0, sizeof(T) * g.h * g.w);
        for (int64_t o = nc * g.oh * g.ow, e = o + g.oh * g.ow; o < e; ++o) {
          if (idx[o] >= 0)
            plane[idx[o]] += s[o];
        }
      }
    });
  });
}

void avg_pool2d_forward_reference(const Window2d& g, const Tensor& x, const Tensor& y) {
  dispatch_float(x.dtype(), [&]<typename T>() {
    const T* src = static_cast<const T*>(x.raw_data());
    T* dst = static_cast<T*>(y.raw_data());
    const T inv = T(1) / static_cast<T>(g.kh * g.kw);
    runtime::parallel_for(0, g.n * g.c, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t nc = lo; nc < hi; ++nc) {
        const T* s = src + nc * g.h * g.w;
        for (int64_t oy = 0; oy < g.oh; ++oy)
          for (int64_t ox = 0; ox < g.ow; ++ox) {
            T acc = 0;
            for (int64_t i = 0; i < g.kh; ++i) {
              const int64_t iy = oy * g.sh - g.ph + i;
              if (iy < 0 || iy >= g.h)
                continue;
              for (int64_t j = 0; j < g.kw; ++j) {
                const int64_t ix = ox * g.sw - g.pw + j;
                if (ix >= 0 && ix < g.w)
                  acc += s[iy * g.w + ix];
              }
            }
            dst[nc * g.oh * g.ow + oy * g.ow + ox] = acc * inv;
          }
      }
    });
  });
}

void avg_pool2d_backward_reference(const Window2d& g, const Tensor& gy, const Tensor& gx) {
  dispatch_float(gy.dtype(), [&]<typename T>() {
    const T* s = static_cast<const T*>(gy.raw_data());
    T* d = static_cast<T*>(gx.raw_data());
    const T inv = T(1) / static_cast<T>(g.kh * g.kw);
    runtime::parallel_for(0, g.n * g.c, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t nc = lo; nc < hi; ++nc) {
        T* plane = d + nc * g.h * g.w;
        std::memset(plane, 0, sizeof(T) * g.h * g.w);
        for (int64_t oy = 0; oy < g.oh; ++oy)
          for (int64_t ox = 0; ox < g.ow; ++ox) {
            const T v = s[nc * g.oh * g.ow + oy * g.ow + ox] * inv;
            for (int64_t i = 0; i < g.kh; ++i) {
              const int64_t iy = oy * g.sh - g.ph + i;
              if (iy < 0 || iy >= g.h)
                continue;
              for (int64_t j = 0; j < g.kw; ++j) {
                const int64_t ix = ox * g.sw - g.pw + j;
                if (ix >= 0 && ix < g.w)
                  plane[iy * g.w + ix] += v;
              }
            }
          }
      }
    });
  });
}

}  // namespace loom::kernels::cpu
