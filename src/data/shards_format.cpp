// NOTE [Shard format] (shards.h): header encoding and checking, manifest parsing.
#include <zlib.h>
#include <zstd.h>

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "loom/core/error.h"
#include "loom/data/shards.h"

namespace loom::data {
namespace {

// Element bytes are stored as they are in memory; the format says little-endian.
static_assert(std::endian::native == std::endian::little, "shards store little-endian element bytes");

constexpr size_t kFixedHeader = 32;  // magic .. sample_count
constexpr int64_t kMaxDims = 8;
constexpr int64_t kMaxSampleBytes = int64_t{1} << 30;
constexpr int64_t kMaxBlockBytes = int64_t{1} << 31;
constexpr int64_t kMaxSamples = int64_t{1} << 40;
constexpr uint64_t kMaxHeaderBytes = uint64_t{64} << 20;
constexpr int64_t kTargetAlign = 64;

// Format codes, fixed by NOTE [Shard format] whatever the DType enum's order.
constexpr DType kDtypeCodes[] = {DType::f32, DType::f64, DType::i64,  DType::i32,
                                 DType::i8,  DType::u8,  DType::bf16, DType::f16};

uint8_t dtype_code(DType t) {
  for (uint8_t c = 0; c < std::size(kDtypeCodes); ++c)
    if (kDtypeCodes[c] == t)
      return c;
  LOOM_THROW(ValueError, "shards: dtype ", dtype_name(t), " has no shard format code");
}

uint32_t crc32_of(const void* data, size_t n) {
  return static_cast<uint32_t>(crc32_z(crc32_z(0L, Z_NULL, 0), static_cast<const Bytef*>(data), n));
}

std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

std::string base_name(const std::string& path) { return std::filesystem::path(path).filename().string(); }

void put(std::string& out, const void* p, size_t n) { out.append(static_cast<const char*>(p), n); }
template <typename T>
void put(std::string& out, T v) {
  put(out, &v, sizeof(v));
}

// Reads little-endian fields from header bytes; running past the end is a truncation.
class Cursor {
 public:
  Cursor(const std::string& bytes, const std::string& path) : bytes_(bytes), path_(path) {}
  template <typename T>
  T take(const char* what) {
    if (pos_ + sizeof(T) > bytes_.size()) {
      LOOM_THROW(IOError, base_name(path_), ": the header ends inside its ", what, " (header is ", bytes_.size(),
                 " bytes); the shard is corrupted");
    }
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  size_t pos() const { return pos_; }

 private:
  const std::string& bytes_;
  const std::string& path_;
  size_t pos_ = 0;
};

uint64_t header_size(const ShardHeader& h) {
  return kFixedHeader + 8 * (h.input_shape.size() + h.target_shape.size()) + 4 + 24 * h.blocks.size() + 4;
}

int64_t sample_bytes(const Shape& shape, DType dtype) {
  return shape_numel(shape) * static_cast<int64_t>(dtype_size(dtype));
}

std::string read_range(std::FILE* f, uint64_t offset, uint64_t n, const std::string& path) {
  std::string out(static_cast<size_t>(n), '\0');
  if (std::fseek(f, static_cast<long>(offset), SEEK_SET) != 0 || std::fread(out.data(), 1, out.size(), f) != n)
    LOOM_THROW(IOError, base_name(path), ": cannot read ", n, " header bytes at offset ", offset, ": ",
               std::strerror(errno));
  return out;
}

Shape read_dims(Cursor& c, int64_t ndim, const char* field, const std::string& path) {
  Shape shape;
  for (int64_t d = 0; d < ndim; ++d) {
    const auto v = c.take<int64_t>(field);
    if (v < 1 || v > (int64_t{1} << 31))
      LOOM_THROW(IOError, base_name(path), ": ", field, " dimension ", d, " is ", v,
                 " (expected 1..2^31); the shard is corrupted");
    shape.push_back(v);
  }
  return shape;
}

}  // namespace

int64_t ShardHeader::input_bytes() const { return sample_bytes(input_shape, input_dtype); }
int64_t ShardHeader::target_bytes() const { return sample_bytes(target_shape, target_dtype); }

int64_t ShardHeader::block_samples(int64_t block) const {
  return std::min(samples_per_block, samples - block * samples_per_block);
}

int64_t ShardHeader::block_target_offset(int64_t block) const {
  const int64_t in = block_samples(block) * input_bytes();
  return (in + kTargetAlign - 1) / kTargetAlign * kTargetAlign;
}

int64_t ShardHeader::block_raw_bytes(int64_t block) const {
  return block_target_offset(block) + block_samples(block) * target_bytes();
}

std::string encode_shard_header(ShardHeader& h) {
  h.header_bytes = header_size(h);
  uint64_t offset = h.header_bytes;
  for (ShardBlock& b : h.blocks) {
    b.offset = offset;
    offset += b.compressed_bytes;
  }
  std::string out;
  out.reserve(static_cast<size_t>(h.header_bytes));
  put(out, kShardMagic, sizeof(kShardMagic));
  put<uint32_t>(out, h.version);
  put<uint32_t>(out, static_cast<uint32_t>(h.header_bytes));
  put<uint8_t>(out, dtype_code(h.input_dtype));
  put<uint8_t>(out, dtype_code(h.target_dtype));
  put<uint8_t>(out, static_cast<uint8_t>(h.input_shape.size()));
  put<uint8_t>(out, static_cast<uint8_t>(h.target_shape.size()));
  put<uint32_t>(out, static_cast<uint32_t>(h.samples_per_block));
  put<uint64_t>(out, static_cast<uint64_t>(h.samples));
  for (int64_t d : h.input_shape)
    put<int64_t>(out, d);
  for (int64_t d : h.target_shape)
    put<int64_t>(out, d);
  put<uint32_t>(out, static_cast<uint32_t>(h.blocks.size()));
  for (const ShardBlock& b : h.blocks) {
    put<uint64_t>(out, b.offset);
    put<uint64_t>(out, b.compressed_bytes);
    put<uint32_t>(out, b.crc32);
    put<uint32_t>(out, 0);
  }
  h.header_crc32 = crc32_of(out.data(), out.size());
  put<uint32_t>(out, h.header_crc32);
  LOOM_ASSERT(out.size() == h.header_bytes);
  return out;
}

ShardHeader read_shard_header(const std::string& path) {
  const std::string name = base_name(path);
  std::FILE* raw = std::fopen(path.c_str(), "rb");
  if (raw == nullptr)
    LOOM_THROW(IOError, "cannot open shard ", path, ": ", std::strerror(errno));
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(raw, &std::fclose);
  std::error_code ec;
  const uint64_t file_bytes = std::filesystem::file_size(path, ec);
  if (ec)
    LOOM_THROW(IOError, "cannot tell the size of shard ", path, ": ", ec.message());

  if (file_bytes < sizeof(kShardMagic)) {
    LOOM_THROW(IOError, name, ": truncated: the file has ", file_bytes, " bytes, fewer than the ", kFixedHeader,
               "-byte fixed header");
  }
  const std::string magic = read_range(f.get(), 0, sizeof(kShardMagic), path);
  if (std::memcmp(magic.data(), kShardMagic, sizeof(kShardMagic)) != 0) {
    std::ostringstream found;
    for (unsigned char ch : magic)
      found << (ch >= 32 && ch < 127 ? static_cast<char>(ch) : '.');
    LOOM_THROW(IOError, name, ": bad magic (expected \"LSHARD1\\0\", found \"", found.str(),
               "\"); this is not a loom shard file, or its start is corrupted");
  }
  if (file_bytes < kFixedHeader) {
    LOOM_THROW(IOError, name, ": truncated: the file has ", file_bytes, " bytes, fewer than the ", kFixedHeader,
               "-byte fixed header");
  }
  const std::string fixed = read_range(f.get(), 0, kFixedHeader, path);
  Cursor c(fixed, path);
  c.take<uint64_t>("magic");
  ShardHeader h;
  h.version = c.take<uint32_t>("version");
  if (h.version != kShardVersion) {
    LOOM_THROW(IOError, name, ": format version ", h.version, " is not supported (this loom reads version ",
               kShardVersion, ")");
  }
  h.header_bytes = c.take<uint32_t>("header size");
  if (h.header_bytes < kFixedHeader + 8 || h.header_bytes > kMaxHeaderBytes) {
    LOOM_THROW(IOError, name, ": the header claims ", h.header_bytes, " bytes (expected ", kFixedHeader + 8, "..",
               kMaxHeaderBytes, "); the shard is corrupted");
  }
  if (h.header_bytes > file_bytes) {
    LOOM_THROW(IOError, name, ": truncated: the header is ", h.header_bytes, " bytes but the file has only ",
               file_bytes);
  }
  const std::string bytes = read_range(f.get(), 0, h.header_bytes, path);
  uint32_t stored = 0;
  std::memcpy(&stored, bytes.data() + h.header_bytes - 4, 4);
  const uint32_t computed = crc32_of(bytes.data(), h.header_bytes - 4);
  if (stored != computed) {
    LOOM_THROW(IOError, name, ": checksum mismatch in the header (stored ", hex(stored), ", computed ", hex(computed),
               "); the shard is corrupted");
  }
  h.header_crc32 = stored;

  Cursor hc(bytes, path);
  hc.take<uint64_t>("magic");
  hc.take<uint32_t>("version");
  hc.take<uint32_t>("header size");
  const auto in_code = hc.take<uint8_t>("input dtype"), tg_code = hc.take<uint8_t>("target dtype");
  const auto in_ndim = hc.take<uint8_t>("input rank"), tg_ndim = hc.take<uint8_t>("target rank");
  if (in_code >= std::size(kDtypeCodes) || tg_code >= std::size(kDtypeCodes))
    LOOM_THROW(IOError, name, ": unknown dtype code ", int(in_code), "/", int(tg_code), "; the shard is corrupted");
  if (in_ndim > kMaxDims || tg_ndim > kMaxDims)
    LOOM_THROW(IOError, name, ": sample rank ", int(in_ndim), "/", int(tg_ndim), " exceeds ", kMaxDims,
               "; the shard is corrupted");
  h.input_dtype = kDtypeCodes[in_code];
  h.target_dtype = kDtypeCodes[tg_code];
  h.samples_per_block = hc.take<uint32_t>("samples per block");
  const auto samples = hc.take<uint64_t>("sample count");
  if (h.samples_per_block < 1 || samples > static_cast<uint64_t>(kMaxSamples))
    LOOM_THROW(IOError, name, ": ", samples, " samples in blocks of ", h.samples_per_block,
               " is not a valid layout; the shard is corrupted");
  h.samples = static_cast<int64_t>(samples);
  h.input_shape = read_dims(hc, in_ndim, "input", path);
  h.target_shape = read_dims(hc, tg_ndim, "target", path);
  if (h.input_bytes() > kMaxSampleBytes || h.target_bytes() > kMaxSampleBytes ||
      h.samples_per_block * (h.input_bytes() + h.target_bytes()) + kTargetAlign > kMaxBlockBytes) {
    LOOM_THROW(IOError, name, ": blocks of ", h.samples_per_block, " samples of ", shape_str(h.input_shape), " / ",
               shape_str(h.target_shape), " would exceed ", kMaxBlockBytes, " bytes; the shard is corrupted");
  }
  const auto block_count = hc.take<uint32_t>("block count");
  const int64_t expected_blocks = (h.samples + h.samples_per_block - 1) / h.samples_per_block;
  if (block_count != expected_blocks) {
    LOOM_THROW(IOError, name, ": the header lists ", block_count, " blocks but ", h.samples, " samples in blocks of ",
               h.samples_per_block, " need ", expected_blocks, "; the shard is corrupted");
  }
  const uint64_t need =
      kFixedHeader + 8 * (h.input_shape.size() + h.target_shape.size()) + 4 + 24 * uint64_t{block_count} + 4;
  if (need != h.header_bytes) {
    LOOM_THROW(IOError, name, ": the header is ", h.header_bytes, " bytes but its fields need ", need,
               "; the shard is corrupted");
  }
  uint64_t expected_offset = h.header_bytes;
  for (uint32_t k = 0; k < block_count; ++k) {
    ShardBlock b;
    b.offset = hc.take<uint64_t>("block index");
    b.compressed_bytes = hc.take<uint64_t>("block index");
    b.crc32 = hc.take<uint32_t>("block index");
    hc.take<uint32_t>("block index");
    const int64_t raw = h.block_raw_bytes(k);
    if (b.offset != expected_offset || b.compressed_bytes == 0 ||
        b.compressed_bytes > ZSTD_compressBound(static_cast<size_t>(raw))) {
      LOOM_THROW(IOError, name, ": block ", k, " is listed at offset ", b.offset, " with ", b.compressed_bytes,
                 " bytes, but it should start at ", expected_offset, " and hold at most ",
                 ZSTD_compressBound(static_cast<size_t>(raw)), "; the shard is corrupted");
    }
    expected_offset += b.compressed_bytes;
    h.blocks.push_back(b);
  }
  if (expected_offset > file_bytes) {
    LOOM_THROW(IOError, name, ": truncated: the block index says the data ends at byte ", expected_offset,
               " but the file has only ", file_bytes, " bytes");
  }
  if (expected_offset < file_bytes) {
    LOOM_THROW(IOError, name, ": ", file_bytes - expected_offset,
               " unexpected bytes after the last block (the data ends at ", expected_offset, ", the file has ",
               file_bytes, "); the shard is corrupted");
  }
  return h;
}

std::string shard_manifest_path(const std::string& prefix) { return prefix + ".manifest.json"; }

std::string shard_file_path(const std::string& prefix, int64_t index) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "-%05lld.lshard", static_cast<long long>(index));
  return prefix + buf;
}

ShardManifest read_shard_manifest(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    LOOM_THROW(IOError, "cannot open shard manifest ", path, ": ", std::strerror(errno));
  ShardManifest m;
  try {
    nlohmann::json j = nlohmann::json::parse(in);
    if (j.at("format").get<std::string>() != "loom-shards" || j.at("version").get<int>() != 1)
      LOOM_THROW(IOError, path, ": not a version 1 loom shard manifest (format \"", j.at("format").get<std::string>(),
                 "\", version ", j.at("version").dump(), ")");
    m.total_samples = j.at("total_samples").get<int64_t>();
    m.samples_per_block = j.at("samples_per_block").get<int64_t>();
    m.input_dtype = dtype_from_name(j.at("input").at("dtype").get<std::string>());
    m.input_shape = j.at("input").at("shape").get<Shape>();
    m.target_dtype = dtype_from_name(j.at("target").at("dtype").get<std::string>());
    m.target_shape = j.at("target").at("shape").get<Shape>();
    for (const auto& s : j.at("shards")) {
      ShardInfo info;
      info.file = s.at("file").get<std::string>();
      info.samples = s.at("samples").get<int64_t>();
      info.bytes = s.at("bytes").get<uint64_t>();
      info.header_crc32 = static_cast<uint32_t>(std::stoul(s.at("header_crc32").get<std::string>(), nullptr, 16));
      if (info.file.empty() || info.file.find('/') != std::string::npos)
        LOOM_THROW(IOError, path, ": shard file name \"", info.file,
                   "\" must be a plain name in the manifest's folder");
      m.shards.push_back(std::move(info));
    }
  } catch (const IOError&) {
    throw;
  } catch (const std::exception& e) {
    LOOM_THROW(IOError, path, ": malformed shard manifest: ", e.what());
  }
  int64_t sum = 0;
  for (const ShardInfo& s : m.shards)
    sum += s.samples;
  if (sum != m.total_samples || m.samples_per_block < 1)
    LOOM_THROW(IOError, path, ": the manifest's shards hold ", sum, " samples but it says total_samples ",
               m.total_samples, " (samples_per_block ", m.samples_per_block, "); the manifest is corrupted");
  return m;
}

}  // namespace loom::data
