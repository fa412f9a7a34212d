// The transformer layers: the built-in gpt's size by hand, incremental decoding
// against the full forward, generation with and without the cache, and errors.
#include <gtest/gtest.h>

#include "loom/autograd.h"
#include "loom/io/model_description.h"
#include "loom/nn.h"

namespace loom::nn {
namespace {

std::shared_ptr<Graph> gpt(uint64_t seed = 4) {
  manual_seed(seed);
  return io::model_from_json_text(io::builtin_model_description("gpt"), "gpt");
}

Tensor tokens(const std::vector<int64_t>& values, int64_t batch) {
  return Tensor::from_vector<int64_t>(values, {batch, static_cast<int64_t>(values.size()) / batch});
}

TEST(Gpt, BuiltinHasTheReferenceShapeAndSize) {
  auto model = gpt();
  const int64_t w = 128, v = 256, ctx = 64;
  const int64_t block = 2 * 2 * w + (3 * w * w + 3 * w) + (w * w + w) + (4 * w * w + 4 * w) + (4 * w * w + w);
  EXPECT_EQ(model->num_parameters(), v * w + ctx * w + 4 * block + 2 * w + w * v);
  EXPECT_EQ(model->num_parameters(), 867072);  // the figure issue 13 states for PyTorch's model
  std::vector<int64_t> t(2 * 10);
  for (size_t i = 0; i < t.size(); ++i)
    t[i] = static_cast<int64_t>(i * 37 % 256);
  Tensor logits = model->forward(tokens(t, 2));
  EXPECT_EQ(logits.shape(), (Shape{2, 10, 256}));
  // A sequence longer than the context is an error naming both lengths.
  std::vector<int64_t> long_seq(65, 1);
  try {
    model->forward(tokens(long_seq, 1));
    FAIL() << "65 positions passed a context of 64";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("context of 64"), std::string::npos) << e.what();
  }
}

// Feeding the tokens in pieces through a DecodeCache gives the logits the full
// forward gives at every position (causal attention sees the same keys).
TEST(Gpt, IncrementalDecodingEqualsTheFullForward) {
  auto model = gpt();
  model->eval();
  autograd::NoGradGuard no_grad;
  std::vector<int64_t> t = {72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100};
  const Tensor full = model->forward(tokens(t, 1));
  DecodeCache cache(64);
  DecodeScope scope(cache);
  int64_t at = 0;
  for (int64_t piece : {5, 1, 1, 3, 2}) {
    std::vector<int64_t> part(t.begin() + at, t.begin() + at + piece);
    const Tensor logits = model->forward(tokens(part, 1));
    cache.advance(piece);
    auto got = logits.to_vector<float>();
    auto want = slice(full, 1, at, at + piece).contiguous().to_vector<float>();
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_NEAR(got[i], want[i], 2e-5 * (1 + std::abs(want[i]))) << "position " << at << "+, element " << i;
    at += piece;
  }
  EXPECT_EQ(cache.position(), 12);
  // A forward that would pass the context names it.
  std::vector<int64_t> too_many(60, 3);
  EXPECT_THROW(model->forward(tokens(too_many, 1)), ValueError);
}

TEST(Gpt, GenerationWithTheCacheEqualsWithout) {
  auto model = gpt();
  const std::vector<int64_t> prompt = {84, 104, 101, 32};
  for (double temperature : {0.0, 0.9}) {
    GenerateOptions o{.tokens = 40, .temperature = temperature, .top_k = 20, .seed = 9};
    const auto cached = generate(*model, 64, prompt, o);
    o.use_cache = false;
    const auto plain = generate(*model, 64, prompt, o);
    EXPECT_EQ(cached, plain) << "temperature " << temperature;
    EXPECT_EQ(cached.size(), 44u);
    EXPECT_TRUE(std::equal(prompt.begin(), prompt.end(), cached.begin()));
  }
  // Past the context the cached path slides in half-context hops and keeps going.
  GenerateOptions longer{.tokens = 100, .temperature = 1.0, .seed = 2};
  EXPECT_EQ(generate(*model, 64, prompt, longer).size(), 104u);
  EXPECT_THROW(generate(*model, 64, {}, longer), ValueError);
  EXPECT_THROW(generate(*model, 64, {300}, longer), Error);  // outside the vocabulary
}

TEST(Sampling, TopKAndTemperatureDrawAsSpecified) {
  const float logits[4] = {0.0f, 2.0f, 1.0f, -1.0f};
  Generator gen(1);
  EXPECT_EQ(sample_token(logits, 4, 0.0, 0, gen), 1);  // greedy
  int counts[4] = {0, 0, 0, 0};
  for (int i = 0; i < 4000; ++i)
    ++counts[sample_token(logits, 4, 1.0, 2, gen)];
  EXPECT_EQ(counts[0] + counts[3], 0);  // top-2 keeps tokens 1 and 2
  // p(1) / p(2) = e^1 at temperature 1.
  EXPECT_NEAR(static_cast<double>(counts[1]) / counts[2], std::exp(1.0), 0.35);
}

}  // namespace
}  // namespace loom::nn
