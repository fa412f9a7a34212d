// Each layer's forward against values computed by hand or by plain loops here.
#include <gtest/gtest.h>

#include <cmath>

#include "../support/test_support.h"  // tests/ is on the include path, not tests/support/
#include "loom/autograd.h"
#include "loom/nn.h"

namespace loom::nn {
namespace {

using loom::testing::error_message;

TEST(Linear, ForwardEqualsManualMatmul) {
  Generator gen(11);
  Linear layer(3, 2, true, gen);
  Tensor x = Tensor::from_vector<float>({1, 2, 3, -1, 0.5f, 4}, {2, 3});
  auto w = layer.weight().to_vector<double>();
  auto b = layer.bias().to_vector<double>();
  auto xv = x.to_vector<double>();
  auto y = layer(x).to_vector<double>();
  ASSERT_EQ(y.size(), 4u);
  for (int n = 0; n < 2; ++n)
    for (int o = 0; o < 2; ++o) {
      double expected = b[o];
      for (int i = 0; i < 3; ++i)
        expected += xv[n * 3 + i] * w[o * 3 + i];
      EXPECT_NEAR(y[n * 2 + o], expected, 1e-5) << n << "," << o;
    }
  EXPECT_EQ(layer.describe(), "Linear(in=3, out=2, bias=true)");
}

TEST(Linear, WithoutBiasAndOnBatchedInput) {
  Linear layer(2, 2, false);
  EXPECT_FALSE(layer.bias().defined());
  EXPECT_EQ(layer.named_parameters().size(), 1u);
  layer.weight().copy_(Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2}));
  Tensor y = layer(Tensor::ones({2, 3, 2}));
  EXPECT_EQ(y.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(y.to_vector<float>()[1], 7.0f);
}

TEST(Linear, WrongFeatureCountNamesBothSizes) {
  Linear layer(4, 2);
  const std::string msg = error_message([&] { layer(Tensor::ones({3, 5})); });
  EXPECT_NE(msg.find("5 features"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expects 4"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[3, 5]"), std::string::npos) << msg;
}

TEST(Conv2d, ForwardEqualsDirectLoop) {
  Generator gen(12);
  Conv2d conv(2, 3, 3, /*stride=*/2, /*padding=*/1, true, gen);
  Tensor x = Generator(13).uniform_tensor({2, 2, 5, 4}, -1, 1);
  Tensor y = conv(x);
  ASSERT_EQ(y.shape(), (Shape{2, 3, 3, 2}));
  auto xv = x.to_vector<double>(), w = conv.weight().to_vector<double>(), b = conv.bias().to_vector<double>();
  auto yv = y.to_vector<double>();
  for (int n = 0; n < 2; ++n)
    for (int o = 0; o < 3; ++o)
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 2; ++j) {
          double acc = b[o];
          for (int c = 0; c < 2; ++c)
            for (int ki = 0; ki < 3; ++ki)
              for (int kj = 0; kj < 3; ++kj) {
                const int r = i * 2 - 1 + ki, s = j * 2 - 1 + kj;
                if (r < 0 || r >= 5 || s < 0 || s >= 4)
                  continue;
                acc += xv[((n * 2 + c) * 5 + r) * 4 + s] * w[((o * 2 + c) * 3 + ki) * 3 + kj];
              }
          EXPECT_NEAR(yv[((n * 3 + o) * 3 + i) * 2 + j], acc, 1e-5);
        }
}

TEST(Conv2d, ChannelMismatchIsExplained) {
  Conv2d conv(1, 4, 3);
  const std::string msg = error_message([&] { conv(Tensor::ones({2, 3, 8, 8})); });
  EXPECT_NE(msg.find("3 channels"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expects 1"), std::string::npos) << msg;
  EXPECT_NE(error_message([&] { conv(Tensor::ones({3, 8, 8})); }).find("[n, c, h, w]"), std::string::npos);
}

TEST(Pooling, MaxAndAverageOverTwoByTwoWindows) {
  std::vector<float> v(16);
  for (int i = 0; i < 16; ++i)
    v[i] = static_cast<float>(i);
  Tensor x = Tensor::from_vector(v, {1, 1, 4, 4});
  EXPECT_EQ(MaxPool2d(2)(x).to_vector<float>(), (std::vector<float>{5, 7, 13, 15}));
  EXPECT_EQ(AvgPool2d(2)(x).to_vector<float>(), (std::vector<float>{2.5f, 4.5f, 10.5f, 12.5f}));
  EXPECT_EQ(MaxPool2d(2, 1)(x).shape(), (Shape{1, 1, 3, 3}));
  EXPECT_EQ(MaxPool2d(3, 2, 1).describe(), "MaxPool2d(kernel=3, stride=2, padding=1)");
}

TEST(BatchNorm1d, RunningStatsAfterOneStepMatchHandComputation) {
  BatchNorm1d bn(2);
  // channel 0: 1 2 3 6 -> mean 3, squared deviations 4 1 0 9 (sum 14)
  // channel 1: 0 0 4 4 -> mean 2, squared deviations 4 4 4 4 (sum 16)
  Tensor x = Tensor::from_vector<float>({1, 0, 2, 0, 3, 4, 6, 4}, {4, 2});
  Tensor y = bn(x);
  // running = 0.9 * running + 0.1 * batch statistic, with the unbiased variance (sum / 3).
  auto rm = bn.running_mean().to_vector<double>(), rv = bn.running_var().to_vector<double>();
  EXPECT_NEAR(rm[0], 0.3, 1e-6);
  EXPECT_NEAR(rm[1], 0.2, 1e-6);
  EXPECT_NEAR(rv[0], 0.9 + 0.1 * 14.0 / 3.0, 1e-6);
  EXPECT_NEAR(rv[1], 0.9 + 0.1 * 16.0 / 3.0, 1e-6);
  EXPECT_EQ(bn.num_batches_tracked(), 1);
  // The output uses the biased batch variance (14/4 and 16/4).
  auto yv = y.to_vector<double>();
  EXPECT_NEAR(yv[0], (1 - 3) / std::sqrt(3.5 + 1e-5), 1e-5);
  EXPECT_NEAR(yv[7], (4 - 2) / std::sqrt(4.0 + 1e-5), 1e-5);

  bn.eval();
  auto ye = bn(x).to_vector<double>();
  EXPECT_NEAR(ye[0], (1 - 0.3) / std::sqrt(rv[0] + 1e-5), 1e-5);
  EXPECT_NEAR(ye[1], (0 - 0.2) / std::sqrt(rv[1] + 1e-5), 1e-5);
  EXPECT_NEAR(bn.running_mean().to_vector<double>()[0], 0.3, 1e-6) << "evaluation must not update the statistics";
  EXPECT_EQ(bn.num_batches_tracked(), 1);
}

TEST(BatchNorm2d, NormalisesPerChannelAndChecksRank) {
  BatchNorm2d bn(3);
  Tensor x = Generator(3).uniform_tensor({4, 3, 5, 5}, 2, 6);
  Tensor y = bn(x);
  Tensor per_channel_mean = mean(y, {0, 2, 3});
  for (double m : per_channel_mean.to_vector<double>())
    EXPECT_NEAR(m, 0.0, 1e-5);
  Tensor batch_mean = mean(x, {0, 2, 3});
  EXPECT_LT(testing::max_abs_diff(bn.running_mean(), mul_scalar(batch_mean, 0.1)), 1e-6);
  const std::string msg = error_message([&] { bn(Tensor::ones({4, 3})); });
  EXPECT_NE(msg.find("[n, c, h, w]"), std::string::npos) << msg;
  EXPECT_NE(error_message([&] { bn(Tensor::ones({2, 4, 3, 3})); }).find("4 channels"), std::string::npos);
}

TEST(BatchNorm1d, GradientsReachWeightAndBias) {
  BatchNorm1d bn(3);
  Tensor x = Generator(8).uniform_tensor({6, 3}, -1, 1);
  sum(mul(bn(x), x)).backward();
  ASSERT_TRUE(bn.weight().grad().defined());
  ASSERT_TRUE(bn.bias().grad().defined());
  // d/d bias of sum(y * x) is sum over the batch of x.
  EXPECT_LT(testing::max_abs_diff(bn.bias().grad(), sum(x, {0})), 1e-5);
}

TEST(LayerNorm, NormalisesTrailingAxes) {
  LayerNorm ln({2, 3});
  EXPECT_EQ(ln.weight().shape(), (Shape{2, 3}));
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 12}, {2, 2, 3});
  auto y = ln(x).to_vector<double>();
  // Row 0: mean 3.5, variance 35/12.
  EXPECT_NEAR(y[0], (1 - 3.5) / std::sqrt(35.0 / 12 + 1e-5), 1e-5);
  // Row 1: mean 2, variance (5 * 4 + 100) / 6 = 20.
  EXPECT_NEAR(y[11], (12 - 2) / std::sqrt(20 + 1e-5), 1e-5);
  const std::string msg = error_message([&] { ln(Tensor::ones({2, 3, 2})); });
  EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[2, 3, 2]"), std::string::npos) << msg;
}

TEST(Dropout, TrainingMasksAndScalesEvaluationIsIdentity) {
  Generator gen(21);
  Dropout drop(0.25, gen);
  Tensor x = Tensor::ones({4000});
  auto y = drop(x).to_vector<float>();
  int zeros = 0;
  for (float v : y) {
    if (v == 0.0f) {
      ++zeros;
    } else {
      EXPECT_FLOAT_EQ(v, 1.0f / 0.75f);
    }
  }
  EXPECT_NEAR(zeros / 4000.0, 0.25, 0.03);
  drop.eval();
  EXPECT_EQ(testing::max_abs_diff(drop(x), x), 0.0);

  // The mask comes from the layer's generator, so a seed repeats it.
  Generator g1(5), g2(5);
  Dropout d1(0.5, g1), d2(0.5, g2);
  EXPECT_EQ(testing::max_abs_diff(d1(x), d2(x)), 0.0);
  EXPECT_THROW(Dropout(1.5), ValueError);
}

TEST(Embedding, PicksRowsAndAccumulatesGradients) {
  Generator gen(9);
  Embedding emb(5, 3, gen);
  Tensor idx = Tensor::from_vector<int64_t>({4, 0, 4}, {3});
  Tensor y = emb(idx);
  ASSERT_EQ(y.shape(), (Shape{3, 3}));
  auto w = emb.weight().to_vector<float>();
  auto yv = y.to_vector<float>();
  for (int d = 0; d < 3; ++d) {
    EXPECT_EQ(yv[d], w[12 + d]);
    EXPECT_EQ(yv[3 + d], w[d]);
  }
  sum(y).backward();
  auto g = emb.weight().grad().to_vector<float>();
  EXPECT_EQ(g[12], 2.0f);  // row 4 picked twice
  EXPECT_EQ(g[0], 1.0f);
  EXPECT_EQ(g[3], 0.0f);
  EXPECT_NE(error_message([&] { emb(Tensor::ones({2})); }).find("i64"), std::string::npos);
  EXPECT_THROW(emb(Tensor::from_vector<int64_t>({5}, {1})), Error);
}

TEST(Activations, MatchTheirFormulas) {
  Tensor x = Tensor::from_vector<float>({-2, -0.5f, 0, 1.5f}, {4});
  auto relu_y = ReLU()(x).to_vector<float>();
  auto gelu_y = GELU()(x).to_vector<double>();
  auto tanh_y = Tanh()(x).to_vector<double>();
  auto sig_y = Sigmoid()(x).to_vector<double>();
  const std::vector<double> xs{-2, -0.5, 0, 1.5};
  for (size_t i = 0; i < xs.size(); ++i) {
    EXPECT_EQ(relu_y[i], static_cast<float>(std::max(0.0, xs[i])));
    EXPECT_NEAR(gelu_y[i], 0.5 * xs[i] * (1 + std::erf(xs[i] / std::sqrt(2.0))), 1e-5);
    EXPECT_NEAR(tanh_y[i], std::tanh(xs[i]), 1e-6);
    EXPECT_NEAR(sig_y[i], 1 / (1 + std::exp(-xs[i])), 1e-6);
  }
}

TEST(Softmax, RowsSumToOneAlongTheAxis) {
  Tensor x = Generator(2).uniform_tensor({3, 4}, -3, 3);
  auto rows = sum(Softmax(1)(x), {1}).to_vector<double>();
  for (double r : rows)
    EXPECT_NEAR(r, 1.0, 1e-6);
  auto cols = sum(Softmax(0)(x), {0}).to_vector<double>();
  for (double c : cols)
    EXPECT_NEAR(c, 1.0, 1e-6);
}

TEST(Flatten, KeepsTheBatchAxisByDefault) {
  Tensor x = Tensor::zeros({2, 3, 4, 5});
  EXPECT_EQ(Flatten()(x).shape(), (Shape{2, 60}));
  EXPECT_EQ(Flatten(0, 1)(x).shape(), (Shape{6, 4, 5}));
  EXPECT_EQ(Flatten(2)(x).shape(), (Shape{2, 3, 20}));
}

TEST(Sequential, ChainsAConvNet) {
  Generator gen(3);
  Sequential net{std::make_shared<Conv2d>(1, 4, 3, 1, 1, true, gen),
                 std::make_shared<BatchNorm2d>(4),
                 std::make_shared<ReLU>(),
                 std::make_shared<MaxPool2d>(2),
                 std::make_shared<Flatten>(),
                 std::make_shared<Linear>(4 * 4 * 4, 10, true, gen)};
  Tensor y = net(Generator(4).uniform_tensor({2, 1, 8, 8}, 0, 1));
  EXPECT_EQ(y.shape(), (Shape{2, 10}));
  cross_entropy(y, Tensor::from_vector<int64_t>({3, 7}, {2})).backward();
  for (const auto& [name, p] : net.named_parameters())
    EXPECT_TRUE(p.grad().defined()) << name;
  EXPECT_EQ(net.state_dict()[2].first, "1.weight");
}

// NOTE [Fusion passes]: ReLU then MaxPool2d runs as the pool, then the
// ReLU. Output and input gradient must match the modules run one by one, bit for
// bit, including windows that are all negative, all zero, or tied.
TEST(Sequential, ReluBeforeMaxPoolMatchesTheUnrewrittenOrderBitForBit) {
  Tensor x0 = Generator(9).normal_tensor({2, 3, 6, 6}, 0, 1);
  std::vector<float> v = x0.to_vector<float>();
  for (int i = 0; i < 4; ++i) {  // the first window of plane 0: ties at 0.5
    v[static_cast<size_t>((i / 2) * 6 + i % 2)] = 0.5f;
  }
  v[36 + 0] = v[36 + 1] = v[36 + 6] = v[36 + 7] = 0.0f;                        // plane 1: all-zero window
  v[72 + 0] = -1.0f, v[72 + 1] = -2.0f, v[72 + 6] = -0.5f, v[72 + 7] = -3.0f;  // all negative
  auto run = [&](bool sequential) {
    Tensor x = Tensor::from_vector<float>(v, {2, 3, 6, 6});
    x.set_requires_grad(true);
    auto relu = std::make_shared<ReLU>();
    auto pool = std::make_shared<MaxPool2d>(2);
    Tensor y = sequential ? Sequential{relu, pool}(x) : (*pool)((*relu)(x));
    sum(mul(y, Generator(10).normal_tensor(y.shape(), 0, 1))).backward();
    return std::make_pair(y.to_vector<float>(), x.grad().to_vector<float>());
  };
  auto [y_seq, gx_seq] = run(true);
  auto [y_ref, gx_ref] = run(false);
  ASSERT_EQ(y_seq.size(), y_ref.size());
  for (size_t i = 0; i < y_seq.size(); ++i)
    EXPECT_EQ(y_seq[i], y_ref[i]) << "output " << i;
  for (size_t i = 0; i < gx_seq.size(); ++i)
    EXPECT_EQ(gx_seq[i], gx_ref[i]) << "input gradient " << i;
  EXPECT_EQ(y_seq[0], 0.5f);
  EXPECT_EQ(gx_seq[36], 0.0f);  // the all-zero window passes no gradient
}

// NOTE [Fusion passes]: Conv2d, ReLU, MaxPool2d runs as one
// conv2d_max_pool2d op, then the ReLU; values and gradients match the modules
// run one by one.
TEST(Sequential, ConvReluMaxPoolMatchesTheModulesOneByOne) {
  Generator gen(5);
  auto conv = std::make_shared<Conv2d>(3, 8, 3, 1, 1, true, gen);
  auto relu = std::make_shared<ReLU>();
  auto pool = std::make_shared<MaxPool2d>(2);
  Tensor x0 = Generator(6).normal_tensor({4, 3, 10, 10}, 0, 1);
  auto run = [&](bool sequential) {
    for (auto [name, p] : conv->named_parameters())  // a Tensor copy shares the parameter
      p.set_grad(Tensor());
    Tensor x = x0.detach().set_requires_grad(true);
    Tensor y = sequential ? Sequential{conv, relu, pool}(x) : (*pool)((*relu)((*conv)(x)));
    sum(mul(y, Generator(7).normal_tensor(y.shape(), 0, 1))).backward();
    return std::vector<std::vector<float>>{y.to_vector<float>(), x.grad().to_vector<float>(),
                                           conv->weight().grad().to_vector<float>(),
                                           conv->bias().grad().to_vector<float>()};
  };
  auto fused = run(true), plain = run(false);
  for (size_t i = 0; i < fused.size(); ++i) {
    ASSERT_EQ(fused[i].size(), plain[i].size());
    for (size_t k = 0; k < fused[i].size(); ++k)
      EXPECT_NEAR(fused[i][k], plain[i][k], 1e-4 + 1e-5 * std::abs(plain[i][k])) << "tensor " << i << " at " << k;
  }
}

}  // namespace
}  // namespace loom::nn
