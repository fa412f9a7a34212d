// parallel_for dispatch: loom's work-stealing pool vs OpenMP `parallel for` vs
// oneTBB parallel_for, side by side, on an empty body and on small bodies.
//
//   build-pool/bench/bm_parallel_for --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//
// Arguments are {elements, threads}; elements 0 means an empty body over one
// index per thread (pure dispatch cost). Bodies add two float arrays into a third
// (1k and 64k elements). Every implementation splits the range into `threads`
// equal static chunks, so they do the same work; real time is what counts (the
// work runs on other threads).
#include <benchmark/benchmark.h>
#include <omp.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "loom/runtime/parallel.h"

namespace {

struct Arrays {
  explicit Arrays(int64_t n)
      : a(static_cast<size_t>(n), 1.0f), b(static_cast<size_t>(n), 2.0f), c(static_cast<size_t>(n)) {}
  std::vector<float> a, b, c;
};

// One out-of-line body for all three, so they run the same machine code and
// only the dispatch differs.
__attribute__((noinline)) void add_range(Arrays& x, int64_t lo, int64_t hi) {
  const float* a = x.a.data();
  const float* b = x.b.data();
  float* c = x.c.data();
  for (int64_t i = lo; i < hi; ++i)
    c[i] = a[i] + b[i];
}

void BM_Loom(benchmark::State& state) {
  const int64_t n = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  loom::runtime::set_num_threads(threads);
  Arrays x(n);
  if (n == 0) {
    for (auto _ : state)
      loom::runtime::parallel_for(0, threads, 1, [](int64_t lo, int64_t) { benchmark::DoNotOptimize(lo); });
  } else {
    for (auto _ : state) {
      loom::runtime::parallel_for(0, n, 1, [&](int64_t lo, int64_t hi) { add_range(x, lo, hi); });
      benchmark::ClobberMemory();
    }
  }
}

void BM_OpenMP(benchmark::State& state) {
  const int64_t n = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  Arrays x(n);
  if (n == 0) {
    for (auto _ : state) {
#pragma omp parallel for num_threads(threads) schedule(static)
      for (int64_t i = 0; i < threads; ++i)
        benchmark::DoNotOptimize(i);
    }
  } else {
    for (auto _ : state) {
#pragma omp parallel num_threads(threads)
      {
        // The same equal static chunks as loom's split.
        const int64_t t = omp_get_thread_num(), parts = omp_get_num_threads();
        const int64_t base = n / parts, extra = n % parts;
        const int64_t lo = t * base + std::min(t, extra);
        add_range(x, lo, lo + base + (t < extra ? 1 : 0));
      }
      benchmark::ClobberMemory();
    }
  }
}

void BM_TBB(benchmark::State& state) {
  const int64_t n = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  Arrays x(n);
  tbb::task_arena arena(threads);
  const int64_t range = n == 0 ? threads : n;
  const int64_t grain = (range + threads - 1) / threads;
  for (auto _ : state) {
    arena.execute([&] {
      tbb::parallel_for(
          tbb::blocked_range<int64_t>(0, range, grain),
          [&](const tbb::blocked_range<int64_t>& r) {
            if (n == 0)
              benchmark::DoNotOptimize(r.begin());
            else
              add_range(x, r.begin(), r.end());
          },
          tbb::static_partitioner());
    });
    benchmark::ClobberMemory();
  }
}

// Interleaved per size, so one run gives the ratios under the same machine load.
void register_all() {
  for (int64_t n : {int64_t{0}, int64_t{1024}, int64_t{65536}}) {
    for (int64_t t : {1, 2}) {
      benchmark::RegisterBenchmark("parallel_for/loom", BM_Loom)->Args({n, t})->UseRealTime();
      benchmark::RegisterBenchmark("parallel_for/openmp", BM_OpenMP)->Args({n, t})->UseRealTime();
      benchmark::RegisterBenchmark("parallel_for/tbb", BM_TBB)->Args({n, t})->UseRealTime();
    }
  }
}

const bool registered = (register_all(), true);

}  // namespace
