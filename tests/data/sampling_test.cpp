#include "loom/data/sampling.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

namespace loom::data {
namespace {

std::map<int64_t, int64_t> class_counts(const std::vector<int64_t>& labels, const std::vector<int64_t>& idx) {
  std::map<int64_t, int64_t> counts;
  for (int64_t i : idx)
    ++counts[labels[static_cast<size_t>(i)]];
  return counts;
}

bool is_permutation_of_range(std::vector<int64_t> v, int64_t n) {
  std::sort(v.begin(), v.end());
  for (int64_t i = 0; i < n; ++i)
    if (v[static_cast<size_t>(i)] != i)
      return false;
  return static_cast<int64_t>(v.size()) == n;
}

TEST(Sampling, SplitIsDisjointCoveringAndExact) {
  Split s = train_validation_split(1003, 0.1, 7);
  EXPECT_EQ(s.validation.size(), 100u);  // llround(100.3)
  EXPECT_EQ(s.train.size(), 903u);
  EXPECT_TRUE(std::is_sorted(s.train.begin(), s.train.end()));
  std::vector<int64_t> all = s.train;
  all.insert(all.end(), s.validation.begin(), s.validation.end());
  EXPECT_TRUE(is_permutation_of_range(all, 1003));
  EXPECT_EQ(train_validation_split(1003, 0.1, 7).validation, s.validation) << "same seed, same split";
  EXPECT_NE(train_validation_split(1003, 0.1, 8).validation, s.validation);
  EXPECT_EQ(train_validation_split(10, 0.0, 1).validation.size(), 0u);
  EXPECT_EQ(train_validation_split(10, 1.0, 1).train.size(), 0u);
  EXPECT_THROW(train_validation_split(10, 1.5, 1), ValueError);
}

TEST(Sampling, StratifiedSplitKeepsClassProportions) {
  // Classes of 500, 300, 150 and 53 samples, interleaved.
  std::vector<int64_t> labels;
  for (int64_t c : {0, 1, 2, 3})
    for (int64_t i = 0; i < std::vector<int64_t>{500, 300, 150, 53}[static_cast<size_t>(c)]; ++i)
      labels.push_back(c);
  std::vector<int64_t> shuffled = labels;
  std::reverse(shuffled.begin(), shuffled.end());
  Split s = train_validation_split(shuffled, 0.2, 3);
  ASSERT_EQ(s.validation.size(), 201u);  // llround(1003 * 0.2) = 201
  auto val = class_counts(shuffled, s.validation), train = class_counts(shuffled, s.train);
  // 201 * n_c / 1003: 100.2, 60.1, 30.06, 10.6 -> floors 100, 60, 30, 10 (200); the
  // one extra goes to the largest remainder (class 3).
  EXPECT_EQ(val[0], 100);
  EXPECT_EQ(val[1], 60);
  EXPECT_EQ(val[2], 30);
  EXPECT_EQ(val[3], 11);
  EXPECT_EQ(train[0], 400);
  EXPECT_EQ(train[3], 42);
  std::vector<int64_t> all = s.train;
  all.insert(all.end(), s.validation.begin(), s.validation.end());
  EXPECT_TRUE(is_permutation_of_range(all, 1003));
}

TEST(Sampling, StratifiedSampleHasExactlyKWithProportions) {
  std::vector<int64_t> labels(1000);
  for (size_t i = 0; i < labels.size(); ++i)
    labels[i] = i % 10 == 0 ? 7 : -1;  // 100 of class 7, 900 of class -1
  auto pick = stratified_sample(labels, 50, 9);
  EXPECT_EQ(pick.size(), 50u);
  EXPECT_EQ(std::set<int64_t>(pick.begin(), pick.end()).size(), 50u) << "no repeats";
  auto counts = class_counts(labels, pick);
  EXPECT_EQ(counts[7], 5);
  EXPECT_EQ(counts[-1], 45);
  EXPECT_EQ(stratified_sample_fraction(labels, 0.1, 9).size(), 100u);
  EXPECT_THROW(stratified_sample(labels, 1001, 9), ValueError);
}

TEST(Sampling, ShardIndicesPadOrTruncateLikeDistributedSampler) {
  std::vector<int64_t> order(10);
  std::iota(order.begin(), order.end(), 100);
  // Padding: 10 samples on 4 ranks -> 3 each, order padded with its first 2 entries.
  std::vector<int64_t> seen;
  for (int64_t r = 0; r < 4; ++r) {
    auto mine = shard_indices(order, r, 4, false);
    EXPECT_EQ(mine.size(), 3u);
    seen.insert(seen.end(), mine.begin(), mine.end());
  }
  EXPECT_EQ(shard_indices(order, 1, 4, false), (std::vector<int64_t>{101, 105, 109}));
  EXPECT_EQ(shard_indices(order, 2, 4, false), (std::vector<int64_t>{102, 106, 100}));
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<int64_t>{100, 100, 101, 101, 102, 103, 104, 105, 106, 107, 108, 109}));
  // Truncation: 2 each, the last 2 of the order skipped, no sample twice.
  std::set<int64_t> kept;
  for (int64_t r = 0; r < 4; ++r) {
    auto mine = shard_indices(order, r, 4, true);
    EXPECT_EQ(mine.size(), 2u);
    kept.insert(mine.begin(), mine.end());
  }
  EXPECT_EQ(kept.size(), 8u);
  EXPECT_EQ(kept.count(108) + kept.count(109), 0u);
  EXPECT_THROW(shard_indices(order, 4, 4, true), ValueError);
}

TEST(Sampling, BlockLocalPermutationKeepsBatchesInFewBlocks) {
  const int64_t n = 1000, block = 50, window = 4;
  auto order = block_local_permutation(n, block, window, 1, 0);
  EXPECT_TRUE(is_permutation_of_range(order, n));
  EXPECT_EQ(order, block_local_permutation(n, block, window, 1, 0));
  EXPECT_NE(order, block_local_permutation(n, block, window, 1, 1));
  // Each group of window * block consecutive entries comes from exactly `window` blocks.
  for (int64_t g = 0; g < n; g += block * window) {
    std::set<int64_t> blocks;
    for (int64_t i = g; i < std::min(n, g + block * window); ++i)
      blocks.insert(order[static_cast<size_t>(i)] / block);
    EXPECT_EQ(blocks.size(), static_cast<size_t>(window));
  }
  std::vector<int64_t> first_blocks;
  for (int64_t g = 0; g < n; g += block * window)
    first_blocks.push_back(*std::min_element(order.begin() + g, order.begin() + g + block * window) / block);
  EXPECT_FALSE(std::is_sorted(first_blocks.begin(), first_blocks.end())) << "the block order should be shuffled";
}

TEST(Sampling, SubsetDatasetMapsIndicesAndBatches) {
  const int64_t n = 20;
  auto base = std::make_shared<TensorDataset>(Tensor::arange(n, DType::f32).view({n, 1}), Tensor::arange(n));
  SubsetDataset sub(base, {5, 3, 19});
  EXPECT_EQ(sub.size(), 3);
  EXPECT_EQ(sub.get(2).target.item<int64_t>(), 19);
  Batch b = sub.batch({2, 0, 0});
  EXPECT_EQ(b.target.to_vector<int64_t>(), (std::vector<int64_t>{19, 5, 5}));
  EXPECT_EQ(b.input.to_vector<float>(), (std::vector<float>{19, 5, 5}));
  EXPECT_THROW(sub.get(3), IndexError);
  EXPECT_THROW(sub.batch({0, -1}), IndexError);
  EXPECT_THROW(SubsetDataset(base, {20}), IndexError);
  EXPECT_EQ(dataset_labels(sub), (std::vector<int64_t>{5, 3, 19}));
}

}  // namespace
}  // namespace loom::data
