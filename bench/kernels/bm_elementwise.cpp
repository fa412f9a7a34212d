// Element-wise add / relu / exp and the sum reduction in GB/s against memcpy, at a
// size that fits in L2 and one that streams from DRAM, at 1 and 2 threads, each
// through loom's kernel list (the best ISA, or LOOM_ISA's) and the reference entry.
//   build-simd/bench/bm_elementwise --benchmark_counters_tabular=true
// Bytes count what the kernel must move: add reads two arrays and writes one
// (12 B/element), relu and exp read one and write one (8), sum reads one (4),
// memcpy reads one and writes one (8).
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>

#include "loom/core/generator.h"
#include "loom/kernels.h"
#include "loom/runtime/parallel.h"

namespace {

using loom::Tensor;
using loom::kernels::BinaryOp;
using loom::kernels::ReduceOp;
using loom::kernels::UnaryOp;

enum class Kind { memcpy_, add, relu, exp, gelu, sum };
enum class Path { loom, reference };

void run(benchmark::State& state, Kind kind, Path path) {
  const int64_t n = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  loom::runtime::set_num_threads(threads);
  loom::Generator g(1);
  Tensor a = g.uniform_tensor({n}, -2, 2), b = g.uniform_tensor({n}, -2, 2), d = Tensor::empty({n});
  Tensor s = Tensor::empty({1});
  const auto& unary = loom::kernels::unary_kernels();
  const auto& binary = loom::kernels::binary_kernels();
  const auto& reduce = loom::kernels::reduce_kernels();
  int64_t bytes = 0;
  for (auto _ : state) {
    switch (kind) {
      case Kind::memcpy_: {
        const float* src = a.data<float>();
        float* dst = d.data<float>();
        loom::runtime::parallel_for(
            0, n, 1 << 15, [&](int64_t lo, int64_t hi) { std::memcpy(dst + lo, src + lo, sizeof(float) * (hi - lo)); });
        bytes = 8;
        break;
      }
      case Kind::add:
        if (path == Path::loom)
          binary(BinaryOp::add, a, b, d);
        else
          binary.entries().back().run(BinaryOp::add, a, b, d);
        bytes = 12;
        break;
      case Kind::relu:
      case Kind::exp:
      case Kind::gelu: {
        const UnaryOp op = kind == Kind::relu ? UnaryOp::relu : kind == Kind::exp ? UnaryOp::exp : UnaryOp::gelu;
        if (path == Path::loom)
          unary(op, a, d, 0, 0);
        else
          unary.entries().back().run(op, a, d, 0, 0);
        bytes = 8;
        break;
      }
      case Kind::sum:
        if (path == Path::loom)
          reduce(ReduceOp::sum, a, s, 1, n, 1);
        else
          reduce.entries().back().run(ReduceOp::sum, a, s, 1, n, 1);
        bytes = 4;
        break;
    }
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * n * bytes);
}

// Registered size by size and thread count, all kernels next to each other.
const int registered = [] {
  // 64 Ki floats: three 256 KiB arrays fit in L2 (1 MiB per core here); 16 Mi floats: 64 MiB each, DRAM.
  for (int64_t n : {int64_t{1} << 16, int64_t{1} << 24})
    for (int64_t t : {1, 2}) {
      const std::string tag =
          "/" + std::string(n < (1 << 20) ? "L2" : "DRAM") + "/n:" + std::to_string(n) + "/thr:" + std::to_string(t);
      const std::pair<const char*, Kind> kinds[] = {{"memcpy", Kind::memcpy_}, {"add", Kind::add},
                                                    {"relu", Kind::relu},      {"exp", Kind::exp},
                                                    {"gelu", Kind::gelu},      {"sum", Kind::sum}};
      for (auto [name, kind] : kinds)
        for (Path path : {Path::loom, Path::reference}) {
          if (kind == Kind::memcpy_ && path == Path::reference)
            continue;
          const std::string full = std::string(name) +
                                   (kind == Kind::memcpy_ ? ""
                                    : path == Path::loom  ? "_loom"
                                                          : "_reference") +
                                   tag;
          benchmark::RegisterBenchmark(full.c_str(), [kind, path](benchmark::State& s) { run(s, kind, path); })
              ->Args({n, t})
              ->UseRealTime();
        }
    }
  return 0;
}();

}  // namespace
