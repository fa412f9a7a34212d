#pragma once
// Gradient compression: codecs that shrink what an allreduce sends.
//
//   auto codec = loom::distributed::make_compressor("topk", {.topk_ratio = 0.01});
//   auto report = loom::distributed::compressed_allreduce(*comm, grad, n, *codec, /*key=*/bucket_id);
//   // grad now holds (approximately) the sum over ranks; report.bytes_sent vs report.raw_bytes
//
// Codecs:
//   none  plain allreduce (the reference for byte counts)
//   fp16  half-precision values, round to nearest even: 2 bytes per value
//   qsgd  8-bit stochastic quantization with one scale per bucket (QSGD-style, seeded):
//         unbiased, about 1 byte per value
//   topk  the largest |x| fraction (topk_ratio) as (index, value) pairs, with error
//         feedback: what was not sent is kept per tensor (`key`) and added next time
// Dense codecs (fp16, qsgd) compress the messages of a ring (reduce-scatter re-encodes
// each partial sum, allgather forwards the owner's encoding); top-k allgathers the
// sparse payloads and every rank decodes and sums them (NOTE [Compressed allreduce]).
// Every rank ends with the same bits.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "loom/distributed/communicator.h"

namespace loom::distributed {

struct CompressionOptions {
  double topk_ratio = 0.01;    // topk: fraction of the values sent (at least one)
  int64_t qsgd_bucket = 512;   // qsgd: values per scale
  uint64_t seed = 1;           // qsgd: stochastic rounding stream (mixed with the rank)
  bool error_feedback = true;  // topk: keep what was not sent and add it next time
};

// What one compressed allreduce cost.
struct CompressionReport {
  uint64_t bytes_sent = 0;  // payload bytes this rank sent
  uint64_t raw_bytes = 0;   // what a ring allreduce of the uncompressed f32 values sends
  double ratio() const { return bytes_sent ? static_cast<double>(raw_bytes) / static_cast<double>(bytes_sent) : 0; }
};

class Compressor {
 public:
  virtual ~Compressor() = default;
  virtual const char* name() const = 0;
  // Encodes count values into `payload` (replacing its contents).
  virtual void encode(const float* src, int64_t count, std::vector<uint8_t>& payload) = 0;
  // Adds the decoded values of a payload made by encode() for `count` values to dst.
  virtual void decode_add(const uint8_t* payload, size_t bytes, float* dst, int64_t count) const = 0;
  // Sums data over all ranks in place (see compressed_allreduce).
  virtual CompressionReport allreduce(Communicator& comm, float* data, int64_t count, int key) = 0;

  // topk's error-feedback residual of tensor `key`, or null when there is none.
  const std::vector<float>* residual(int key) const;
  // Cumulative bytes over all calls, for metrics ("bytes sent per step with and without").
  const CompressionReport& total() const { return total_; }

 protected:
  std::map<int, std::vector<float>> residuals_;
  CompressionReport total_;
};

// "none", "fp16", "qsgd" or "topk"; throws ValueError for anything else.
std::unique_ptr<Compressor> make_compressor(const std::string& name, const CompressionOptions& options = {});

// Sums `count` floats over the ranks of comm, in place, exchanging compressed payloads.
// `key` names the tensor (its error-feedback residual); a key must always come with the
// same count, and every rank must pass the same codec, key and count.
CompressionReport compressed_allreduce(Communicator& comm, float* data, int64_t count, Compressor& codec, int key = 0);

}  // namespace loom::distributed
