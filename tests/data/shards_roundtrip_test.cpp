// Compressed shards: writing, reading back exactly, random access, loader streaming.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "loom/core/generator.h"
#include "loom/data/data_loader.h"
#include "loom/data/shards.h"
#include "test_support.h"

namespace loom::data {
namespace {

using loom::testing::TempDir;

// f32 images [n, 2, 5, 3] (random, so every bit matters) and i64 labels.
std::shared_ptr<TensorDataset> source(int64_t n) {
  Generator g(17);
  return std::make_shared<TensorDataset>(g.normal_tensor({n, 2, 5, 3}, 0, 1), Tensor::arange(n));
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.contiguous().raw_data(), b.contiguous().raw_data(), a.nbytes()) == 0;
}

TEST(ShardsRoundTrip, ReadsBackExactlyWhatWasWritten) {
  TempDir dir;
  auto src = source(1000);
  const std::string manifest =
      write_shards(*src, dir.file("train"), {.samples_per_shard = 256, .samples_per_block = 64});
  EXPECT_EQ(manifest, dir.file("train.manifest.json"));
  for (int k = 0; k < 4; ++k)
    EXPECT_TRUE(std::filesystem::exists(shard_file_path(dir.file("train"), k))) << k;
  EXPECT_FALSE(std::filesystem::exists(shard_file_path(dir.file("train"), 4)));

  auto shards = ShardDataset::open(manifest);
  ASSERT_EQ(shards->size(), 1000);
  EXPECT_EQ(shards->samples_per_block(), 64);
  const ShardManifest& m = shards->manifest();
  EXPECT_EQ(m.shards.size(), 4u);
  EXPECT_EQ(m.shards.back().samples, 1000 - 3 * 256);
  EXPECT_EQ(m.input_shape, (Shape{2, 5, 3}));
  EXPECT_EQ(m.target_shape, Shape{});
  EXPECT_EQ(m.target_dtype, DType::i64);

  std::vector<int64_t> all(1000);
  for (int64_t i = 0; i < 1000; ++i)
    all[static_cast<size_t>(i)] = i;
  Batch back = shards->batch(all);
  EXPECT_TRUE(same_bytes(back.input, src->inputs()));
  EXPECT_TRUE(same_bytes(back.target, src->targets()));
  shards->verify();

  // The manifest is plain JSON with the documented fields.
  nlohmann::json j = nlohmann::json::parse(loom::testing::read_file(manifest));
  EXPECT_EQ(j["total_samples"], 1000);
  EXPECT_EQ(j["shards"][0]["file"], "train-00000.lshard");
  EXPECT_EQ(j["input"]["dtype"], "f32");
}

TEST(ShardsRoundTrip, RandomAccessDecompressesOnlyTheNeededBlocks) {
  TempDir dir;
  auto src = source(500);
  // A cache of two blocks: 50 samples x 120 input bytes (6000, padded to 6016) + 50 x 8 target bytes.
  const std::string manifest = write_shards(*src, dir.file("d"), {.samples_per_shard = 200, .samples_per_block = 50});
  EXPECT_EQ(read_shard_header(shard_file_path(dir.file("d"), 0)).block_raw_bytes(0), 6416);
  auto shards = ShardDataset::open(manifest, {.cache_bytes = 2 * 6416});
  for (int64_t i : {499, 0, 123, 250, 251, 199, 200}) {
    Example e = shards->get(i);
    Example want = src->get(i);
    EXPECT_TRUE(same_bytes(e.input, want.input)) << i;
    EXPECT_EQ(e.target.item<int64_t>(), i);
  }
  auto stats = shards->cache_stats();
  EXPECT_EQ(stats.hits, 1);  // 251 after 250 (same block)
  EXPECT_EQ(stats.misses, 6);
  Batch b = shards->batch({10, 490, 11, 12});
  EXPECT_EQ(b.target.to_vector<int64_t>(), (std::vector<int64_t>{10, 490, 11, 12}));
  EXPECT_TRUE(same_bytes(b.input, src->batch({10, 490, 11, 12}).input));
  EXPECT_THROW(shards->get(500), IndexError);
  EXPECT_THROW(shards->batch({-1}), IndexError);
}

TEST(ShardsRoundTrip, AnyDtypesAndTheStreamingWriter) {
  TempDir dir;
  ShardWriter writer(dir.file("sub/mixed"), {.samples_per_shard = 4, .samples_per_block = 2});
  Tensor u8 = Tensor::arange(7 * 3, DType::u8).view({7, 3});
  Tensor f64 = Tensor::arange(7 * 2, DType::f64).view({7, 2});
  writer.add(Batch{u8, f64});
  EXPECT_THROW(writer.add(Batch{Tensor::zeros({1, 3}), Tensor::zeros({1, 2}, DType::f64)}), ValueError);
  writer.add(Example{Tensor::full({3}, 9, DType::u8), Tensor::full({2}, -1, DType::f64)});
  EXPECT_EQ(writer.samples(), 8);
  auto shards = ShardDataset::open(writer.finish());
  ASSERT_EQ(shards->size(), 8);
  Example e = shards->get(5);
  EXPECT_EQ(e.input.to_vector<uint8_t>(), (std::vector<uint8_t>{15, 16, 17}));
  EXPECT_EQ(e.target.to_vector<double>(), (std::vector<double>{10, 11}));
  EXPECT_EQ(shards->get(7).input.to_vector<uint8_t>(), (std::vector<uint8_t>{9, 9, 9}));
  EXPECT_THROW(ShardWriter(dir.file("x"), {.samples_per_shard = 5, .samples_per_block = 2}), ValueError);
  ShardWriter empty(dir.file("empty"));
  EXPECT_THROW(empty.finish(), ValueError);
}

TEST(ShardsRoundTrip, TheLoaderStreamsShardsWithTheSameBatchesAsTheSource) {
  TempDir dir;
  auto src = source(600);
  auto shards =
      ShardDataset::open(write_shards(*src, dir.file("s"), {.samples_per_shard = 256, .samples_per_block = 32}));
  for (int64_t block : {int64_t{0}, int64_t{32}}) {
    DataLoaderOptions o{.batch_size = 25, .shuffle = true, .seed = 8, .shuffle_block = block};
    DataLoader from_memory(src, o);
    o.num_workers = 2;
    DataLoader from_shards(shards, o);
    int batches = 0;
    while (auto a = from_memory.next()) {
      auto b = from_shards.next();
      ASSERT_TRUE(b.has_value());
      ASSERT_TRUE(same_bytes(a->input, b->input)) << "batch " << batches;
      ASSERT_TRUE(same_bytes(a->target, b->target));
      ++batches;
    }
    EXPECT_FALSE(from_shards.next().has_value());
    EXPECT_EQ(batches, 24);
  }
}

}  // namespace
}  // namespace loom::data
