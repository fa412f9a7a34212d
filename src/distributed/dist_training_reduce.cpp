// MeanReducer (NOTE [Compressed averaging] in loom/distributed/training.h): the
// codecs and their exchange are compression.h's; this adds the 1/size scaling and
// the byte accounting the training metrics report.
#include "loom/core/error.h"
#include "loom/distributed/training.h"

namespace loom::distributed {

MeanReducer::MeanReducer(std::shared_ptr<Communicator> comm, AllreduceAlgorithm algorithm, const std::string& compress,
                         double topk_ratio)
    : comm_(std::move(comm)), algorithm_(algorithm) {
  LOOM_CHECK(topk_ratio > 0 && topk_ratio <= 1, "--topk-ratio must be in (0, 1], got ", topk_ratio);
  if (compress != "none")
    codec_ = make_compressor(compress, CompressionOptions{.topk_ratio = topk_ratio});
}

MeanReducer::~MeanReducer() = default;

void MeanReducer::mean(float* data, int64_t n, int stream) {
  if (n == 0)
    return;
  if (codec_) {
    const CompressionReport r = compressed_allreduce(*comm_, data, n, *codec_, stream);
    total_.bytes_sent += r.bytes_sent;
    total_.raw_bytes += r.raw_bytes;
  } else {
    // Plain f32 through the chosen algorithm (--allreduce); what it sends is the raw size.
    const uint64_t before = comm_->bytes_sent();
    comm_->allreduce(data, n, DType::f32, ReduceOp::sum, algorithm_);
    const uint64_t sent = comm_->bytes_sent() - before;
    total_.bytes_sent += sent;
    total_.raw_bytes += sent;
  }
  const float inv = 1.0f / static_cast<float>(comm_->size());
  for (int64_t i = 0; i < n; ++i)
    data[i] *= inv;
}

}  // namespace loom::distributed
