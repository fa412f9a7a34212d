// Every GEMM entry against the reference: transposes, leading dimensions wider
// than the matrix, alpha/beta, batches, and shapes that the oneDNN entry splits
// into panels (by columns and by rows) at 1, 2 and 3 threads.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/cpu/kernels_cpu.h"
#include "loom/core/generator.h"
#include "loom/kernels/gemm.h"
#include "loom/runtime/parallel.h"

namespace loom {
namespace {

using kernels::GemmArgs;

struct Shape {
  int64_t m, n, k;
  bool ta, tb;
  double alpha, beta;
  int64_t batch;
};

std::vector<float> random_floats(size_t n, uint64_t seed) {
  Generator g(seed);
  std::vector<float> v(n);
  for (auto& x : v)
    x = static_cast<float>(g.uniform() * 2 - 1);
  return v;
}

class GemmEntries : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { runtime::set_num_threads(GetParam()); }
  void TearDown() override { runtime::set_num_threads(saved_); }
  int saved_ = runtime::num_threads();
};

TEST_P(GemmEntries, EveryEntryMatchesTheReference) {
  const Shape shapes[] = {
      {64, 256, 784, false, false, 1, 0, 1},    // MLP forward
      {64, 784, 256, false, true, 1, 0, 1},     // MLP grad input
      {784, 256, 64, true, false, 1, 1, 1},     // MLP grad weight, accumulating
      {64, 3000, 288, false, false, 1, 0, 1},   // im2col: split by columns
      {3000, 10, 128, false, true, 0.5, 0, 1},  // tall: split by rows
      {3000, 40, 33, true, true, 1, 0.25, 2},   // both transposed, batched, ragged panel
      {1, 1, 1, false, false, 1, 0, 1},        {17, 5, 3, true, false, -1, 0.5, 3},
  };
  const auto& list = kernels::gemm_kernels();
  const auto& reference = list.entries().back();
  ASSERT_EQ(reference.name, "cpu_reference");
  for (const Shape& s : shapes) {
    // Leading dimensions 3 wider than needed, so panels must respect them.
    const int64_t a_rows = s.ta ? s.k : s.m, a_cols = s.ta ? s.m : s.k;
    const int64_t b_rows = s.tb ? s.n : s.k, b_cols = s.tb ? s.k : s.n;
    const int64_t lda = a_cols + 3, ldb = b_cols + 3, ldc = s.n + 3;
    const int64_t sa = a_rows * lda, sb = b_rows * ldb, sc = s.m * ldc;
    auto a = random_floats(static_cast<size_t>(sa * s.batch), 1);
    auto b = random_floats(static_cast<size_t>(sb * s.batch), 2);
    const auto c0 = random_floats(static_cast<size_t>(sc * s.batch), 3);
    auto args = [&](std::vector<float>& c) {
      GemmArgs g;
      g.set_dtypes(DType::f32);
      g.device = Device::cpu();
      g.trans_a = s.ta;
      g.trans_b = s.tb;
      g.m = s.m, g.n = s.n, g.k = s.k;
      g.alpha = s.alpha, g.beta = s.beta;
      g.a = a.data(), g.lda = lda, g.b = b.data(), g.ldb = ldb, g.c = c.data(), g.ldc = ldc;
      g.batch = s.batch, g.stride_a = sa, g.stride_b = sb, g.stride_c = sc;
      return g;
    };
    std::vector<float> want = c0;
    reference.run(args(want));
    for (const auto& e : list.entries()) {
      std::vector<float> got = c0;
      if (!e.declines(args(got)).empty())
        continue;
      e.run(args(got));
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_NEAR(got[i], want[i], 1e-4 * (1 + std::abs(want[i])))
            << e.name << " at " << i << " for m=" << s.m << " n=" << s.n << " k=" << s.k;
      }
    }
  }
}

TEST_P(GemmEntries, OneDnnEntryGivesTheSameBitsAtEveryThreadCount) {
  auto a = random_floats(64 * 288, 4), b = random_floats(288 * 3000, 5);
  auto run = [&](int threads) {
    runtime::set_num_threads(threads);
    std::vector<float> c(64 * 3000);
    GemmArgs g;
    g.device = Device::cpu();
    g.m = 64, g.n = 3000, g.k = 288;
    g.a = a.data(), g.lda = 288, g.b = b.data(), g.ldb = 3000, g.c = c.data(), g.ldc = 3000;
    kernels::gemm_kernels()(g);
    return c;
  };
  EXPECT_EQ(run(1), run(GetParam()));
}

TEST(GemmList, OneDnnDeclinesDoublesAndEmptyProducts) {
  const auto& list = kernels::gemm_kernels();
  ASSERT_EQ(list.entries().front().name, "onednn_sgemm");
  GemmArgs g;
  g.device = Device::cpu();
  g.set_dtypes(DType::f64);
  g.m = g.n = g.k = 4;
  EXPECT_NE(list.entries().front().declines(g).find("f32 only"), std::string::npos);
  g.set_dtypes(DType::f32);
  g.k = 0;
  EXPECT_EQ(list.entries().front().declines(g), "empty GEMM");
  g.m = 64, g.n = 10, g.k = 128;  // the logits layer goes to OpenBLAS, unless its kernels are pre-AVX2
  if (kernels::cpu::openblas_vectors() == kernels::cpu::BlasVectors::older)
    EXPECT_EQ(list.entries().front().declines(g), "");
  else
    EXPECT_NE(list.entries().front().declines(g).find("shorter than 32"), std::string::npos);
  g.n = 256;
  EXPECT_EQ(list.entries().front().declines(g), "");
}

// NOTE [oneDNN sgemm]: the shapes where OpenBLAS's AVX-512 kernels win go to OpenBLAS,
// judged by the panels the GEMM will be cut into; none do when its kernels are
// older than AVX2 (as on a CPU that OpenBLAS 0.3.21 does not know).
TEST(GemmList, OneDnnLeavesOpenBlasTheShapesItLoses) {
  const auto& list = kernels::gemm_kernels();
  const int saved = runtime::num_threads();
  const kernels::cpu::BlasVectors blas = kernels::cpu::openblas_vectors();
  const bool avx512 = blas == kernels::cpu::BlasVectors::avx512, skinny = blas != kernels::cpu::BlasVectors::older;
  auto declined = [&](int64_t m, int64_t n, int64_t k, bool trans_b, int threads) {
    runtime::set_num_threads(threads);
    GemmArgs g;
    g.device = Device::cpu();
    g.m = m, g.n = n, g.k = k, g.trans_b = trans_b;
    return !list.entries().front().declines(g).empty();
  };
  EXPECT_EQ(declined(64, 128, 3136, true, 1), avx512);  // the CNN's fc layer
  EXPECT_EQ(declined(64, 128, 10, false, 1), avx512);   // the logits' input gradient (10 deep)
  EXPECT_EQ(declined(64, 10, 128, true, 1), skinny);    // the logits in training
  EXPECT_EQ(declined(256, 10, 128, true, 1), blas == kernels::cpu::BlasVectors::avx2);  // ... at inference's batch
  EXPECT_FALSE(declined(64, 128, 256, true, 1));                                        // the MLP's second layer, whole
  EXPECT_EQ(declined(64, 128, 256, true, 2), avx512);                                   // ... in two 64-column panels
  EXPECT_FALSE(declined(64, 256, 784, true, 2));                                        // the MLP's first layer
  EXPECT_FALSE(declined(32, 50176, 9, false, 1));   // the first conv's im2col product
  EXPECT_FALSE(declined(128, 3136, 64, false, 2));  // a deep panel needs B transposed
  runtime::set_num_threads(saved);
}

INSTANTIATE_TEST_SUITE_P(Threads, GemmEntries, ::testing::Values(1, 2, 3));

}  // namespace
}  // namespace loom

namespace loom::kernels {
namespace {

// warm_up_gemm runs its products inline; afterwards the calling thread's
// parallel_for goes to the pool again, and the GEMM list still computes.
TEST(GemmWarmUp, RestoresTheCallingThreadsParallelism) {
  const int saved = runtime::num_threads();
  runtime::set_num_threads(2);
  warm_up_gemm();
  const int64_t jobs = runtime::pool_stats().jobs;
  runtime::parallel_for(0, 2, 1, [](int64_t, int64_t) {});
  EXPECT_GT(runtime::pool_stats().jobs, jobs);
  std::vector<float> a(4, 1.0f), b(4, 2.0f), c(4, 0.0f);
  GemmArgs g;
  g.m = g.n = g.k = 2;
  g.a = a.data();
  g.lda = 2;
  g.b = b.data();
  g.ldb = 2;
  g.c = c.data();
  g.ldc = 2;
  gemm_kernels()(g);
  EXPECT_EQ(c[0], 4.0f);
  runtime::set_num_threads(saved);
}

}  // namespace
}  // namespace loom::kernels
