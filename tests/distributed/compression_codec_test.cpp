// Codec round trips and error feedback, in one process (a one-rank communicator).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <stdexcept>
#include <vector>

#include "loom/core/error.h"
#include "loom/distributed/compression.h"
#include "loom/kernels/half.h"

namespace loom::distributed {
namespace {

using kernels::float_to_half;
using kernels::half_to_float;

std::vector<float> random_values(size_t n, unsigned seed, float scale = 1.0f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v)
    x = dist(gen);
  return v;
}

std::vector<float> round_trip(Compressor& c, const std::vector<float>& x) {
  std::vector<uint8_t> payload;
  c.encode(x.data(), static_cast<int64_t>(x.size()), payload);
  std::vector<float> y(x.size(), 0.0f);
  c.decode_add(payload.data(), payload.size(), y.data(), static_cast<int64_t>(y.size()));
  return y;
}

TEST(Fp16, ConversionsRoundToNearestEven) {
  for (float x : {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f, 0.333333f, 1e-3f}) {
    float y = half_to_float(float_to_half(x));
    EXPECT_LE(std::fabs(y - x), std::fabs(x) * 4.9e-4f + 3e-8f) << x;
  }
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_half(1e6f), 0x7c00);                // overflow to infinity
  EXPECT_EQ(float_to_half(1.0f + 1.0f / 2048), 0x3c00);  // tie: to even
  EXPECT_EQ(float_to_half(1.0f + 3.0f / 2048), 0x3c02);  // tie: to even (up)
  EXPECT_TRUE(std::isnan(half_to_float(float_to_half(NAN))));
  EXPECT_TRUE(std::isinf(half_to_float(float_to_half(-INFINITY))));
  for (uint32_t h = 0; h < 0x7c00; ++h)  // every finite half survives the round trip
    ASSERT_EQ(float_to_half(half_to_float(static_cast<uint16_t>(h))), h) << h;
}

TEST(Codecs, Fp16RelativeErrorBound) {
  auto c = make_compressor("fp16");
  auto x = random_values(10001, 1);
  auto y = round_trip(*c, x);
  for (size_t i = 0; i < x.size(); ++i)
    ASSERT_LE(std::fabs(y[i] - x[i]), std::fabs(x[i]) * 4.9e-4f + 6e-8f) << i;
}

TEST(Codecs, QsgdErrorBoundedByBucketStepAndUnbiased) {
  const int64_t bucket = 64;
  auto c = make_compressor("qsgd", {.qsgd_bucket = bucket, .seed = 7});
  auto x = random_values(4099, 2);
  std::vector<double> mean(x.size(), 0.0);
  const int trials = 400;
  for (int t = 0; t < trials; ++t) {
    auto y = round_trip(*c, x);
    for (size_t b = 0; b < x.size(); b += bucket) {
      float scale = 0;
      for (size_t i = b; i < std::min(x.size(), b + bucket); ++i)
        scale = std::max(scale, std::fabs(x[i]));
      for (size_t i = b; i < std::min(x.size(), b + bucket); ++i) {
        ASSERT_LE(std::fabs(y[i] - x[i]), scale / 127.0f * 1.0001f) << i;
        mean[i] += y[i] / trials;
      }
    }
  }
  // Stochastic rounding is unbiased: the mean of many encodings approaches x.
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i)
    worst = std::max(worst, std::fabs(mean[i] - x[i]));
  EXPECT_LT(worst, 0.01);
  std::vector<uint8_t> payload;
  c->encode(x.data(), static_cast<int64_t>(x.size()), payload);
  EXPECT_EQ(payload.size(), x.size() + 4 * ((x.size() + bucket - 1) / bucket));
}

TEST(Codecs, QsgdIsReproducibleFromItsSeed) {
  auto x = random_values(1000, 3);
  auto a = make_compressor("qsgd", {.seed = 11}), b = make_compressor("qsgd", {.seed = 11});
  EXPECT_EQ(round_trip(*a, x), round_trip(*b, x));
  EXPECT_NE(round_trip(*a, x), round_trip(*a, x));  // a fresh stream per call
}

TEST(Codecs, TopkKeepsTheLargestMagnitudes) {
  auto c = make_compressor("topk", {.topk_ratio = 0.1});
  std::vector<float> x(100);
  for (int i = 0; i < 100; ++i)
    x[i] = (i % 2 ? -1.0f : 1.0f) * static_cast<float>((i * 37) % 100);
  auto y = round_trip(*c, x);
  int kept = 0;
  for (int i = 0; i < 100; ++i) {
    if (y[i] != 0.0f) {
      ++kept;
      EXPECT_EQ(y[i], x[i]);
      EXPECT_GE(std::fabs(x[i]), 90.0f);
    }
  }
  EXPECT_EQ(kept, 10);
  std::vector<uint8_t> payload;
  c->encode(x.data(), 100, payload);
  EXPECT_EQ(payload.size(), 4u + 10 * 8);
}

// Large tensors take the sampled path to the k-th largest magnitude; the payload must
// be the one an nth_element over every magnitude gives: smooth data, data with ties,
// a tail the stride misses (every large value off the sample), and a sample that
// overrates the tail (fewer than k values reach its bound), which falls back.
TEST(Codecs, TopkOnLargeTensorsSelectsExactlyTheLargest) {
  const int64_t n = 200003;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<std::vector<float>> cases(4, std::vector<float>(static_cast<size_t>(n)));
  for (auto& v : cases[0])
    v = normal(rng) * normal(rng);
  for (size_t i = 0; i < cases[1].size(); ++i)
    cases[1][i] = static_cast<float>(static_cast<int>(i % 50) - 25);
  for (size_t i = 0; i < cases[2].size(); ++i)
    cases[2][i] = i % 48 == 7 ? 100.0f + static_cast<float>(i % 1000) : 1e-3f;  // stride is 48
  for (size_t i = 0; i < cases[3].size(); ++i)  // the sample overrates the tail: fewer than k reach its bound
    cases[3][i] = i % 192 == 0 ? 50.0f + static_cast<float>(i % 7) : 1e-3f;
  auto c = make_compressor("topk", {.topk_ratio = 0.01});
  for (const auto& x : cases) {
    std::vector<uint8_t> payload;
    c->encode(x.data(), n, payload);
    uint32_t k;
    std::memcpy(&k, payload.data(), 4);
    ASSERT_TRUE(k >= 2000u && k <= 2001u) << k;  // 1% of n
    std::vector<float> m(x.size());
    for (size_t i = 0; i < x.size(); ++i)
      m[i] = std::fabs(x[i]);
    std::nth_element(m.begin(), m.begin() + (k - 1), m.end(), std::greater<float>());
    const float threshold = m[k - 1];
    int64_t above = 0;
    for (float v : x)
      above += std::fabs(v) > threshold;
    int64_t ties = k - above;
    std::vector<uint32_t> want;
    for (size_t i = 0; i < x.size() && want.size() < k; ++i) {
      const float a = std::fabs(x[i]);
      if (a > threshold || (a == threshold && ties-- > 0))
        want.push_back(static_cast<uint32_t>(i));
    }
    std::vector<uint32_t> got(k);
    std::memcpy(got.data(), payload.data() + 4, 4 * k);
    EXPECT_EQ(got, want);
  }
}

TEST(Codecs, EmptyAndTinyTensors) {
  for (const char* name : {"none", "fp16", "qsgd", "topk"}) {
    auto c = make_compressor(name);
    auto solo = self_communicator();  // one rank: the codec path runs without MPI
    EXPECT_NO_THROW(compressed_allreduce(*solo, nullptr, 0, *c)) << name;
    float one = 3.0f;
    compressed_allreduce(*solo, &one, 1, *c);
    EXPECT_NEAR(one, 3.0f, 0.03f) << name;
  }
}

// Payloads gathered from several ranks sit back to back, so one can start at any
// byte: decoding at an odd address gives the same values (and is clean under
// scripts/sanitize.sh, whose UBSan flagged the misaligned loads this replaced).
TEST(Codecs, DecodeFromAnOddAddressMatchesAligned) {
  const std::vector<float> x = random_values(1000, 17);
  for (const char* name : {"none", "fp16", "qsgd", "topk"}) {
    auto c = make_compressor(name);
    std::vector<uint8_t> payload;
    c->encode(x.data(), static_cast<int64_t>(x.size()), payload);
    std::vector<uint8_t> shifted(payload.size() + 1);
    std::copy(payload.begin(), payload.end(), shifted.begin() + 1);
    std::vector<float> aligned(x.size(), 0.0f), odd(x.size(), 0.0f);
    c->decode_add(payload.data(), payload.size(), aligned.data(), static_cast<int64_t>(x.size()));
    c->decode_add(shifted.data() + 1, payload.size(), odd.data(), static_cast<int64_t>(x.size()));
    EXPECT_EQ(aligned, odd) << name;
    EXPECT_NE(aligned, std::vector<float>(x.size(), 0.0f)) << name;
  }
}

TEST(Codecs, TopkErrorFeedbackKeepsWhatWasNotSent) {
  auto c = make_compressor("topk", {.topk_ratio = 0.25});
  auto solo = self_communicator();
  std::vector<float> g = {4, 1, -3, 0.5f, 2, -0.25f, 0.1f, 1.5f};
  std::vector<float> sent_total(g.size(), 0.0f);
  const int steps = 100;  // the smallest value needs about sum|g| / (2 * 0.1) = 62 steps to be sent
  for (int step = 0; step < steps; ++step) {
    std::vector<float> x = g;
    compressed_allreduce(*solo, x.data(), static_cast<int64_t>(x.size()), *c, /*key=*/5);
    int nonzero = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      sent_total[i] += x[i];
      nonzero += x[i] != 0.0f;
    }
    EXPECT_EQ(nonzero, 2);
    // Invariant: everything fed in so far = what was sent + the residual.
    const std::vector<float>* res = c->residual(5);
    ASSERT_NE(res, nullptr);
    for (size_t i = 0; i < g.size(); ++i)
      ASSERT_NEAR(sent_total[i] + (*res)[i], g[i] * (step + 1), 1e-3) << "step " << step << " i " << i;
  }
  // Small values are not lost, only delayed: each was sent at least once.
  for (size_t i = 0; i < g.size(); ++i)
    EXPECT_NE(sent_total[i], 0.0f) << i;
  EXPECT_EQ(c->residual(6), nullptr);
  std::vector<float> other(3, 1.0f);
  EXPECT_THROW(compressed_allreduce(*solo, other.data(), 3, *c, 5), ValueError);  // key 5 has 8 values
}

TEST(Codecs, FactoryRejectsUnknownNames) {
  EXPECT_THROW(make_compressor("zip"), ValueError);
  EXPECT_THROW(make_compressor("topk", {.topk_ratio = 0}), ValueError);
  EXPECT_STREQ(make_compressor("qsgd")->name(), "qsgd");
}

}  // namespace
}  // namespace loom::distributed
