// warm_up_gemm (loom/kernels/gemm.h).
#include <vector>

#include "cpu/omp_threads.h"
#include "loom/kernels/gemm.h"
#include "loom/runtime/parallel.h"

namespace loom::kernels {
namespace {

template <typename T>
void run_products(DType dtype) {
  // Square shapes and the thin ones (an output side below 32) that other entries take.
  const int64_t shapes[][3] = {{64, 64, 64}, {256, 256, 256}, {64, 10, 128}, {10, 128, 64}};
  std::vector<T> a(256 * 256, T(1)), b(256 * 256, T(1)), c(256 * 256);
  for (const auto& s : shapes)
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        GemmArgs g;
        g.set_dtypes(dtype);
        g.trans_a = ta;
        g.trans_b = tb;
        g.m = s[0];
        g.n = s[1];
        g.k = s[2];
        g.a = a.data();
        g.lda = ta ? g.m : g.k;
        g.b = b.data();
        g.ldb = tb ? g.k : g.n;
        g.c = c.data();
        g.ldc = g.n;
        gemm_kernels()(g);
      }
}

}  // namespace

void warm_up_gemm() {
  runtime::set_inline_parallelism(true);  // this thread's products never use the pool
  cpu::OmpThreads serial(1);              // nor an OpenMP team
  try {
    run_products<float>(DType::f32);
    run_products<double>(DType::f64);
  } catch (...) {
    // Only a warm-up: a failure here shows again, with its message, where it matters.
  }
  runtime::set_inline_parallelism(false);
}

}  // namespace loom::kernels
