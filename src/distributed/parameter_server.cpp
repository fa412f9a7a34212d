// NOTE [Parameter server modes] in loom/distributed/parameter_server.h.
#include "loom/distributed/parameter_server.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include "loom/core/error.h"

namespace loom::distributed {

struct ParameterServer::Shard {
  Tensor param, grad;  // this server's range, a leaf the optimizer updates
  std::unique_ptr<optim::Optimizer> optimizer;
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<float> sum;      // sync: gradients of the current step
  int pushed = 0;              // sync: pushes in the current step
  int64_t version = 0;         // updates applied (sync: steps; async, ssp: pushes)
  std::vector<int64_t> clock;  // ssp: pushes per worker
  std::exception_ptr error;
};

ParameterServer::ParameterServer(nn::Module& model, std::shared_ptr<Communicator> comm, const DistOptions& o)
    : model_(model),
      mirror_(model, "parameter server"),
      comm_(std::move(comm)),
      servers_(o.servers),
      mode_(o.ps_mode),
      staleness_(o.staleness),
      optimizer_name_(o.optimizer),
      optimizer_options_(o.optimizer_options),
      compress_(o.compress),
      topk_ratio_(o.topk_ratio) {
  LOOM_CHECK(servers_ >= 1 && servers_ < comm_->size(), "--servers ", servers_, " with ", comm_->size(),
             " ranks: the parameter server needs at least one server and one worker rank (servers < ranks)");
  LOOM_CHECK(staleness_ >= 0, "--staleness must be >= 0, got ", staleness_);
  const int64_t n = mirror_.size();
  for (int s = 0; s < servers_; ++s) {
    lo_.push_back(n * s / servers_);
    hi_.push_back(n * (s + 1) / servers_);
  }
  // Every worker its own QSGD rounding stream.
  codec_ = make_compressor(
      compress_, CompressionOptions{.topk_ratio = topk_ratio_, .seed = 1 + static_cast<uint64_t>(comm_->rank())});
  residual_.resize(static_cast<size_t>(servers_));
}

ParameterServer::~ParameterServer() = default;

void ParameterServer::start() {
  broadcast_model(*comm_, model_);
  if (!is_server())
    return;
  const int s = comm_->rank();
  const int64_t len = hi_[s] - lo_[s];
  shard_ = std::make_unique<Shard>();
  shard_->param = Tensor::empty({len});
  std::memcpy(shard_->param.raw_data(), mirror_.params().data<float>() + lo_[s], len * sizeof(float));
  shard_->param.set_requires_grad(true);
  shard_->grad = Tensor::zeros({len});
  shard_->param.set_grad(shard_->grad);
  shard_->optimizer = optim::make_optimizer(optimizer_name_, {shard_->param}, optimizer_options_);
  shard_->sum.assign(static_cast<size_t>(len), 0.0f);
  shard_->clock.assign(static_cast<size_t>(workers()), 0);
}

void ParameterServer::serve(int64_t total_steps) {
  LOOM_ASSERT(is_server() && shard_);
  Shard& sh = *shard_;
  const int s = comm_->rank();
  const int64_t len = hi_[s] - lo_[s];
  const int W = workers();
  const float inv = 1.0f / static_cast<float>(W);
  auto apply = [&](const float* g, float scale, float lr) {  // with sh.mutex held
    float* dst = sh.grad.data<float>();
    for (int64_t i = 0; i < len; ++i)
      dst[i] = g[i] * scale;
    sh.grad.bump_version();
    sh.optimizer->set_lr(lr);
    sh.optimizer->step();
  };
  auto handler = [&](int w) {
    const int worker_rank = servers_ + w;
    // NOTE [Compressed pushes]: the payload size follows from the value count.
    auto codec = make_compressor(compress_, CompressionOptions{.topk_ratio = topk_ratio_});
    std::vector<float> grad(static_cast<size_t>(len), 0.0f), out(static_cast<size_t>(len));
    std::vector<uint8_t> in;
    codec->encode(grad.data(), len, in);
    const size_t payload = in.size();
    in.resize(4 + payload);
    int64_t seen = 0;  // the shard version this worker's parameters are at
    try {
      for (int64_t t = 0; t < total_steps; ++t) {
        comm_->recv(in.data(), in.size(), worker_rank, kPsPush);
        float lr;
        std::memcpy(&lr, in.data(), 4);
        std::fill(grad.begin(), grad.end(), 0.0f);
        codec->decode_add(in.data() + 4, payload, grad.data(), len);
        {
          std::unique_lock<std::mutex> lock(sh.mutex);
          if (sh.error)
            return;
          if (mode_ == PsMode::sync) {
            for (int64_t i = 0; i < len; ++i)
              sh.sum[i] += grad[i];
            const int64_t my_version = sh.version;
            if (++sh.pushed == W) {
              apply(sh.sum.data(), inv, lr);
              std::fill(sh.sum.begin(), sh.sum.end(), 0.0f);
              sh.pushed = 0;
              ++sh.version;
              sh.cv.notify_all();
            } else {
              sh.cv.wait(lock, [&] { return sh.version > my_version || sh.error; });
            }
          } else {
            // NOTE [Stale gradients]
            const int64_t tau = sh.version - seen;
            const float damp = tau < W ? 1.0f : static_cast<float>(W) / static_cast<float>(tau + 1);
            apply(grad.data(), inv * damp, lr);
            ++sh.version;
            sh.clock[w] = t + 1;
            sh.cv.notify_all();
            if (mode_ == PsMode::ssp) {
              sh.cv.wait(lock, [&] {
                return sh.error || *std::min_element(sh.clock.begin(), sh.clock.end()) >= t + 1 - staleness_;
              });
            }
          }
          if (sh.error)
            return;
          std::memcpy(out.data(), sh.param.raw_data(), len * sizeof(float));
          seen = sh.version;
        }
        comm_->send(out.data(), out.size() * sizeof(float), worker_rank, kPsPull);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(sh.mutex);
      if (!sh.error)
        sh.error = std::current_exception();
      sh.cv.notify_all();
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < W; ++w)
    threads.emplace_back(handler, w);
  for (auto& t : threads)
    t.join();

  if (sh.error)
    std::rethrow_exception(sh.error);
}

void ParameterServer::push_pull(double lr) {
  Tensor grads = mirror_.grads();
  Tensor params = mirror_.params();
  const float* g = grads.data<float>();
  float* p = params.data<float>();
  const bool lossy = compress_ != "none";
  std::vector<uint8_t> payload;
  for (int s = 0; s < servers_; ++s) {
    const int64_t len = hi_[s] - lo_[s];
    const float* values = g + lo_[s];
    if (lossy) {  // NOTE [Compressed pushes]: error feedback
      std::vector<float>& res = residual_[s];
      res.resize(static_cast<size_t>(len), 0.0f);
      staged_.resize(static_cast<size_t>(len));
      for (int64_t i = 0; i < len; ++i)
        staged_[i] = values[i] + res[i];
      values = staged_.data();
    }
    codec_->encode(values, len, payload);
    if (lossy) {
      decoded_.assign(static_cast<size_t>(len), 0.0f);
      codec_->decode_add(payload.data(), payload.size(), decoded_.data(), len);
      for (int64_t i = 0; i < len; ++i)
        residual_[s][i] = staged_[i] - decoded_[i];
    }
    const float lr32 = static_cast<float>(lr);
    message_.resize(4 + payload.size());
    std::memcpy(message_.data(), &lr32, 4);
    std::memcpy(message_.data() + 4, payload.data(), payload.size());
    comm_->send(message_.data(), message_.size(), s, kPsPush);
    traffic_.bytes_sent += message_.size();
    traffic_.raw_bytes += 4 + static_cast<uint64_t>(len) * 4;
  }
  for (int s = 0; s < servers_; ++s)
    comm_->recv(p + lo_[s], (hi_[s] - lo_[s]) * sizeof(float), s, kPsPull);
  mirror_.store_params();
}

void ParameterServer::finish() {
  Tensor arena = mirror_.params();
  std::vector<int64_t> counts(static_cast<size_t>(comm_->size()), 0);
  for (int s = 0; s < servers_; ++s)
    counts[s] = hi_[s] - lo_[s];
  const float* src = is_server() ? shard_->param.data<float>() : nullptr;
  std::vector<float> all(static_cast<size_t>(arena.numel()));
  comm_->allgather(src, all.data(), counts, DType::f32);
  std::memcpy(arena.raw_data(), all.data(), all.size() * sizeof(float));
  mirror_.store_params();
}

}  // namespace loom::distributed
