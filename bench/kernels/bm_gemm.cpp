// GEMM through loom's kernel list against calling OpenBLAS directly, against
// splitting the GEMM over loom's pool with OpenBLAS at one thread per piece, and
// against the reference kernel, at the shapes of the reference models' layers
// (forward and both backward GEMMs), at 1 and 2 threads.
//   build-simd/bench/bm_gemm --benchmark_counters_tabular=true
//   OPENBLAS_CORETYPE=SkylakeX build-simd/bench/bm_gemm ...   (OpenBLAS's AVX-512 kernels)
// "peak" is the fraction of the CPU's f32 FMA peak at that thread count: one core's
// FMA throughput measured at start-up (LOOM_PEAK_GFLOPS_PER_CORE overrides it) times threads.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <immintrin.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "loom/autograd/ops.h"
#include "loom/core/generator.h"
#include "loom/kernels/gemm.h"
#include "loom/runtime/parallel.h"

namespace {

// The core's f32 FMA throughput, measured: 16 independent chains of AVX-512 (or
// AVX2) FMAs for ~50 ms of this thread's CPU time (so time the thread was
// descheduled does not count), at whatever clock boost the CPU runs.
double thread_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// One FMA-peak loop per ISA. A macro, because each needs its own target attribute
// and its own intrinsics, and GCC 12 carries neither into a template or lambda.
#define LOOM_FMA_PEAK(name, isa, Vec, set1, fmadd, add, lanes)           \
  __attribute__((target(isa))) double name() {                           \
    Vec acc[16];                                                         \
    for (int i = 0; i < 16; ++i)                                         \
      acc[i] = set1(static_cast<float>(i));                              \
    const Vec a = set1(0.999999f), b = set1(1e-7f);                      \
    const double start = thread_seconds();                               \
    int64_t rounds = 0;                                                  \
    double seconds = 0;                                                  \
    do {                                                                 \
      for (int r = 0; r < 4096; ++r)                                     \
        for (int i = 0; i < 16; ++i)                                     \
          acc[i] = fmadd(acc[i], a, b);                                  \
      rounds += 4096;                                                    \
      seconds = thread_seconds() - start;                                \
    } while (seconds < 0.05);                                            \
    Vec sum = acc[0];                                                    \
    for (int i = 1; i < 16; ++i)                                         \
      sum = add(sum, acc[i]);                                            \
    benchmark::DoNotOptimize(sum);                                       \
    return static_cast<double>(rounds) * 16 * (lanes)*2 / seconds / 1e9; \
  }

LOOM_FMA_PEAK(fma_gflops_avx512, "avx512f", __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, 16)
LOOM_FMA_PEAK(fma_gflops_avx2, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, 8)
#undef LOOM_FMA_PEAK

// LOOM_PEAK_GFLOPS_PER_CORE overrides the measurement.
double peak_per_core() {
  static const double peak = [] {
    if (const char* v = std::getenv("LOOM_PEAK_GFLOPS_PER_CORE"))
      return std::atof(v);
    double best = 0;
    for (int i = 0; i < 3; ++i)
      best = std::max(best, __builtin_cpu_supports("avx512f") ? fma_gflops_avx512() : fma_gflops_avx2());
    std::fprintf(stderr, "measured f32 FMA peak: %.1f GFLOP/s per core\n", best);
    return best;
  }();
  return peak;
}

struct Problem {
  int64_t m, n, k;
  bool ta, tb;
  loom::Tensor a, b, c;
  explicit Problem(const benchmark::State& s)
      : m(s.range(0)), n(s.range(1)), k(s.range(2)), ta(s.range(3) & 1), tb(s.range(3) & 2) {
    loom::Generator g(1);
    a = g.normal_tensor(ta ? loom::Shape{k, m} : loom::Shape{m, k}, 0, 1);
    b = g.normal_tensor(tb ? loom::Shape{n, k} : loom::Shape{k, n}, 0, 1);
    c = loom::Tensor::zeros({m, n});
  }
  int64_t lda() const { return ta ? m : k; }
  int64_t ldb() const { return tb ? k : n; }
  loom::kernels::GemmArgs args() const {
    loom::kernels::GemmArgs g;
    g.trans_a = ta;
    g.trans_b = tb;
    g.m = m;
    g.n = n;
    g.k = k;
    g.a = a.raw_data();
    g.lda = lda();
    g.b = b.raw_data();
    g.ldb = ldb();
    g.c = c.raw_data();
    g.ldc = n;
    return g;
  }
  void sgemm(int64_t n0, int64_t n1) const {  // columns [n0, n1) of C
    const float* bp = b.data<float>() + (tb ? n0 * k : n0);
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n1 - n0, k, 1.0f,
                a.data<float>(), lda(), bp, ldb(), 0.0f, c.data<float>() + n0, n);
  }
};

void finish(benchmark::State& state, const Problem& p, int threads) {
  const double flops = 2.0 * p.m * p.n * p.k;
  state.counters["GFLOP/s"] = benchmark::Counter(flops * state.iterations() / 1e9, benchmark::Counter::kIsRate);
  state.counters["peak"] =
      benchmark::Counter(flops * state.iterations() / 1e9 / (peak_per_core() * threads), benchmark::Counter::kIsRate);
  state.SetLabel(std::string(openblas_get_corename()) + " " + std::to_string(threads) + "t");
}

// loom: the gemm kernel list (what matmul, linear and im2col call), with loom's
// thread budget (which also sets OpenBLAS's threads).
void BM_Loom(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(4));
  loom::runtime::set_num_threads(threads);
  Problem p(state);
  const auto args = p.args();
  for (auto _ : state) {
    loom::kernels::gemm_kernels()(args);
    benchmark::ClobberMemory();
  }
  finish(state, p, threads);
}

// cblas_sgemm called directly, OpenBLAS's own threads.
void BM_OpenBlas(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(4));
  loom::runtime::set_num_threads(threads);
  openblas_set_num_threads(threads);
  Problem p(state);
  for (auto _ : state) {
    p.sgemm(0, p.n);
    benchmark::ClobberMemory();
  }
  finish(state, p, threads);
}

// OpenBLAS at one thread per piece, the columns of C split over loom's pool
// (pieces a multiple of 16 columns wide).
void BM_PoolSplit(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(4));
  loom::runtime::set_num_threads(threads);
  openblas_set_num_threads(1);
  Problem p(state);
  const int64_t blocks = (p.n + 15) / 16;
  for (auto _ : state) {
    loom::runtime::parallel_for(0, blocks, 1,
                                [&](int64_t lo, int64_t hi) { p.sgemm(lo * 16, std::min(p.n, hi * 16)); });
    benchmark::ClobberMemory();
  }
  finish(state, p, threads);
  openblas_set_num_threads(threads);
}

// The reference entry (naive loops, double accumulation): the correctness baseline.
void BM_Reference(benchmark::State& state) {
  Problem p(state);
  const auto args = p.args();
  const auto& ref = loom::kernels::gemm_kernels().entries().back();
  for (auto _ : state) {
    ref.run(args);
    benchmark::ClobberMemory();
  }
  finish(state, p, 1);
}

// Registered shape by shape, the variants next to each other, so each ratio comes
// from back-to-back runs (these machines are shared and noisy).
const int registered = [] {
  // {m, n, k, trans (1 = A, 2 = B)}
  const int64_t shapes[][4] = {
      // MLP 784-256-128-10, batch 64: forward x @ W^T, grad_x = g @ W, grad_W = g^T @ x
      {64, 256, 784, 2},
      {64, 784, 256, 0},
      {256, 784, 64, 1},
      {64, 128, 256, 2},
      {64, 256, 128, 0},
      {128, 256, 64, 1},
      {64, 10, 128, 2},
      {64, 128, 10, 0},
      {10, 128, 64, 1},
      // CNN: conv2 as im2col GEMM [64 x 288] x [288 x 12544], conv1 [32 x 9] x [9 x 50176],
      // and the 3136 -> 128 linear with its backward
      {64, 12544, 288, 0},
      {32, 50176, 9, 0},
      {64, 128, 3136, 2},
      {64, 3136, 128, 0},
      {128, 3136, 64, 1},
      // gpt (batch 32 x context 64 = 2048 rows, width 128): the 128 -> 512 MLP
      // layer forward, grad_x and grad_W, and the 128 -> 384 attention projection
      {2048, 512, 128, 2},
      {2048, 128, 512, 0},
      {512, 128, 2048, 1},
      {2048, 384, 128, 2},
  };
  for (const auto& r : shapes)
    for (int64_t t : {1, 2}) {
      const std::string tag = "/" + std::to_string(r[0]) + "x" + std::to_string(r[1]) + "x" + std::to_string(r[2]) +
                              "/tr" + std::to_string(r[3]) + "/thr" + std::to_string(t);
      using Fn = void (*)(benchmark::State&);
      const std::pair<const char*, Fn> variants[] = {
          {"Loom", BM_Loom}, {"OpenBlas", BM_OpenBlas}, {"PoolSplit", BM_PoolSplit}, {"Reference", BM_Reference}};
      for (auto [name, fn] : variants) {
        if (fn == BM_Reference && (t != 1 || r[0] * r[1] * r[2] > 20'000'000))
          continue;
        benchmark::RegisterBenchmark((std::string(name) + tag).c_str(), fn)
            ->Args({r[0], r[1], r[2], r[3], t})
            ->UseRealTime();
      }
    }
  return 0;
}();

}  // namespace
