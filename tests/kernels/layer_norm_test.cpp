// The fused layer-norm kernels: every SIMD entry against the reference entry, with
// and without gamma/beta, at row lengths that are not whole vectors; the weight
// gradients have the same bits at every thread count.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/isa_fixture.h"
#include "loom/core/generator.h"
#include "loom/kernels.h"
#include "loom/runtime/parallel.h"

namespace loom::kernels {
namespace {

using cpu::simd::Isa;

class LayerNormKernels : public testing::IsaTest {};
INSTANTIATE_TEST_SUITE_P(Isa, LayerNormKernels, ::testing::Values(Isa::avx512, Isa::avx2), testing::isa_case_name);

using testing::kernel_entry;

void expect_close(const Tensor& got, const Tensor& want, double tol, const std::string& what) {
  auto g = got.to_vector<float>(), w = want.to_vector<float>();
  ASSERT_EQ(g.size(), w.size()) << what;
  for (size_t i = 0; i < g.size(); ++i)
    ASSERT_NEAR(g[i], w[i], tol * (1 + std::abs(w[i]))) << what << " at " << i;
}

struct NormResult {
  Tensor y, mean, rstd, dx, dgamma, dbeta;
};

NormResult run(const std::string& name, const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& dy) {
  const int64_t rows = x.size(0), n = x.size(1);
  NormResult r{Tensor::empty({rows, n}),
               Tensor::empty({rows}),
               Tensor::empty({rows}),
               Tensor::empty({rows, n}),
               gamma.defined() ? Tensor::full({n}, 9.0f) : Tensor(),
               beta.defined() ? Tensor::full({n}, 9.0f) : Tensor()};
  kernel_entry(layer_norm_forward_kernels(), name).run(x, gamma, beta, r.y, r.mean, r.rstd, 1e-5);
  LayerNormGrads g{dy, x, gamma, r.mean, r.rstd, r.dx, r.dgamma, r.dbeta};
  kernel_entry(layer_norm_backward_kernels(), name).run(g);
  return r;
}

TEST_P(LayerNormKernels, MatchReferenceForwardAndBackward) {
  for (int64_t n : {1, 7, 16, 128, 133})
    for (int64_t rows : {1, 33, 70})
      for (bool affine : {true, false}) {
        Generator gen(n * 100 + rows);
        Tensor x = gen.uniform_tensor({rows, n}, -2, 3), dy = gen.uniform_tensor({rows, n}, -1, 1);
        Tensor gamma = affine ? gen.uniform_tensor({n}, 0.5, 1.5) : Tensor();
        Tensor beta = affine ? gen.uniform_tensor({n}, -1, 1) : Tensor();
        const std::string what = "n=" + std::to_string(n) + " rows=" + std::to_string(rows);
        NormResult want = run("cpu_reference", x, gamma, beta, dy), got = run(isa_name(), x, gamma, beta, dy);
        expect_close(got.y, want.y, 1e-5, what + " y");
        expect_close(got.rstd, want.rstd, 1e-5, what + " rstd");
        expect_close(got.dx, want.dx, 1e-4, what + " dx");
        if (affine) {
          expect_close(got.dgamma, want.dgamma, 1e-4, what + " dgamma");
          expect_close(got.dbeta, want.dbeta, 1e-4, what + " dbeta");
        }
      }
}

TEST_P(LayerNormKernels, WeightGradientsHaveTheSameBitsAtEveryThreadCount) {
  Generator gen(3);
  Tensor x = gen.uniform_tensor({300, 64}, -1, 1), dy = gen.uniform_tensor({300, 64}, -1, 1);
  Tensor gamma = gen.uniform_tensor({64}, 0.5, 1.5), beta = gen.uniform_tensor({64}, -1, 1);
  const int before = runtime::num_threads();
  runtime::set_num_threads(1);
  NormResult one = run(isa_name(), x, gamma, beta, dy);
  runtime::set_num_threads(2);
  NormResult two = run(isa_name(), x, gamma, beta, dy);
  runtime::set_num_threads(before);
  EXPECT_EQ(one.dgamma.to_vector<float>(), two.dgamma.to_vector<float>());
  EXPECT_EQ(one.dbeta.to_vector<float>(), two.dbeta.to_vector<float>());
  EXPECT_EQ(one.dx.to_vector<float>(), two.dx.to_vector<float>());
}

}  // namespace
}  // namespace loom::kernels
