// ShardDataset: random access into compressed shards (NOTE [Shard format] in shards.h).
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <list>
#include <mutex>
#include <unordered_map>

#include "loom/core/error.h"
#include "loom/data/shards.h"

namespace loom::data {
namespace {

std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

// One decompressed block: inputs [k, ...] and targets [k, ...], views into one buffer.
struct DecodedBlock {
  Tensor inputs, targets;
};
using BlockPtr = std::shared_ptr<const DecodedBlock>;

Tensor view_of(const Tensor& bytes, DType dtype, Shape shape, int64_t byte_offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = bytes.storage();
  impl->strides = contiguous_strides(shape);
  impl->shape = std::move(shape);
  impl->dtype = dtype;
  impl->offset = byte_offset / static_cast<int64_t>(dtype_size(dtype));  // NOTE [Shard format]: 64-byte aligned
  return Tensor(impl);
}

Shape with_rows(const Shape& sample, int64_t rows) {
  Shape s = sample;
  s.insert(s.begin(), rows);
  return s;
}

Tensor row_view(const Tensor& rows, int64_t r) {
  Shape shape(rows.shape().begin() + 1, rows.shape().end());
  return rows.as_strided(shape, contiguous_strides(shape), rows.offset() + r * shape_numel(shape));
}

struct OpenShard {
  std::string path, name;
  int fd = -1;
  ShardHeader header;
};

}  // namespace

struct ShardDataset::Impl {
  std::string manifest_path;
  ShardManifest manifest;
  ShardReadOptions options;
  std::vector<OpenShard> shards;
  std::vector<int64_t> starts;  // first global index of each shard, then the total

  struct Entry {
    std::shared_future<BlockPtr> block;
    std::list<uint64_t>::iterator lru_pos;
    uint64_t id;
    int64_t bytes;
  };
  mutable std::mutex mutex;
  mutable std::list<uint64_t> lru;  // most recent first
  mutable std::unordered_map<uint64_t, Entry> cache;
  mutable uint64_t next_id = 0;
  mutable int64_t cached_bytes = 0;
  mutable CacheStats stats;

  ~Impl() {
    for (OpenShard& s : shards)
      if (s.fd >= 0)
        ::close(s.fd);
  }

  void open_shards(const std::string& manifest_name) {
    const auto folder = std::filesystem::path(manifest_path).parent_path();
    int64_t start = 0;
    for (const ShardInfo& info : manifest.shards) {
      OpenShard s;
      s.path = (folder / info.file).string();
      s.name = info.file;
      if (!std::filesystem::exists(s.path)) {
        LOOM_THROW(IOError, manifest_name, ": lists shard ", info.file, " but ", s.path,
                   " does not exist; the shard is missing (re-create the shards or restore the file)");
      }
      s.header = read_shard_header(s.path);
      check_against_manifest(s, info, manifest_name);
      s.fd = ::open(s.path.c_str(), O_RDONLY | O_CLOEXEC);
      if (s.fd < 0)
        LOOM_THROW(IOError, "cannot open shard ", s.path, ": ", std::strerror(errno));
      starts.push_back(start);
      start += s.header.samples;
      shards.push_back(std::move(s));
    }
    starts.push_back(start);
  }

  void check_against_manifest(const OpenShard& s, const ShardInfo& info, const std::string& manifest_name) const {
    const ShardHeader& h = s.header;
    auto mismatch = [&](const std::string& what, const std::string& header, const std::string& listed) {
      LOOM_THROW(IOError, s.name, ": its header has ", what, " ", header, " but the manifest ", manifest_name, " says ",
                 listed, "; the shard does not belong to this manifest or was replaced");
    };
    if (h.samples != info.samples)
      mismatch("sample count", std::to_string(h.samples), std::to_string(info.samples));
    if (h.header_crc32 != info.header_crc32)
      mismatch("checksum", hex(h.header_crc32), hex(info.header_crc32));
    if (h.samples_per_block != manifest.samples_per_block)
      mismatch("samples per block", std::to_string(h.samples_per_block), std::to_string(manifest.samples_per_block));
    if (h.input_dtype != manifest.input_dtype || h.input_shape != manifest.input_shape)
      mismatch("input", std::string(dtype_name(h.input_dtype)) + " " + shape_str(h.input_shape),
               std::string(dtype_name(manifest.input_dtype)) + " " + shape_str(manifest.input_shape));
    if (h.target_dtype != manifest.target_dtype || h.target_shape != manifest.target_shape)
      mismatch("target", std::string(dtype_name(h.target_dtype)) + " " + shape_str(h.target_shape),
               std::string(dtype_name(manifest.target_dtype)) + " " + shape_str(manifest.target_shape));
    std::error_code ec;
    const uint64_t bytes = std::filesystem::file_size(s.path, ec);
    if (ec)
      LOOM_THROW(IOError, "cannot tell the size of shard ", s.path, ": ", ec.message());
    if (bytes != info.bytes)
      mismatch("file size", std::to_string(bytes), std::to_string(info.bytes));
  }

  // (shard, block, row within block) of a global sample index.
  struct Location {
    int64_t shard, block, row;
  };
  Location locate(int64_t index, const char* where) const {
    if (index < 0 || index >= starts.back())
      LOOM_THROW(IndexError, where, ": index ", index, " is out of range for ", starts.back(), " samples");
    const auto shard = static_cast<int64_t>(std::upper_bound(starts.begin(), starts.end(), index) - starts.begin()) - 1;
    const int64_t local = index - starts[static_cast<size_t>(shard)];
    return {shard, local / manifest.samples_per_block, local % manifest.samples_per_block};
  }

  // Reads, checks and decompresses one block (no cache).
  BlockPtr decode(int64_t shard, int64_t block) const {
    const OpenShard& s = shards[static_cast<size_t>(shard)];
    const ShardHeader& h = s.header;
    const ShardBlock& b = h.blocks[static_cast<size_t>(block)];
    std::string compressed(static_cast<size_t>(b.compressed_bytes), '\0');
    size_t got = 0;
    while (got < compressed.size()) {
      const ssize_t n =
          ::pread(s.fd, compressed.data() + got, compressed.size() - got, static_cast<off_t>(b.offset + got));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        LOOM_THROW(IOError, s.name, ": cannot read block ", block, ": ", std::strerror(errno));
      if (n == 0) {
        LOOM_THROW(IOError, s.name, ": truncated: block ", block, " should span bytes ", b.offset, "..",
                   b.offset + b.compressed_bytes, " but the file ends at ", b.offset + got);
      }
      got += static_cast<size_t>(n);
    }
    const auto computed = static_cast<uint32_t>(
        crc32_z(crc32_z(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(compressed.data()), compressed.size()));
    if (computed != b.crc32) {
      LOOM_THROW(IOError, s.name, ": checksum mismatch in block ", block, " (stored ", hex(b.crc32), ", computed ",
                 hex(computed), "); the shard is corrupted");
    }
    const int64_t raw = h.block_raw_bytes(block);
    const unsigned long long declared = ZSTD_getFrameContentSize(compressed.data(), compressed.size());
    if (declared != static_cast<unsigned long long>(raw)) {
      LOOM_THROW(IOError, s.name, ": block ", block, " decompresses to ",
                 declared == ZSTD_CONTENTSIZE_ERROR ? std::string("an invalid zstd frame")
                                                    : std::to_string(declared) + " bytes",
                 " but its samples need ", raw, " bytes; the shard is corrupted");
    }
    Tensor bytes = Tensor::empty({raw}, DType::u8);
    const size_t n = ZSTD_decompress(bytes.raw_data(), static_cast<size_t>(raw), compressed.data(), compressed.size());
    if (ZSTD_isError(n) || n != static_cast<size_t>(raw)) {
      LOOM_THROW(IOError, s.name, ": block ", block,
                 " does not decompress (zstd: ", ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short output",
                 "); the shard is corrupted");
    }
    const int64_t k = h.block_samples(block);
    auto out = std::make_shared<DecodedBlock>();
    out->inputs = view_of(bytes, h.input_dtype, with_rows(h.input_shape, k), 0);
    out->targets = view_of(bytes, h.target_dtype, with_rows(h.target_shape, k), h.block_target_offset(block));
    return out;
  }

  // Drops a cache entry (its waiters keep their shared_future). Caller holds the mutex.
  void forget(std::unordered_map<uint64_t, Entry>::iterator it) const {
    cached_bytes -= it->second.bytes;
    lru.erase(it->second.lru_pos);
    cache.erase(it);
  }

  // The block through the LRU cache. Concurrent callers for one block share a
  // single decompression: the first inserts a future, the others wait on it.
  BlockPtr fetch(int64_t shard, int64_t block) const {
    const uint64_t key = static_cast<uint64_t>(shard) << 32 | static_cast<uint64_t>(block);
    std::unique_lock<std::mutex> lock(mutex);
    if (auto it = cache.find(key); it != cache.end()) {
      ++stats.hits;
      lru.splice(lru.begin(), lru, it->second.lru_pos);
      std::shared_future<BlockPtr> pending = it->second.block;
      lock.unlock();
      return pending.get();  // rethrows the decoder's error to every waiter
    }
    ++stats.misses;
    const int64_t bytes = shards[static_cast<size_t>(shard)].header.block_raw_bytes(block);
    if (bytes > options.cache_bytes) {
      lock.unlock();
      return decode(shard, block);
    }
    std::promise<BlockPtr> promise;
    const uint64_t id = next_id++;
    lru.push_front(key);
    cache.emplace(key, Entry{promise.get_future().share(), lru.begin(), id, bytes});
    cached_bytes += bytes;
    while (cached_bytes > options.cache_bytes) {  // never evicts the new entry: it alone fits
      forget(cache.find(lru.back()));
    }
    lock.unlock();
    try {
      BlockPtr b = decode(shard, block);
      promise.set_value(b);
      return b;
    } catch (...) {
      promise.set_exception(std::current_exception());
      lock.lock();
      // Forget the failure so a later read tries again (and reports again).
      if (auto it = cache.find(key); it != cache.end() && it->second.id == id)
        forget(it);
      throw;
    }
  }
};

std::shared_ptr<ShardDataset> ShardDataset::open(const std::string& manifest_path, ShardReadOptions options) {
  return std::make_shared<ShardDataset>(manifest_path, options);
}

ShardDataset::ShardDataset(const std::string& manifest_path, ShardReadOptions options)
    : impl_(std::make_unique<Impl>()) {
  LOOM_CHECK(options.cache_bytes >= 0, "ShardDataset: cache_bytes must be >= 0, got ", options.cache_bytes);
  impl_->manifest_path = manifest_path;
  impl_->options = options;
  impl_->manifest = read_shard_manifest(manifest_path);
  impl_->open_shards(std::filesystem::path(manifest_path).filename().string());
}

ShardDataset::~ShardDataset() = default;

int64_t ShardDataset::size() const { return impl_->starts.back(); }

const ShardManifest& ShardDataset::manifest() const { return impl_->manifest; }

int64_t ShardDataset::samples_per_block() const { return impl_->manifest.samples_per_block; }

ShardDataset::CacheStats ShardDataset::cache_stats() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->stats;
}

Example ShardDataset::get(int64_t index) const {
  const auto at = impl_->locate(index, "ShardDataset");
  BlockPtr b = impl_->fetch(at.shard, at.block);
  // The views share the block's buffer, which stays alive while they do.
  return {row_view(b->inputs, at.row), row_view(b->targets, at.row)};
}

Batch ShardDataset::batch(const std::vector<int64_t>& indices) const {
  LOOM_CHECK(!indices.empty(), "ShardDataset::batch: no indices given");
  const ShardManifest& m = impl_->manifest;
  const auto n = static_cast<int64_t>(indices.size());
  Batch out{Tensor::empty(with_rows(m.input_shape, n), m.input_dtype),
            Tensor::empty(with_rows(m.target_shape, n), m.target_dtype)};
  const auto in_bytes = static_cast<size_t>(shape_numel(m.input_shape)) * dtype_size(m.input_dtype);
  const auto tg_bytes = static_cast<size_t>(shape_numel(m.target_shape)) * dtype_size(m.target_dtype);
  char* in_dst = static_cast<char*>(out.input.raw_data());
  char* tg_dst = static_cast<char*>(out.target.raw_data());
  // Blocks used by this batch stay pinned here even if the cache evicts them meanwhile.
  std::vector<std::pair<std::pair<int64_t, int64_t>, BlockPtr>> held;
  for (int64_t i = 0; i < n; ++i) {
    const auto at = impl_->locate(indices[static_cast<size_t>(i)], "ShardDataset::batch");
    const std::pair<int64_t, int64_t> key{at.shard, at.block};
    auto it = std::find_if(held.begin(), held.end(), [&](const auto& h) { return h.first == key; });
    if (it == held.end()) {
      held.emplace_back(key, impl_->fetch(at.shard, at.block));
      it = held.end() - 1;
    }
    const DecodedBlock& b = *it->second;
    std::memcpy(in_dst + i * in_bytes, static_cast<const char*>(b.inputs.raw_data()) + at.row * in_bytes, in_bytes);
    std::memcpy(tg_dst + i * tg_bytes, static_cast<const char*>(b.targets.raw_data()) + at.row * tg_bytes, tg_bytes);
  }
  return out;
}

void ShardDataset::verify() const {
  for (size_t s = 0; s < impl_->shards.size(); ++s) {
    const int64_t blocks = static_cast<int64_t>(impl_->shards[s].header.blocks.size());
    for (int64_t k = 0; k < blocks; ++k)
      impl_->decode(static_cast<int64_t>(s), k);
  }
}

}  // namespace loom::data
