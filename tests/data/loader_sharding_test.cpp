// DataLoader sharding by rank (NOTE [Rank sharding]) and block-local shuffling.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "loom/data/data_loader.h"

namespace loom::data {
namespace {

std::shared_ptr<TensorDataset> numbered(int64_t n) {
  return std::make_shared<TensorDataset>(Tensor::arange(n, DType::f32).view({n, 1}), Tensor::arange(n));
}

std::vector<int64_t> targets(DataLoader& loader) {
  std::vector<int64_t> seen;
  while (auto b = loader.next()) {
    auto t = b->target.to_vector<int64_t>();
    seen.insert(seen.end(), t.begin(), t.end());
  }
  return seen;
}

TEST(LoaderSharding, RanksAreDisjointAndCoverTheEpochWithPadding) {
  const int64_t n = 100, world = 3;
  for (int64_t epoch : {0, 1}) {
    std::map<int64_t, int> count;
    for (int64_t rank = 0; rank < world; ++rank) {
      DataLoader loader(numbered(n), {.batch_size = 8,
                                      .shuffle = true,
                                      .seed = 3,
                                      .num_workers = rank % 2 ? 2 : 0,
                                      .rank = rank,
                                      .world_size = world});
      loader.set_epoch(epoch);
      EXPECT_EQ(loader.num_samples(), 34);  // ceil(100 / 3)
      EXPECT_EQ(loader.num_batches(), 5);
      auto seen = targets(loader);
      EXPECT_EQ(seen.size(), 34u);
      EXPECT_EQ(seen, loader.order());
      for (int64_t t : seen)
        ++count[t];
    }
    // 102 slots for 100 samples: every sample at least once, exactly 2 twice.
    ASSERT_EQ(count.size(), 100u);
    int twice = 0;
    for (auto& [sample, c] : count) {
      EXPECT_LE(c, 2);
      twice += c == 2;
    }
    EXPECT_EQ(twice, 2);
  }
}

TEST(LoaderSharding, DropLastTruncatesToEqualDisjointSlices) {
  const int64_t n = 100, world = 3;
  std::set<int64_t> all;
  size_t total = 0;
  for (int64_t rank = 0; rank < world; ++rank) {
    DataLoader loader(
        numbered(n),
        {.batch_size = 10, .shuffle = true, .drop_last = true, .seed = 3, .rank = rank, .world_size = world});
    EXPECT_EQ(loader.num_samples(), 33);  // floor(100 / 3)
    EXPECT_EQ(loader.num_batches(), 3);   // the partial batch of 3 is dropped too
    auto seen = targets(loader);
    EXPECT_EQ(seen.size(), 30u);
    total += seen.size();
    all.insert(seen.begin(), seen.end());
  }
  EXPECT_EQ(all.size(), total) << "no sample on two ranks";
}

TEST(LoaderSharding, EveryRankSeesTheSameGlobalOrder) {
  const int64_t n = 64, world = 4;
  auto global = DataLoader::epoch_order(n, true, 9, 2);
  for (int64_t rank = 0; rank < world; ++rank) {
    DataLoader loader(numbered(n), {.batch_size = 4, .shuffle = true, .seed = 9, .rank = rank, .world_size = world});
    loader.set_epoch(2);
    for (size_t i = 0; i < loader.order().size(); ++i)
      ASSERT_EQ(loader.order()[i], global[rank + i * world]);
  }
  EXPECT_THROW(DataLoader(numbered(n), {.rank = 4, .world_size = 4}), ValueError);
  EXPECT_THROW(DataLoader(numbered(n), {.world_size = 0}), ValueError);
}

TEST(LoaderSharding, BlockLocalShuffleCoversEverySample) {
  const int64_t n = 1000;
  DataLoader loader(
      numbered(n),
      {.batch_size = 50, .shuffle = true, .seed = 4, .num_workers = 2, .shuffle_block = 100, .shuffle_window = 2});
  auto seen = targets(loader);
  auto sorted = seen;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(sorted[static_cast<size_t>(i)], i);
  // Every batch of 50 comes from one window of 2 blocks of 100.
  for (size_t b = 0; b < seen.size(); b += 50) {
    std::set<int64_t> blocks;
    for (size_t i = b; i < b + 50; ++i)
      blocks.insert(seen[i] / 100);
    EXPECT_LE(blocks.size(), 2u);
  }
}

}  // namespace
}  // namespace loom::data
