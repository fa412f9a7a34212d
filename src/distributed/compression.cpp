// The gradient codecs: fp16, 8-bit QSGD-style quantization, top-k; and the factory.
#include "loom/distributed/compression.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "compression_codecs.h"
#include "loom/core/error.h"
#include "loom/kernels/half.h"

namespace loom::distributed {

namespace {

// Element i of type T at p: a payload received beside others starts at any byte,
// so it is read through memcpy (UBSan flagged the misaligned float loads).
template <typename T>
T load_at(const uint8_t* p, int64_t i) {
  T v;
  std::memcpy(&v, p + static_cast<size_t>(i) * sizeof(T), sizeof(T));
  return v;
}

}  // namespace

const std::vector<float>* Compressor::residual(int key) const {
  auto it = residuals_.find(key);
  return it == residuals_.end() ? nullptr : &it->second;
}

namespace detail {
namespace {

class NoneCompressor final : public Compressor {
 public:
  const char* name() const override { return "none"; }
  void encode(const float* src, int64_t count, std::vector<uint8_t>& payload) override {
    payload.resize(static_cast<size_t>(count) * 4);
    if (count)
      std::memcpy(payload.data(), src, payload.size());
  }
  void decode_add(const uint8_t* payload, size_t bytes, float* dst, int64_t count) const override {
    LOOM_CHECK(bytes == static_cast<size_t>(count) * 4, "none codec: payload of ", bytes, " bytes for ", count,
               " values");
    for (int64_t i = 0; i < count; ++i)
      dst[i] += load_at<float>(payload, i);
  }
  CompressionReport allreduce(Communicator& comm, float* data, int64_t count, int) override {
    CompressionReport rep;
    const uint64_t before = comm.bytes_sent();
    comm.allreduce(data, count, DType::f32, ReduceOp::sum, AllreduceAlgorithm::automatic);
    rep.bytes_sent = comm.bytes_sent() - before;
    rep.raw_bytes = ring_bytes(comm.size(), count);
    total_.bytes_sent += rep.bytes_sent;
    total_.raw_bytes += rep.raw_bytes;
    return rep;
  }
};

class Fp16Compressor final : public DenseCompressor {
 public:
  const char* name() const override { return "fp16"; }
  size_t encoded_bytes(int64_t count) const override { return static_cast<size_t>(count) * 2; }
  void encode(const float* src, int64_t count, std::vector<uint8_t>& payload) override {
    payload.resize(encoded_bytes(count));
    kernels::floats_to_halves(src, payload.data(), count);
  }
  void decode_add(const uint8_t* payload, size_t bytes, float* dst, int64_t count) const override {
    LOOM_CHECK(bytes == encoded_bytes(count), "fp16 codec: payload of ", bytes, " bytes for ", count, " values");
    kernels::add_halves_into(dst, payload, count);
  }
};

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Layout: one f32 scale per bucket (the bucket's max |x|), then one int8 per value:
// sign * round_stochastic(|x| / scale * 127), so E[decoded] = x.
class QsgdCompressor final : public DenseCompressor {
 public:
  static constexpr float kLevels = 127.0f;
  QsgdCompressor(int64_t bucket, uint64_t seed) : bucket_(bucket), seed_(seed) {
    LOOM_CHECK(bucket >= 1, "qsgd: bucket size must be >= 1, got ", bucket);
  }
  const char* name() const override { return "qsgd"; }
  size_t encoded_bytes(int64_t count) const override {
    const int64_t buckets = (count + bucket_ - 1) / bucket_;
    return static_cast<size_t>(buckets) * 4 + static_cast<size_t>(count);
  }
  void set_rank(int rank) override { rank_ = rank; }
  void encode(const float* src, int64_t count, std::vector<uint8_t>& payload) override {
    payload.resize(encoded_bytes(count));
    const int64_t buckets = (count + bucket_ - 1) / bucket_;
    float* scales = reinterpret_cast<float*>(payload.data());
    int8_t* q = reinterpret_cast<int8_t*>(payload.data() + buckets * 4);
    // A fresh, reproducible stream per call (seed, rank and call number); value i's
    // uniform is a hash of (stream, i), so no value waits on the one before.
    const uint64_t stream = splitmix64(seed_ ^ splitmix64(static_cast<uint64_t>(rank_) * 0x100000001b3ull + calls_++));
    for (int64_t b = 0; b < buckets; ++b) {
      const int64_t lo = b * bucket_, hi = std::min(count, lo + bucket_);
      float scale = 0.0f;
      for (int64_t i = lo; i < hi; ++i)
        scale = std::max(scale, std::fabs(src[i]));
      scales[b] = scale;
      const float inv = scale > 0.0f && std::isfinite(scale) ? kLevels / scale : 0.0f;
      for (int64_t i = lo; i < hi; ++i) {
        const float u = static_cast<float>(splitmix64(stream + static_cast<uint64_t>(i)) >> 40) * (1.0f / 16777216.0f);
        // floor by truncation (y >= 0); a NaN or anything past the top level is the top level
        const float y = std::fabs(src[i]) * inv + u;
        const int level = y < kLevels ? static_cast<int>(y) : static_cast<int>(kLevels);
        q[i] = static_cast<int8_t>(src[i] < 0 ? -level : level);
      }
    }
  }
  void decode_add(const uint8_t* payload, size_t bytes, float* dst, int64_t count) const override {
    LOOM_CHECK(bytes == encoded_bytes(count), "qsgd codec: payload of ", bytes, " bytes for ", count, " values");
    const int64_t buckets = (count + bucket_ - 1) / bucket_;
    const int8_t* q = reinterpret_cast<const int8_t*>(payload + buckets * 4);
    for (int64_t b = 0; b < buckets; ++b) {
      const int64_t lo = b * bucket_, hi = std::min(count, lo + bucket_);
      const float step = load_at<float>(payload, b) / kLevels;
      for (int64_t i = lo; i < hi; ++i)
        dst[i] += static_cast<float>(q[i]) * step;
    }
  }

 private:
  int64_t bucket_;
  uint64_t seed_;
  uint64_t calls_ = 0;
  int rank_ = 0;
};

}  // namespace

uint64_t ring_bytes(int ranks, int64_t count) {
  return ranks > 1
             ? 2 * static_cast<uint64_t>(ranks - 1) * static_cast<uint64_t>(count) * 4 / static_cast<uint64_t>(ranks)
             : 0;
}

// --- top-k -------------------------------------------------------------------------------
// Layout: u32 k, then k u32 indices (ascending), then k f32 values.

int64_t TopkCompressor::kept(int64_t count) const {
  if (count == 0)
    return 0;
  return std::clamp<int64_t>(static_cast<int64_t>(std::ceil(ratio_ * static_cast<double>(count))), 1, count);
}

namespace {

// The indices, in index order, of every value whose magnitude may be among the k
// largest (1 <= k <= n), so that the selection need not sort all n magnitudes: an
// nth_element over them costs about 8 ns a value, 2 ms for the MLP's gradient every
// step. A strided sample of about 4096 magnitudes gives a bound that, with a margin
// of twice the expected count, at least k values reach, and only those are kept. If
// fewer than k reach it (a sample that overrated the tail), every index is kept. The
// k-th largest magnitude among the candidates is then the k-th largest of all.
void topk_candidates(const float* src, int64_t n, int64_t k, std::vector<uint32_t>& out, std::vector<float>& scratch) {
  constexpr int64_t kSample = 4096;
  out.clear();
  if (n > 4 * kSample && k * 16 < n) {
    scratch.clear();
    const int64_t stride = n / kSample;
    for (int64_t i = 0; i < n; i += stride)
      scratch.push_back(std::fabs(src[i]));
    const auto s = static_cast<int64_t>(scratch.size());
    const int64_t rank = std::min(s - 1, 2 * k * s / n + 16);
    std::nth_element(scratch.begin(), scratch.begin() + rank, scratch.end(), std::greater<float>());
    const float bound = scratch[static_cast<size_t>(rank)];
    for (int64_t i = 0; i < n; ++i)
      if (std::fabs(src[i]) >= bound)
        out.push_back(static_cast<uint32_t>(i));
    if (static_cast<int64_t>(out.size()) >= k)
      return;
  }
  out.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    out[static_cast<size_t>(i)] = static_cast<uint32_t>(i);
}

}  // namespace

void TopkCompressor::encode(const float* src, int64_t count, std::vector<uint8_t>& payload) {
  LOOM_CHECK(count < (int64_t{1} << 32), "topk: tensors of 2^32 values or more are not supported (", count, ")");
  const int64_t k = kept(count);
  payload.resize(4 + static_cast<size_t>(k) * 8);
  uint32_t k32 = static_cast<uint32_t>(k);
  std::memcpy(payload.data(), &k32, 4);
  if (k == 0)
    return;
  // The k-th largest magnitude, then a scan in index order: values above it, then ties.
  topk_candidates(src, count, k, candidates_, magnitudes_);
  magnitudes_.resize(candidates_.size());
  for (size_t j = 0; j < candidates_.size(); ++j)
    magnitudes_[j] = std::fabs(src[candidates_[j]]);
  std::nth_element(magnitudes_.begin(), magnitudes_.begin() + (k - 1), magnitudes_.end(), std::greater<float>());
  const float threshold = magnitudes_[static_cast<size_t>(k - 1)];
  int64_t above = 0;
  for (uint32_t i : candidates_)
    above += std::fabs(src[i]) > threshold;
  int64_t ties = k - above;
  uint32_t* idx = reinterpret_cast<uint32_t*>(payload.data() + 4);
  float* val = reinterpret_cast<float*>(payload.data() + 4 + k * 4);
  int64_t n = 0;
  for (size_t j = 0; j < candidates_.size() && n < k; ++j) {
    const uint32_t i = candidates_[j];
    const float m = std::fabs(src[i]);
    if (m > threshold || (m == threshold && ties > 0)) {
      if (!(m > threshold))
        --ties;
      idx[n] = i;
      val[n] = src[i];
      ++n;
    }
  }
  for (; n < k; ++n) {  // NaNs compare false everywhere; pad with harmless zeros at index 0
    idx[n] = 0;
    val[n] = 0.0f;
  }
}

void TopkCompressor::decode_add(const uint8_t* payload, size_t bytes, float* dst, int64_t count) const {
  LOOM_CHECK(bytes >= 4, "topk codec: payload of ", bytes, " bytes is too short");
  uint32_t k;
  std::memcpy(&k, payload, 4);
  LOOM_CHECK(bytes == 4 + static_cast<size_t>(k) * 8, "topk codec: payload of ", bytes, " bytes does not hold ", k,
             " pairs");
  const uint8_t* values = payload + 4 + static_cast<size_t>(k) * 4;
  for (uint32_t j = 0; j < k; ++j) {
    const uint32_t at = load_at<uint32_t>(payload + 4, j);
    LOOM_CHECK(at < count, "topk codec: index ", at, " out of range for ", count, " values");
    dst[at] += load_at<float>(values, j);
  }
}

}  // namespace detail

std::unique_ptr<Compressor> make_compressor(const std::string& name, const CompressionOptions& options) {
  if (name == "none")
    return std::make_unique<detail::NoneCompressor>();
  if (name == "fp16")
    return std::make_unique<detail::Fp16Compressor>();
  if (name == "qsgd")
    return std::make_unique<detail::QsgdCompressor>(options.qsgd_bucket, options.seed);
  if (name == "topk") {
    LOOM_CHECK(options.topk_ratio > 0 && options.topk_ratio <= 1, "topk: ratio must be in (0, 1], got ",
               options.topk_ratio);
    return std::make_unique<detail::TopkCompressor>(options.topk_ratio, options.error_feedback);
  }
  LOOM_THROW(ValueError, "unknown gradient compression '", name, "'; expected none, fp16, qsgd or topk");
}

}  // namespace loom::distributed
