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
    int32_t* idx = argmax.defined() ? static_cast<int32_t*>(argmax.raw_data()) : nullptr;
    const bool two_by_two = g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0;
    runtime::parallel_for(0, g.n * g.c, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t nc = lo; nc < hi; ++nc) {
        const T* s = src + nc * g.h * g.w;
        if (two_by_two) {
          // The reference CNN's pooling. Selects instead of branches: which input
          // wins is data-dependent, and mispredicted branches cost more than the compares.
          for (int64_t oy = 0; oy < g.oh; ++oy) {
            const T* r0 = s + 2 * oy * g.w;
            const T* r1 = r0 + g.w;
            T* out = dst + nc * g.oh * g.ow + oy * g.ow;
            int32_t* out_idx = idx ? idx + nc * g.oh * g.ow + oy * g.ow : nullptr;
            for (int64_t ox = 0; ox < g.ow; ++ox) {
              // Offsets from compare results as integers: GCC keeps float selects as
              // branches. Ties go to the earlier element, as PyTorch.
              const T v0 = r0[2 * ox], v1 = r0[2 * ox + 1], v2 = r1[2 * ox], v3 = r1[2 * ox + 1];
              const int64_t top_right = v1 > v0, bottom_right = v3 > v2;
              const T top = v1 > v0 ? v1 : v0, bottom = v3 > v2 ? v3 : v2;
              const int64_t use_bottom = bottom > top;
              const int64_t off = top_right + use_bottom * (g.w + bottom_right - top_right);
              out[ox] = bottom > top ? bottom : top;
              if (out_idx)
                out_idx[ox] = static_cast<int32_t>(2 * oy * g.w + 2 * ox + off);
            }
          }
          continue;
        }
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
            if (idx)
              idx[o] = static_cast<int32_t>(at);
          }
      }
    });
  });
}

void max_pool2d_backward_reference(const Window2d& g, const Tensor& gy, const Tensor& argmax, const Tensor& gx) {
  dispatch_float(gy.dtype(), [&]<typename T>() {
    const T* s = static_cast<const T*>(gy.raw_data());
    const int32_t* idx = static_cast<const int32_t*>(argmax.raw_data());
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
