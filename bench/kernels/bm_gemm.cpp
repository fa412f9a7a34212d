// GEMM through loom's matmul against calling OpenBLAS directly, at the shapes
// of the reference models' layers.
//   build/bench/bm_gemm --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <cblas.h>

#include "loom/autograd/ops.h"
#include "loom/core/generator.h"

namespace {

void set_flops(benchmark::State& state, int64_t m, int64_t n, int64_t k) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * m * n * k * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}

void BM_LoomMatmul(benchmark::State& state) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  loom::Generator g(1);
  loom::Tensor a = g.normal_tensor({m, k}, 0, 1), b = g.normal_tensor({k, n}, 0, 1);
  for (auto _ : state)
    benchmark::DoNotOptimize(loom::matmul(a, b).raw_data());
  set_flops(state, m, n, k);
}

void BM_OpenBlasSgemm(benchmark::State& state) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  loom::Generator g(1);
  loom::Tensor a = g.normal_tensor({m, k}, 0, 1), b = g.normal_tensor({k, n}, 0, 1);
  loom::Tensor c = loom::Tensor::empty({m, n});
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a.data<float>(), k, b.data<float>(), n, 0.0f,
                c.data<float>(), n);
    benchmark::DoNotOptimize(c.raw_data());
  }
  set_flops(state, m, n, k);
}

// {batch, out, in} of the MLP's layers, the CNN's second conv as a GEMM, and a square.
#define GEMM_SHAPES \
  Args({64, 256, 784})->Args({64, 128, 256})->Args({64, 12544, 288})->Args({64, 128, 3136})->Args({1024, 1024, 1024})
BENCHMARK(BM_LoomMatmul)->GEMM_SHAPES;
BENCHMARK(BM_OpenBlasSgemm)->GEMM_SHAPES;

}  // namespace
