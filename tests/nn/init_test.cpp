// Initialisers: PyTorch's fans, gains and bounds, and seeded reproducibility.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "../support/test_support.h"  // tests/ is on the include path, not tests/support/
#include "loom/nn.h"

namespace loom::nn {
namespace {

struct Stats {
  double mean = 0, var = 0, max_abs = 0;
};
Stats stats(const Tensor& t) {
  auto v = t.to_vector<double>();
  Stats s;
  for (double x : v)
    s.mean += x;
  s.mean /= static_cast<double>(v.size());
  for (double x : v) {
    s.var += (x - s.mean) * (x - s.mean);
    s.max_abs = std::max(s.max_abs, std::abs(x));
  }
  s.var /= static_cast<double>(v.size());
  return s;
}

TEST(Init, FansFollowPyTorch) {
  init::Fans f = init::fans(Tensor::empty({8, 3, 5, 5}));
  EXPECT_EQ(f.fan_in, 75);
  EXPECT_EQ(f.fan_out, 200);
  f = init::fans(Tensor::empty({10, 784}));
  EXPECT_EQ(f.fan_in, 784);
  EXPECT_EQ(f.fan_out, 10);
  EXPECT_THROW(init::fans(Tensor::empty({7})), ValueError);
}

TEST(Init, GainsFollowPyTorch) {
  EXPECT_DOUBLE_EQ(init::calculate_gain("linear"), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain("relu"), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain("tanh"), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain("leaky_relu", std::sqrt(5.0)), std::sqrt(2.0 / 6.0));
  EXPECT_THROW(init::calculate_gain("swish"), ValueError);
}

TEST(Init, KaimingUniformBoundAndVariance) {
  // a = 0, fan_in = 512: bound sqrt(2) * sqrt(3 / 512), variance bound^2 / 3 = 2 / 512.
  Tensor w = Tensor::empty({256, 512});
  Generator gen(1);
  init::kaiming_uniform_(w, 0.0, gen);
  const double bound = std::sqrt(6.0 / 512);
  Stats s = stats(w);
  EXPECT_LE(s.max_abs, bound);
  EXPECT_GT(s.max_abs, 0.99 * bound);
  EXPECT_NEAR(s.mean, 0.0, 1e-3);
  EXPECT_NEAR(s.var, 2.0 / 512, 0.03 * 2.0 / 512);

  init::kaiming_uniform_(w, 0.0, gen, init::FanMode::fan_out);
  EXPECT_LE(stats(w).max_abs, std::sqrt(6.0 / 256));
  EXPECT_GT(stats(w).max_abs, 0.99 * std::sqrt(6.0 / 256));
}

TEST(Init, KaimingAndXavierNormalStandardDeviations) {
  Tensor w = Tensor::empty({256, 512});
  Generator gen(2);
  init::kaiming_normal_(w, 0.0, gen, init::FanMode::fan_in, "relu");
  EXPECT_NEAR(std::sqrt(stats(w).var), std::sqrt(2.0 / 512), 0.02 * std::sqrt(2.0 / 512));
  init::xavier_normal_(w, 1.0, gen);
  EXPECT_NEAR(std::sqrt(stats(w).var), std::sqrt(2.0 / 768), 0.02 * std::sqrt(2.0 / 768));
  init::xavier_uniform_(w, 2.0, gen);
  const double bound = 2.0 * std::sqrt(6.0 / 768);
  EXPECT_LE(stats(w).max_abs, bound);
  EXPECT_GT(stats(w).max_abs, 0.99 * bound);
}

TEST(Init, ConstantsAndUniform) {
  Tensor t = Tensor::empty({3, 3}, DType::f64);
  init::ones_(t);
  EXPECT_EQ(stats(t).mean, 1.0);
  init::zeros_(t);
  EXPECT_EQ(stats(t).max_abs, 0.0);
  init::constant_(t, -2.5);
  EXPECT_EQ(t.to_vector<double>()[4], -2.5);
  Generator gen(3);
  init::uniform_(t, 2.0, 3.0, gen);
  for (double v : t.to_vector<double>())
    EXPECT_TRUE(v >= 2.0 && v < 3.0) << v;
}

TEST(Init, LinearAndConvDefaultsUseOneOverSqrtFanIn) {
  // kaiming_uniform_(a = sqrt(5)) gives bound sqrt(2 / 6) * sqrt(3 / fan_in) = 1 / sqrt(fan_in).
  Generator gen(4);
  Linear lin(400, 300, true, gen);
  const double bound = 1.0 / std::sqrt(400.0);
  Stats w = stats(lin.weight()), b = stats(lin.bias());
  EXPECT_LE(w.max_abs, bound);
  EXPECT_GT(w.max_abs, 0.99 * bound);
  EXPECT_NEAR(w.var, bound * bound / 3, 0.03 * bound * bound / 3);
  EXPECT_LE(b.max_abs, bound);
  EXPECT_GT(b.max_abs, 0.9 * bound);

  Conv2d conv(16, 32, 3, 1, 0, true, gen);
  const double conv_bound = 1.0 / std::sqrt(16.0 * 9);
  EXPECT_LE(stats(conv.weight()).max_abs, conv_bound);
  EXPECT_GT(stats(conv.weight()).max_abs, 0.99 * conv_bound);
  EXPECT_LE(stats(conv.bias()).max_abs, conv_bound);
}

TEST(Init, SeededGeneratorMakesModelsReproducible) {
  Generator g1(42), g2(42), g3(43);
  Linear a(10, 5, true, g1), b(10, 5, true, g2), c(10, 5, true, g3);
  EXPECT_EQ(testing::max_abs_diff(a.weight(), b.weight()), 0.0);
  EXPECT_EQ(testing::max_abs_diff(a.bias(), b.bias()), 0.0);
  EXPECT_GT(testing::max_abs_diff(a.weight(), c.weight()), 0.0);

  // The default generator is used when none is passed.
  manual_seed(7);
  Linear d(10, 5);
  manual_seed(7);
  Linear e(10, 5);
  EXPECT_EQ(testing::max_abs_diff(d.weight(), e.weight()), 0.0);
}

}  // namespace
}  // namespace loom::nn
