#include <gtest/gtest.h>

#include "loom/autograd.h"
#include "loom/core/generator.h"

namespace loom {
namespace {

TEST(Engine, ChainRuleThroughSharedSubexpressions) {
  // y = sum(x * x + x): every path from x must add up: dy/dx = 2x + 1.
  Tensor x = Tensor::from_vector<double>({1, -2, 3}, {3}).set_requires_grad(true);
  Tensor y = sum(mul(x, x) + x);
  y.backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{3, -3, 7}));
}

TEST(Engine, GradientsAccumulateAcrossBackwardCalls) {
  Tensor x = Tensor::from_vector<double>({1, 2}, {2}).set_requires_grad(true);
  sum(mul_scalar(x, 3.0)).backward();
  sum(mul_scalar(x, 3.0)).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{6, 6}));
}

// NOTE [Lazy zero gradient]: after zero_grad() the next backward writes the gradient
// into the same buffer (not added to the old one), a read before it sees zeros, and
// backward calls after it add up again.
TEST(Engine, ZeroGradIsWrittenByTheNextBackwardOrReadAsZeros) {
  Tensor x = Tensor::from_vector<double>({1, 2}, {2}).set_requires_grad(true);
  sum(mul_scalar(x, 3.0)).backward();
  const void* buffer = x.grad().raw_data();
  x.zero_grad();
  sum(mul(x, x)).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{2, 4}));
  EXPECT_EQ(x.grad().raw_data(), buffer);
  sum(mul_scalar(x, 3.0)).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{5, 7}));
  x.zero_grad();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 0}));
  sum(mul_scalar(x, 3.0)).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{3, 3}));
  Tensor fresh = Tensor::ones({2}).set_requires_grad(true);
  fresh.zero_grad();  // no gradient yet: nothing to mark
  EXPECT_FALSE(fresh.grad().defined());
}

// NOTE [Gradient destinations]: after zero_grad() a Linear writes its weight and bias
// gradients straight into their buffers; a weight that two ops use gets the sum.
TEST(Engine, GradientDestinationsGiveTheSameGradients) {
  Generator g(3);
  const Tensor x = g.uniform_tensor({5, 7}, -1, 1);
  auto fresh = [&] {
    Generator p(4);
    return std::pair{p.uniform_tensor({3, 7}, -1, 1).set_requires_grad(true),
                     p.uniform_tensor({3}, -1, 1).set_requires_grad(true)};
  };
  auto loss = [&](const Tensor& w, const Tensor& b, bool twice) {
    Tensor y = linear_act(x, w, b, kernels::Activation::relu);
    if (twice)
      y = y + linear(x, w, b);
    return sum(y);
  };
  for (bool twice : {false, true}) {
    auto [w_ref, b_ref] = fresh();
    loss(w_ref, b_ref, twice).backward();  // no marks: the engine keeps a copy
    auto [w, b] = fresh();
    loss(w, b, twice).backward();
    const void* w_buffer = w.grad().raw_data();
    w.zero_grad();
    b.zero_grad();
    loss(w, b, twice).backward();
    EXPECT_EQ(w.grad().raw_data(), w_buffer);
    EXPECT_EQ(w.grad().to_vector<float>(), w_ref.grad().to_vector<float>()) << "twice " << twice;
    EXPECT_EQ(b.grad().to_vector<float>(), b_ref.grad().to_vector<float>()) << "twice " << twice;
  }
}

TEST(Engine, NoGradRecordsNothing) {
  Tensor x = Tensor::ones({2}).set_requires_grad(true);
  Tensor y;
  {
    NoGradGuard guard;
    y = mul_scalar(x, 2.0);
  }
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.grad_fn(), nullptr);
  EXPECT_TRUE(autograd::grad_enabled());
  EXPECT_THROW(sum(y).backward(), ValueError);
}

TEST(Engine, BackwardTwiceThroughFreedGraphIsAClearError) {
  Tensor x = Tensor::ones({2}).set_requires_grad(true);
  Tensor y = sum(exp(x));
  y.backward();
  try {
    y.backward();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("second time"), std::string::npos) << e.what();
  }
}

TEST(Engine, NonScalarRootNeedsAGradient) {
  Tensor x = Tensor::ones({2}).set_requires_grad(true);
  EXPECT_THROW(mul_scalar(x, 2.0).backward(), ValueError);
  autograd::backward(mul_scalar(x, 2.0), Tensor::from_vector<float>({1, 10}, {2}));
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{2, 20}));
}

TEST(Engine, OnlyInputsThatRequireGradGetOne) {
  Tensor w = Tensor::ones({2}).set_requires_grad(true);
  Tensor c = Tensor::ones({2});
  sum(mul(w, c)).backward();
  EXPECT_TRUE(w.grad().defined());
  EXPECT_FALSE(c.grad().defined());
}

TEST(Engine, UnusedBranchesDoNotBlockTheRest) {
  Tensor x = Tensor::from_vector<double>({2}, {1}).set_requires_grad(true);
  Tensor unused = exp(x);  // shares x but is not part of the loss
  (void)unused;
  Tensor z = mul(x, x);
  sum(z).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{4}));
}

}  // namespace
}  // namespace loom
