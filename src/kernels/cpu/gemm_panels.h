#pragma once
// Splitting one GEMM into panels over loom's pool (NOTE [GEMM panels]).
#include <algorithm>
#include <cstdint>

#include "cpu/omp_threads.h"
#include "loom/kernels/gemm.h"
#include "loom/runtime/parallel.h"

namespace loom::kernels::cpu {

// NOTE [GEMM panels]
// loom's pool is the only thread pool that computes: OpenBLAS stays at one thread
// (its own server threads spin in sched_yield after each call and would fight
// loom's workers for the cores) and oneDNN at one OpenMP thread. A GEMM is split
// into column panels of C (or row panels when C is taller than wide), one per
// pool thread, each a one-thread library call over the whole K. An element of C is
// computed the same way whatever the thread count, unless the panels' shape makes
// the kernel list pick the other library (NOTE [oneDNN sgemm]).

// Below this many multiply-adds a GEMM is not worth waking a second thread.
constexpr int64_t kMinMacsPerThread = int64_t{1} << 17;
// Panels are whole multiples of 16 columns (one AVX-512 register of floats).
constexpr int64_t kPanelAlign = 16;

// How a GEMM is cut: `pieces` panels of `width` columns (or rows) of C, the last
// possibly narrower; one piece when a split does not pay or the caller is already
// inside a parallel region. panel_m x panel_n is the first panel's shape, which the
// kernel list judges the libraries by (NOTE [oneDNN sgemm]).
struct PanelSplit {
  bool by_columns = true;
  int64_t pieces = 1, width = 0;
  int64_t panel_m = 0, panel_n = 0;
};

inline PanelSplit split_panels(const GemmArgs& g) {
  PanelSplit s;
  s.by_columns = g.n >= g.m;
  const int64_t extent = s.by_columns ? g.n : g.m;
  s.width = extent;
  int64_t parts = std::min<int64_t>(runtime::num_threads(), std::max<int64_t>(1, g.m * g.n * g.k / kMinMacsPerThread));
  parts = std::min(parts, std::max<int64_t>(1, extent / kPanelAlign));
  if (parts > 1 && !runtime::in_parallel_region()) {
    const int64_t panel = (extent + parts - 1) / parts;
    s.width = (panel + kPanelAlign - 1) / kPanelAlign * kPanelAlign;
    s.pieces = (extent + s.width - 1) / s.width;
  }
  s.panel_m = s.by_columns ? g.m : std::min(s.width, g.m);
  s.panel_n = s.by_columns ? std::min(s.width, g.n) : g.n;
  return s;
}

// call(m, n, a, b, c) computes one panel with the arguments' transposes, leading
// dimensions, alpha and beta; T is the element type.
template <typename T, typename Call>
void gemm_in_panels(const GemmArgs& g, const T* a, const T* b, T* c, Call&& call) {
  const PanelSplit s = split_panels(g);
  if (s.pieces <= 1) {
    call(g.m, g.n, a, b, c);
    return;
  }
  const int64_t extent = s.by_columns ? g.n : g.m;
  runtime::parallel_for(0, s.pieces, 1, [&](int64_t lo, int64_t hi) {
    OmpThreads serial(1);
    for (int64_t p = lo; p < hi; ++p) {
      const int64_t begin = p * s.width, len = std::min(s.width, extent - begin);
      if (s.by_columns) {  // columns [begin, begin + len) of op(B) and C
        call(g.m, len, a, g.trans_b ? b + begin * g.ldb : b + begin, c + begin);
      } else {  // rows [begin, begin + len) of op(A) and C
        call(len, g.n, g.trans_a ? a + begin : a + begin * g.lda, b, c + begin * g.ldc);
      }
    }
  });
}

}  // namespace loom::kernels::cpu
