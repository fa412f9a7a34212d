// ShardWriter: packs samples into shards (NOTE [Shard format] in shards.h).
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "loom/core/error.h"
#include "loom/data/shards.h"
#include "loom/runtime/parallel.h"

namespace loom::data {
namespace {

std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

// Writes `parts` to `path` through a temporary file renamed at the end, so a
// reader never sees a half-written shard or manifest.
void write_atomically(const std::string& path, const std::vector<const std::string*>& parts) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr)
    LOOM_THROW(IOError, "cannot create ", tmp, ": ", std::strerror(errno));
  bool ok = true;
  for (const std::string* p : parts)
    ok = ok && std::fwrite(p->data(), 1, p->size(), f) == p->size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    LOOM_THROW(IOError, "cannot write ", tmp, ": ", std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    LOOM_THROW(IOError, "cannot rename ", tmp, " to ", path, ": ", std::strerror(errno));
  }
}

}  // namespace

struct ShardWriter::Impl {
  std::string prefix;
  ShardWriterOptions options;
  bool have_layout = false;
  DType input_dtype = DType::f32, target_dtype = DType::i64;
  Shape input_shape, target_shape;
  int64_t input_bytes = 0, target_bytes = 0;
  std::string inputs, targets;  // raw bytes of the current shard's samples
  int64_t pending = 0;          // samples in the current shard
  int64_t total = 0;
  std::vector<ShardInfo> shards;
  bool finished = false;

  void set_layout(const Tensor& input, const Tensor& target) {
    input_dtype = input.dtype();
    target_dtype = target.dtype();
    input_shape.assign(input.shape().begin() + 1, input.shape().end());
    target_shape.assign(target.shape().begin() + 1, target.shape().end());
    LOOM_CHECK(shape_numel(input_shape) > 0 && shape_numel(target_shape) > 0, "ShardWriter: samples of input ",
               shape_str(input_shape), " and target ", shape_str(target_shape),
               " are empty; a shard sample needs at least one element in each");
    input_bytes = shape_numel(input_shape) * static_cast<int64_t>(dtype_size(input_dtype));
    target_bytes = shape_numel(target_shape) * static_cast<int64_t>(dtype_size(target_dtype));
    have_layout = true;
  }

  void check_layout(const Tensor& input, const Tensor& target) const {
    Shape in(input.shape().begin() + 1, input.shape().end()), tg(target.shape().begin() + 1, target.shape().end());
    if (in != input_shape || tg != target_shape || input.dtype() != input_dtype || target.dtype() != target_dtype) {
      LOOM_THROW(ValueError, "ShardWriter: sample ", total, " has input ", dtype_name(input.dtype()), " ",
                 shape_str(in), " and target ", dtype_name(target.dtype()), " ", shape_str(tg),
                 " but the shards hold input ", dtype_name(input_dtype), " ", shape_str(input_shape), " and target ",
                 dtype_name(target_dtype), " ", shape_str(target_shape), "; every sample needs the same shapes");
    }
  }

  void flush_shard() {
    if (pending == 0)
      return;
    ShardHeader h;
    h.input_dtype = input_dtype;
    h.target_dtype = target_dtype;
    h.input_shape = input_shape;
    h.target_shape = target_shape;
    h.samples = pending;
    h.samples_per_block = options.samples_per_block;
    const int64_t blocks = (pending + h.samples_per_block - 1) / h.samples_per_block;
    h.blocks.resize(static_cast<size_t>(blocks));
    std::vector<std::string> compressed(static_cast<size_t>(blocks));
    // Blocks compress independently, and zstd's output does not depend on which thread ran it.
    runtime::parallel_for(0, blocks, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t k = lo; k < hi; ++k) {
        const int64_t first = k * h.samples_per_block, count = h.block_samples(k);
        std::string raw(static_cast<size_t>(h.block_raw_bytes(k)), '\0');
        std::memcpy(raw.data(), inputs.data() + first * input_bytes, static_cast<size_t>(count * input_bytes));
        std::memcpy(raw.data() + h.block_target_offset(k), targets.data() + first * target_bytes,
                    static_cast<size_t>(count * target_bytes));
        std::string& out = compressed[static_cast<size_t>(k)];
        out.resize(ZSTD_compressBound(raw.size()));
        const size_t n = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), options.compression_level);
        if (ZSTD_isError(n))
          LOOM_THROW(IOError, "ShardWriter: zstd failed on block ", k, ": ", ZSTD_getErrorName(n));
        out.resize(n);
        ShardBlock& b = h.blocks[static_cast<size_t>(k)];
        b.compressed_bytes = n;
        b.crc32 = static_cast<uint32_t>(crc32_z(crc32_z(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(out.data()), n));
      }
    });
    const std::string header = encode_shard_header(h);
    std::vector<const std::string*> parts{&header};
    for (const std::string& c : compressed)
      parts.push_back(&c);
    const std::string path = shard_file_path(prefix, static_cast<int64_t>(shards.size()));
    write_atomically(path, parts);
    uint64_t bytes = header.size();
    for (const std::string& c : compressed)
      bytes += c.size();
    shards.push_back({std::filesystem::path(path).filename().string(), pending, bytes, h.header_crc32});
    inputs.clear();
    targets.clear();
    pending = 0;
  }
};

ShardWriter::ShardWriter(std::string prefix, ShardWriterOptions options) : impl_(std::make_unique<Impl>()) {
  const ShardWriterOptions& o = options;
  LOOM_CHECK(o.samples_per_block >= 1 && o.samples_per_block <= (1 << 20),
             "ShardWriter: samples_per_block must be in 1..2^20, got ", o.samples_per_block);
  LOOM_CHECK(o.samples_per_shard >= o.samples_per_block && o.samples_per_shard % o.samples_per_block == 0,
             "ShardWriter: samples_per_shard (", o.samples_per_shard,
             ") must be a positive multiple of samples_per_block (", o.samples_per_block,
             ") so blocks line up across shards (NOTE [Block-local shuffle])");
  LOOM_CHECK(o.compression_level >= 1 && o.compression_level <= 19,
             "ShardWriter: compression_level must be in 1..19, got ", o.compression_level);
  LOOM_CHECK(!prefix.empty() && std::filesystem::path(prefix).has_filename(), "ShardWriter: prefix '", prefix,
             "' needs a file name part, e.g. data/train");
  const auto parent = std::filesystem::path(prefix).parent_path();
  std::error_code ec;
  if (!parent.empty())
    std::filesystem::create_directories(parent, ec);
  if (ec)
    LOOM_THROW(IOError, "ShardWriter: cannot create the folder ", parent.string(), ": ", ec.message());
  impl_->prefix = std::move(prefix);
  impl_->options = options;
}

ShardWriter::~ShardWriter() = default;

int64_t ShardWriter::samples() const { return impl_->total; }

void ShardWriter::add(const Example& example) {
  LOOM_CHECK(example.input.defined() && example.target.defined(),
             "ShardWriter::add: the example has an undefined tensor");
  Shape in = example.input.shape(), tg = example.target.shape();
  in.insert(in.begin(), 1);
  tg.insert(tg.begin(), 1);
  add(Batch{example.input.contiguous().view(in), example.target.contiguous().view(tg)});
}

void ShardWriter::add(const Batch& batch) {
  Impl& s = *impl_;
  LOOM_CHECK(!s.finished, "ShardWriter::add: finish() was already called");
  LOOM_CHECK(batch.input.defined() && batch.target.defined() && batch.input.dim() >= 1 && batch.target.dim() >= 1 &&
                 batch.input.size(0) == batch.target.size(0),
             "ShardWriter::add: expected input [k, ...] and target [k, ...] with one k");
  const Tensor input = batch.input.contiguous(), target = batch.target.contiguous();
  LOOM_CHECK(input.device().is_cpu() && target.device().is_cpu(), "ShardWriter::add: tensors must be on the CPU");
  if (!s.have_layout)
    s.set_layout(input, target);
  s.check_layout(input, target);
  const int64_t k = input.size(0);
  const char* in = static_cast<const char*>(input.raw_data());
  const char* tg = static_cast<const char*>(target.raw_data());
  for (int64_t done = 0; done < k;) {
    const int64_t take = std::min(k - done, s.options.samples_per_shard - s.pending);
    s.inputs.append(in + done * s.input_bytes, static_cast<size_t>(take * s.input_bytes));
    s.targets.append(tg + done * s.target_bytes, static_cast<size_t>(take * s.target_bytes));
    s.pending += take;
    s.total += take;
    done += take;
    if (s.pending == s.options.samples_per_shard)
      s.flush_shard();
  }
}

std::string ShardWriter::finish() {
  Impl& s = *impl_;
  LOOM_CHECK(!s.finished, "ShardWriter::finish: already called");
  LOOM_CHECK(s.total > 0, "ShardWriter::finish: no samples were added; there is nothing to write");
  s.flush_shard();
  s.finished = true;
  nlohmann::json j;
  j["format"] = "loom-shards";
  j["version"] = 1;
  j["total_samples"] = s.total;
  j["samples_per_block"] = s.options.samples_per_block;
  j["input"] = {{"dtype", dtype_name(s.input_dtype)}, {"shape", s.input_shape}};
  j["target"] = {{"dtype", dtype_name(s.target_dtype)}, {"shape", s.target_shape}};
  j["shards"] = nlohmann::json::array();
  for (const ShardInfo& info : s.shards) {
    j["shards"].push_back({{"file", info.file},
                           {"samples", info.samples},
                           {"bytes", info.bytes},
                           {"header_crc32", hex(info.header_crc32)}});
  }
  const std::string path = shard_manifest_path(s.prefix), text = j.dump(2) + "\n";
  write_atomically(path, {&text});
  return path;
}

std::string write_shards(const Dataset& dataset, const std::string& prefix, ShardWriterOptions options) {
  ShardWriter writer(prefix, options);
  const int64_t n = dataset.size(), chunk = std::max<int64_t>(options.samples_per_block, 1024);
  std::vector<int64_t> indices;
  for (int64_t lo = 0; lo < n; lo += chunk) {
    indices.clear();
    for (int64_t i = lo; i < std::min(n, lo + chunk); ++i)
      indices.push_back(i);
    writer.add(dataset.batch(indices));
  }
  return writer.finish();
}

}  // namespace loom::data
