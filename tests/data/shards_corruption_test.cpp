// Every kind of damage to shards is a clear IOError naming the file, never a crash.
#include <gtest/gtest.h>

#include <filesystem>

#include "loom/core/generator.h"
#include "loom/data/data_loader.h"
#include "loom/data/shards.h"
#include "test_support.h"

namespace loom::data {
namespace {

using loom::testing::read_file;
using loom::testing::TempDir;
using loom::testing::write_file;

// 4 shards of 256 samples (blocks of 32) at <dir>/train-0000k.lshard.
class ShardsCorruption : public ::testing::Test {
 protected:
  void SetUp() override {
    Generator g(3);
    TensorDataset src(g.uniform_tensor({1000, 1, 6, 6}, 0, 1), Tensor::arange(1000));
    manifest_ = write_shards(src, dir_.file("train"), {.samples_per_shard = 256, .samples_per_block = 32});
  }
  std::string shard(int k) const { return shard_file_path(dir_.file("train"), k); }

  // The message of the IOError `fn` throws ("" and a test failure when it throws none).
  template <typename Fn>
  static std::string io_error(Fn&& fn) {
    try {
      fn();
    } catch (const IOError& e) {
      return e.what();
    }
    ADD_FAILURE() << "expected an IOError";
    return "";
  }

  TempDir dir_;
  std::string manifest_;
};

void expect_contains(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "\"" << part << "\" not in: " << text;
}

TEST_F(ShardsCorruption, AFlippedPayloadByteIsABlockChecksumMismatch) {
  const ShardBlock block = read_shard_header(shard(1)).blocks[3];
  std::string bytes = read_file(shard(1));
  bytes[block.offset + block.compressed_bytes / 2] ^= 0x10;
  write_file(shard(1), bytes);

  auto shards = ShardDataset::open(manifest_);  // headers are intact
  const int64_t in_block = 256 + 3 * 32 + 5;
  const std::string what = io_error([&] { shards->get(in_block); });
  expect_contains(what, "train-00001.lshard: checksum mismatch in block 3 (stored 0x");
  expect_contains(what, ", computed 0x");
  expect_contains(what, "the shard is corrupted");
  EXPECT_EQ(shards->get(256 + 2 * 32).target.item<int64_t>(), 256 + 2 * 32) << "other blocks still read";
  expect_contains(io_error([&] { shards->batch({0, in_block}); }), "checksum mismatch in block 3");
  expect_contains(io_error([&] { shards->verify(); }), "train-00001.lshard: checksum mismatch in block 3");

  // Through a loader with workers the same error reaches the training loop.
  DataLoader loader(shards, {.batch_size = 64, .num_workers = 2});
  const std::string from_loader = io_error([&] {
    while (loader.next()) {
    }
  });
  expect_contains(from_loader, "checksum mismatch in block 3");
}

TEST_F(ShardsCorruption, AFlippedHeaderByteIsAHeaderChecksumMismatch) {
  std::string bytes = read_file(shard(2));
  bytes[60] ^= 0x01;  // inside the block index
  write_file(shard(2), bytes);
  const std::string what = io_error([&] { ShardDataset::open(manifest_); });
  expect_contains(what, "train-00002.lshard: checksum mismatch in the header (stored 0x");
}

TEST_F(ShardsCorruption, EveryHeaderByteAndEveryTruncationIsCaughtAtOpen) {
  const std::string bytes = read_file(shard(0));
  const uint64_t header = read_shard_header(shard(0)).header_bytes;
  for (uint64_t pos = 0; pos < header; ++pos) {
    std::string damaged = bytes;
    damaged[pos] ^= 0x04;
    write_file(shard(0), damaged);
    const std::string what = io_error([&] { ShardDataset::open(manifest_); });
    ASSERT_NE(what.find("train-00000.lshard: "), std::string::npos) << "byte " << pos << ": " << what;
  }
  for (uint64_t size = 0; size < bytes.size(); size += 97) {
    write_file(shard(0), bytes.substr(0, size));
    const std::string what = io_error([&] { ShardDataset::open(manifest_); });
    ASSERT_NE(what.find("train-00000.lshard: truncated"), std::string::npos) << "size " << size << ": " << what;
  }
}

TEST_F(ShardsCorruption, BadMagic) {
  std::string bytes = read_file(shard(0));
  bytes[0] = 'X';
  write_file(shard(0), bytes);
  expect_contains(io_error([&] { ShardDataset::open(manifest_); }), "train-00000.lshard: bad magic");
  write_file(shard(0), "not a shard at all, just some text");
  expect_contains(io_error([&] { ShardDataset::open(manifest_); }), "train-00000.lshard: bad magic");
}

TEST_F(ShardsCorruption, TruncatedFiles) {
  const std::string bytes = read_file(shard(3));
  write_file(shard(3), bytes.substr(0, bytes.size() - 100));
  std::string what = io_error([&] { ShardDataset::open(manifest_); });
  expect_contains(what, "train-00003.lshard: truncated: the block index says the data ends at byte");
  write_file(shard(3), bytes.substr(0, 40));
  expect_contains(io_error([&] { ShardDataset::open(manifest_); }), "train-00003.lshard: truncated");
  write_file(shard(3), bytes.substr(0, 5));
  expect_contains(io_error([&] { ShardDataset::open(manifest_); }), "train-00003.lshard: truncated");
  write_file(shard(3), bytes + "junk");
  expect_contains(io_error([&] { ShardDataset::open(manifest_); }), "unexpected bytes after the last block");
}

TEST_F(ShardsCorruption, TruncationAfterOpeningIsCaughtOnRead) {
  auto shards = ShardDataset::open(manifest_);
  const std::string bytes = read_file(shard(3));
  std::filesystem::resize_file(shard(3), bytes.size() / 2);
  expect_contains(io_error([&] { shards->get(999); }), "train-00003.lshard: truncated: block");
}

TEST_F(ShardsCorruption, AMissingShardIsNamed) {
  std::filesystem::remove(shard(2));
  const std::string what = io_error([&] { ShardDataset::open(manifest_); });
  expect_contains(what, "train.manifest.json: lists shard train-00002.lshard");
  expect_contains(what, "the shard is missing");
}

TEST_F(ShardsCorruption, AShardFromElsewhereDisagreesWithTheManifest) {
  std::filesystem::copy_file(shard(0), shard(1), std::filesystem::copy_options::overwrite_existing);
  const std::string what = io_error([&] { ShardDataset::open(manifest_); });
  expect_contains(what, "train-00001.lshard: its header has checksum");
  expect_contains(what, "does not belong to this manifest");
}

TEST_F(ShardsCorruption, ABrokenManifest) {
  write_file(manifest_, "{\"format\": \"loom-shards\", \"version\": 1, \"total_");
  expect_contains(io_error([&] { ShardDataset::open(manifest_); }), "malformed shard manifest");
  std::filesystem::remove(manifest_);
  expect_contains(io_error([&] { ShardDataset::open(manifest_); }), "cannot open shard manifest");
}

}  // namespace
}  // namespace loom::data
