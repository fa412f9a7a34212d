#pragma once
// Codec classes shared by compression.cpp (encoding) and compression_allreduce.cpp
// (the exchanges).
#include <vector>

#include "loom/distributed/compression.h"

namespace loom::distributed::detail {

// Bytes a ring allreduce of `count` f32 values sends from each rank.
uint64_t ring_bytes(int ranks, int64_t count);

// A codec whose payload size depends only on the number of values: the ring can carry it.
class DenseCompressor : public Compressor {
 public:
  virtual size_t encoded_bytes(int64_t count) const = 0;
  virtual void set_rank(int rank) {}
  CompressionReport allreduce(Communicator& comm, float* data, int64_t count, int key) override;
};

class TopkCompressor final : public Compressor {
 public:
  TopkCompressor(double ratio, bool error_feedback) : ratio_(ratio), error_feedback_(error_feedback) {}
  const char* name() const override { return "topk"; }
  int64_t kept(int64_t count) const;
  void encode(const float* src, int64_t count, std::vector<uint8_t>& payload) override;
  void decode_add(const uint8_t* payload, size_t bytes, float* dst, int64_t count) const override;
  CompressionReport allreduce(Communicator& comm, float* data, int64_t count, int key) override;

 private:
  double ratio_;
  bool error_feedback_;
  std::vector<float> magnitudes_;     // encode's scratch
  std::vector<uint32_t> candidates_;  // encode's scratch
};

}  // namespace loom::distributed::detail
