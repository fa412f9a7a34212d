// The SIMD 2x2 max-pooling entries against the reference entry: the same values and
// indices bit for bit, with ties and NaNs, at widths that are not whole vectors,
// odd sizes and with the indices skipped; and what they decline.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernels/isa_fixture.h"
#include "loom/core/generator.h"
#include "loom/kernels.h"

namespace loom::kernels {
namespace {

using cpu::simd::Isa;

class MaxPoolKernels : public testing::IsaTest {};
INSTANTIATE_TEST_SUITE_P(Isa, MaxPoolKernels, ::testing::Values(Isa::avx512, Isa::avx2), testing::isa_case_name);

using testing::kernel_entry;

Window2d pool_2x2(int64_t n, int64_t c, int64_t h, int64_t w) {
  Window2d g;
  g.n = n, g.c = c, g.h = h, g.w = w;
  g.kh = g.kw = g.sh = g.sw = 2;
  g.oh = h / 2, g.ow = w / 2;
  return g;
}

// Inputs rounded to a few values so that ties are common, with some NaNs.
Tensor tied_input(const Window2d& g, uint64_t seed) {
  Generator gen(seed);
  auto v = gen.uniform_tensor({g.n, g.c, g.h, g.w}, -2, 2).to_vector<float>();
  for (size_t i = 0; i < v.size(); ++i) {
    v[i] = std::round(v[i] * 2) / 2;
    if (i % 37 == 5)
      v[i] = std::numeric_limits<float>::quiet_NaN();
  }
  return Tensor::from_vector(v, {g.n, g.c, g.h, g.w});
}

void expect_same_floats(const Tensor& got, const Tensor& want, const std::string& what) {
  auto g = got.to_vector<float>(), w = want.to_vector<float>();
  ASSERT_EQ(g.size(), w.size()) << what;
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isnan(w[i]))
      ASSERT_TRUE(std::isnan(g[i])) << what << " at " << i;
    else
      ASSERT_EQ(g[i], w[i]) << what << " at " << i;
  }
}

TEST_P(MaxPoolKernels, MatchReferenceValuesAndIndices) {
  for (int64_t w : {2, 3, 14, 28, 33, 34, 64, 70})
    for (int64_t h : {2, 5, 28}) {
      const Window2d g = pool_2x2(2, 3, h, w);
      const Tensor x = tied_input(g, static_cast<uint64_t>(h * 1000 + w));
      const std::string what = "h=" + std::to_string(h) + " w=" + std::to_string(w);
      Tensor want_y = Tensor::full({g.n, g.c, g.oh, g.ow}, 7.0f), got_y = Tensor::full({g.n, g.c, g.oh, g.ow}, 7.0f);
      Tensor want_i = Tensor::zeros({g.n, g.c, g.oh, g.ow}, DType::i32);
      Tensor got_i = Tensor::zeros({g.n, g.c, g.oh, g.ow}, DType::i32);
      ASSERT_EQ(kernel_entry(max_pool2d_forward_kernels(), isa_name()).declines(g, x, got_y, got_i), "");
      kernel_entry(max_pool2d_forward_kernels(), "cpu_reference").run(g, x, want_y, want_i);
      kernel_entry(max_pool2d_forward_kernels(), isa_name()).run(g, x, got_y, got_i);
      expect_same_floats(got_y, want_y, what + " values");
      EXPECT_EQ(got_i.to_vector<int32_t>(), want_i.to_vector<int32_t>()) << what << " indices";
      // Without indices: the same values, nothing else written.
      Tensor bare_y = Tensor::full({g.n, g.c, g.oh, g.ow}, 7.0f);
      kernel_entry(max_pool2d_forward_kernels(), isa_name()).run(g, x, bare_y, Tensor());
      expect_same_floats(bare_y, want_y, what + " values without indices");
    }
}

TEST_P(MaxPoolKernels, DeclineOtherWindowsAndDtypes) {
  const auto& entry = kernel_entry(max_pool2d_forward_kernels(), isa_name());
  Window2d g = pool_2x2(1, 1, 8, 8);
  const Tensor x = Tensor::zeros({1, 1, 8, 8}), y = Tensor::zeros({1, 1, 4, 4});
  Window2d three = g;
  three.kh = three.kw = 3;
  EXPECT_NE(entry.declines(three, x, y, Tensor()), "");
  Window2d padded = g;
  padded.ph = 1;
  EXPECT_NE(entry.declines(padded, x, y, Tensor()), "");
  EXPECT_NE(entry.declines(g, x.to(DType::f64), y.to(DType::f64), Tensor()), "");
}

}  // namespace
}  // namespace loom::kernels
