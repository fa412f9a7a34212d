#include "loom/data/transforms.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace loom::data {
namespace {

std::vector<Generator> generators(int64_t n, uint64_t seed) {
  std::vector<Generator> g;
  for (int64_t i = 0; i < n; ++i)
    g.emplace_back(seed * 1000 + static_cast<uint64_t>(i));
  return g;
}

// Pixel (n, c, y, x) holds a value that names it, so moved pixels can be traced.
Batch numbered_images(int64_t n, int64_t c, int64_t h, int64_t w) {
  Tensor x = Tensor::empty({n, c, h, w});
  float* p = x.data<float>();
  for (int64_t i = 0; i < n * c * h * w; ++i)
    p[i] = static_cast<float>(i + 1);  // never 0, so padding is recognisable
  return {x, Tensor::arange(n)};
}

float at(const Tensor& t, int64_t n, int64_t c, int64_t y, int64_t x) {
  const Shape& s = t.shape();
  return t.data<float>()[((n * s[1] + c) * s[2] + y) * s[3] + x];
}

TEST(Transforms, FlipTwiceIsTheIdentityAndFlipMirrorsRows) {
  Batch b = numbered_images(4, 2, 3, 5);
  RandomHorizontalFlip always(1.0);
  auto g = generators(4, 1);
  Batch once = always.apply(b, g);
  for (int64_t x = 0; x < 5; ++x)
    EXPECT_EQ(at(once.input, 2, 1, 2, x), at(b.input, 2, 1, 2, 4 - x));
  Batch twice = always.apply(once, g);
  EXPECT_EQ(twice.input.to_vector<float>(), b.input.to_vector<float>());
  EXPECT_EQ(twice.target.to_vector<int64_t>(), b.target.to_vector<int64_t>());
  EXPECT_EQ(b.input.data<float>()[0], 1.0f) << "the input batch must not be modified";

  RandomHorizontalFlip never(0.0);
  EXPECT_EQ(never.apply(b, g).input.to_vector<float>(), b.input.to_vector<float>());
}

TEST(Transforms, FlipWithHalfProbabilityFlipsAboutHalf) {
  const int64_t n = 2000;
  Batch b = numbered_images(n, 1, 1, 2);
  auto g = generators(n, 3);
  Batch out = RandomHorizontalFlip(0.5).apply(b, g);
  int flipped = 0;
  for (int64_t i = 0; i < n; ++i)
    flipped += at(out.input, i, 0, 0, 0) == at(b.input, i, 0, 0, 1);
  EXPECT_GT(flipped, 900);
  EXPECT_LT(flipped, 1100);
}

TEST(Transforms, CropWithPaddingMovesPixelsByTheDrawnOffset) {
  const int64_t n = 64, h = 6, w = 7, p = 2;
  Batch b = numbered_images(n, 2, h, w);
  RandomCrop crop(h, w, p);
  auto g = generators(n, 5);
  Batch out = crop.apply(b, g);
  ASSERT_EQ(out.input.shape(), (Shape{n, 2, h, w}));
  // Replay the documented draws to know each sample's offset.
  auto replay = generators(n, 5);
  std::set<std::pair<int64_t, int64_t>> offsets;
  for (int64_t i = 0; i < n; ++i) {
    const auto top = static_cast<int64_t>(replay[i].below(h + 2 * p - h + 1));
    const auto left = static_cast<int64_t>(replay[i].below(w + 2 * p - w + 1));
    offsets.insert({top, left});
    for (int64_t c = 0; c < 2; ++c) {
      for (int64_t y = 0; y < h; ++y) {
        for (int64_t x = 0; x < w; ++x) {
          const int64_t sy = y + top - p, sx = x + left - p;
          const bool inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
          const float expected = inside ? at(b.input, i, c, sy, sx) : 0.0f;
          ASSERT_EQ(at(out.input, i, c, y, x), expected) << "sample " << i << " offset " << top << "," << left;
        }
      }
    }
  }
  EXPECT_GT(offsets.size(), 10u) << "offsets should vary between samples";
}

TEST(Transforms, CropWithoutPaddingToTheFullSizeIsTheIdentity) {
  Batch b = numbered_images(3, 1, 4, 4);
  auto g = generators(3, 1);
  EXPECT_EQ(RandomCrop(4, 0).apply(b, g).input.to_vector<float>(), b.input.to_vector<float>());
  Batch smaller = RandomCrop(2, 3, 0).apply(b, g);
  EXPECT_EQ(smaller.input.shape(), (Shape{3, 1, 2, 3}));
  EXPECT_THROW(RandomCrop(9, 2).apply(b, g), ValueError);  // 9 > 4 + 2 * 2
}

TEST(Transforms, NormalizeGivesZeroMeanUnitStd) {
  Generator gen(11);
  Tensor x = gen.normal_tensor({256, 3, 8, 8}, 0, 1);
  float* p = x.data<float>();
  const float means[3] = {0.5f, -2.0f, 10.0f}, stds[3] = {0.25f, 3.0f, 0.1f};
  for (int64_t i = 0; i < 256; ++i)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t k = 0; k < 64; ++k)
        p[(i * 3 + c) * 64 + k] = p[(i * 3 + c) * 64 + k] * stds[c] + means[c];
  Normalize norm({0.5f, -2.0f, 10.0f}, {0.25f, 3.0f, 0.1f});
  Batch out = norm.apply({x, Tensor::arange(256)}, {});
  const float* q = out.input.data<float>();
  for (int64_t c = 0; c < 3; ++c) {
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < 256; ++i)
      for (int64_t k = 0; k < 64; ++k) {
        const double v = q[(i * 3 + c) * 64 + k];
        sum += v;
        sq += v * v;
      }
    const double mean = sum / (256 * 64), var = sq / (256 * 64) - mean * mean;
    EXPECT_NEAR(mean, 0.0, 0.02) << "channel " << c;
    EXPECT_NEAR(std::sqrt(var), 1.0, 0.02) << "channel " << c;
  }
  EXPECT_FLOAT_EQ(q[0], (p[0] - 0.5f) / 0.25f);
  EXPECT_THROW(Normalize({0.f, 0.f}, {1.f}), ValueError);
  EXPECT_THROW(Normalize({0.f}, {0.f}), ValueError);
  EXPECT_THROW(Normalize({0.f, 0.f}, {1.f, 1.f}).apply({x, Tensor::arange(256)}, {}), ValueError);
}

TEST(Transforms, RejectNonImagesAndMissingGenerators) {
  Batch flat{Tensor::zeros({4, 784}), Tensor::arange(4)};
  EXPECT_THROW(RandomHorizontalFlip().apply(flat, {}), ValueError);
  Batch img = numbered_images(4, 1, 2, 2);
  auto too_few = generators(3, 1);
  EXPECT_THROW(RandomHorizontalFlip().apply(img, too_few), ValueError);
}

// A per-sample transform: adds the sample's label to every pixel.
class AddLabel : public SampleTransform {
 public:
  std::string name() const override { return "AddLabel"; }
  Example apply_sample(const Example& s, Generator&) const override {
    Tensor x = s.input.clone();
    const float label = static_cast<float>(s.target.item<int64_t>());
    float* p = x.data<float>();
    for (int64_t i = 0; i < x.numel(); ++i)
      p[i] += label;
    return {x, s.target};
  }
};

TEST(Transforms, SampleTransformsAreStackedIntoABatch) {
  Batch b{Tensor::zeros({3, 1, 2, 2}), Tensor::arange(3)};
  auto g = generators(3, 1);
  Batch out = apply_transforms({std::make_shared<AddLabel>(), std::make_shared<RandomHorizontalFlip>(1.0)}, b, g);
  auto v = out.input.to_vector<float>();
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t k = 0; k < 4; ++k)
      EXPECT_EQ(v[static_cast<size_t>(i * 4 + k)], static_cast<float>(i));
}

}  // namespace
}  // namespace loom::data
