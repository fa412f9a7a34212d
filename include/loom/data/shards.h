#pragma once
// Compressed dataset shards: a Dataset packed into zstd-compressed binary files
// with random access by sample index, for data that should not be re-decoded
// from its source format every epoch, or that is too big to hold decoded.
//
//   auto train = loom::data::load_fashion_mnist();
//   std::string manifest = loom::data::write_shards(*train, "/data/fmnist/train");
//   // -> /data/fmnist/train-00000.lshard ... and /data/fmnist/train.manifest.json
//   auto shards = loom::data::ShardDataset::open(manifest);
//   loom::data::DataLoader loader(shards, {.batch_size = 64, .shuffle = true, .seed = 1, .num_workers = 2,
//                                          .shuffle_block = shards->samples_per_block()});
//
// NOTE [Shard format]
// A shard "<prefix>-NNNNN.lshard" holds up to samples_per_shard samples, each an
// input and a target tensor of the dataset's fixed per-sample shapes and dtypes.
// Samples are grouped in blocks of samples_per_block; a block's raw bytes are its
// inputs back to back, zero padding to a multiple of 64 bytes, then its targets
// back to back (native little-endian element bytes), compressed as one zstd frame.
// Reading one sample decompresses only its block.
//   header (all integers little-endian):
//     magic "LSHARD1\0" (8) | u32 version (1) | u32 header_bytes
//     u8 input dtype code | u8 target dtype code | u8 input ndim | u8 target ndim
//     u32 samples_per_block | u64 sample_count
//     i64 input dims[ndim] | i64 target dims[ndim]
//     u32 block_count | block_count x (u64 offset, u64 compressed_bytes, u32 crc32, u32 0)
//     u32 header_crc32 (zlib crc32 of every header byte before it)
//   then the blocks, contiguous from header_bytes to the end of the file.
// Each block's crc32 covers its compressed bytes and is checked on every read;
// the header's crc32 covers the block index, so it fingerprints the whole shard
// and the manifest records it. Dtype codes: f32 0, f64 1, i64 2, i32 3, i8 4,
// u8 5, bf16 6, f16 7 (fixed by the format, not by the DType enum's order).
//
// The manifest "<prefix>.manifest.json" records the format, total samples,
// samples_per_block, input/target dtype and shape, and per shard its file name
// (relative to the manifest's folder), sample count, size in bytes and header crc32.
//
// Every file is untrusted: sizes are checked against the file before anything is
// allocated, and each problem is an IOError naming the file and what is wrong
// (bad magic, truncation, a checksum mismatch with both values, a shard the
// manifest lists that is missing, a header that disagrees with the manifest).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "loom/data/dataset.h"

namespace loom::data {

inline constexpr char kShardMagic[8] = {'L', 'S', 'H', 'A', 'R', 'D', '1', '\0'};
inline constexpr uint32_t kShardVersion = 1;

// ---- format -------------------------------------------------------------------------

struct ShardBlock {
  uint64_t offset = 0;  // from the start of the file
  uint64_t compressed_bytes = 0;
  uint32_t crc32 = 0;  // of the compressed bytes
};

struct ShardHeader {
  uint32_t version = kShardVersion;
  DType input_dtype = DType::f32, target_dtype = DType::i64;
  Shape input_shape, target_shape;  // per sample
  int64_t samples = 0;
  int64_t samples_per_block = 0;
  std::vector<ShardBlock> blocks;
  uint64_t header_bytes = 0;
  uint32_t header_crc32 = 0;

  int64_t input_bytes() const;   // per sample
  int64_t target_bytes() const;  // per sample
  int64_t block_samples(int64_t block) const;
  // Decompressed size of `block`, and where its targets start within it.
  int64_t block_raw_bytes(int64_t block) const;
  int64_t block_target_offset(int64_t block) const;
};

// The header's bytes. Fills header_bytes, header_crc32 and every block's offset
// (blocks follow the header back to back); the rest must be set.
std::string encode_shard_header(ShardHeader& header);

// Reads and checks a shard's header: magic, version, sizes, header checksum, and
// that the block index describes exactly the rest of the file (IOError otherwise).
ShardHeader read_shard_header(const std::string& path);

struct ShardInfo {
  std::string file;  // relative to the manifest's folder
  int64_t samples = 0;
  uint64_t bytes = 0;
  uint32_t header_crc32 = 0;
};

struct ShardManifest {
  int64_t total_samples = 0;
  int64_t samples_per_block = 0;
  DType input_dtype = DType::f32, target_dtype = DType::i64;
  Shape input_shape, target_shape;
  std::vector<ShardInfo> shards;
};

// Parses a manifest (IOError naming it when missing or malformed).
ShardManifest read_shard_manifest(const std::string& path);
// "<prefix>.manifest.json"
std::string shard_manifest_path(const std::string& prefix);
// "<prefix>-00003.lshard" for index 3.
std::string shard_file_path(const std::string& prefix, int64_t index);

// ---- writing ------------------------------------------------------------------------

struct ShardWriterOptions {
  int64_t samples_per_shard = 8192;  // a multiple of samples_per_block
  int64_t samples_per_block = 256;
  int compression_level = 3;  // zstd level, 1..19
};

// Streams samples into shards. Files are written under a temporary name and renamed
// when complete, so a crash never leaves a shard that looks whole.
class ShardWriter {
 public:
  ShardWriter(std::string prefix, ShardWriterOptions options = {});
  ~ShardWriter();
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  // Appends the rows of batch.input [k, ...] and batch.target [k, ...]. Every sample
  // must have the shapes and dtypes of the first one (ValueError otherwise).
  void add(const Batch& batch);
  void add(const Example& example);
  int64_t samples() const;
  // Writes the last shard and the manifest; returns the manifest's path.
  std::string finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Packs every sample of `dataset`, in index order; returns the manifest's path.
std::string write_shards(const Dataset& dataset, const std::string& prefix, ShardWriterOptions options = {});

// ---- reading ------------------------------------------------------------------------

struct ShardReadOptions {
  // Decompressed blocks kept, least recently used evicted past this many bytes
  // (0: no cache). When the whole decompressed dataset fits (Fashion-MNIST's 60000
  // f32 images are 188 MB), every block is decompressed once per process and any
  // shuffle is fast. Larger datasets want the DataLoader's shuffle_block (NOTE
  // [Block-local shuffle]): with a full shuffle nearly every sample of a batch
  // needs its own block, decompressing samples_per_block samples to use one.
  int64_t cache_bytes = int64_t{256} << 20;
};

// The samples of a manifest's shards as a Dataset. Opening reads the manifest and
// every shard's header and checks them against each other; blocks are read,
// checked and decompressed on demand. Safe to use from several threads at once
// (DataLoader workers): reads use pread and the block cache is locked.
class ShardDataset : public Dataset {
 public:
  static std::shared_ptr<ShardDataset> open(const std::string& manifest_path, ShardReadOptions options = {});
  explicit ShardDataset(const std::string& manifest_path, ShardReadOptions options = {});
  ~ShardDataset() override;

  int64_t size() const override;
  // Views into the cached decompressed block (no copy).
  Example get(int64_t index) const override;
  // One decompression per distinct block among `indices`, then a memcpy per row.
  Batch batch(const std::vector<int64_t>& indices) const override;

  const ShardManifest& manifest() const;
  int64_t samples_per_block() const;
  // Reads, checks and decompresses every block of every shard; IOError on the first problem.
  void verify() const;

  struct CacheStats {
    int64_t hits = 0, misses = 0;  // a miss decompresses a block
  };
  CacheStats cache_stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace loom::data
