// MeanReducer (NOTE [Compressed averaging] in loom/distributed/training.h): the
// codecs and their exchange are compression.h's; this adds the 1/size scaling and
// the byte accounting the training metrics report.
#include <cstring>

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

void MeanReducer::mean(void* data, int64_t n, DType dtype, int stream) {
  if (dtype == DType::f32) {
    mean(static_cast<float*>(data), n, stream);
    return;
  }
  if (n == 0)
    return;
  if (dtype == DType::f64) {
    const uint64_t before = comm_->bytes_sent();
    comm_->allreduce(data, n, DType::f64, ReduceOp::sum, algorithm_);
    const uint64_t sent = comm_->bytes_sent() - before;
    total_.bytes_sent += sent;
    total_.raw_bytes += sent;
    const double inv = 1.0 / comm_->size();
    for (double *p = static_cast<double*>(data), *end = p + n; p != end; ++p)
      *p *= inv;
    return;
  }
  LOOM_CHECK(dtype == DType::bf16 || dtype == DType::f16, "gradient averaging: ", dtype_name(dtype),
             " gradients are not supported (f32, f64, bf16 or f16)");
  // Summed in f32: a sum of ranks' parts in bf16 would round after every addition.
  Tensor wide = Tensor::from_host(data, {n}, dtype).to(DType::f32);
  mean(wide.data<float>(), n, stream);
  const Tensor narrow = wide.to(dtype);
  std::memcpy(data, narrow.raw_data(), static_cast<size_t>(n) * dtype_size(dtype));
}

}  // namespace loom::distributed
