// NOTE [Model averaging] in loom/distributed/averaging.h.
#include "loom/distributed/averaging.h"

#include <algorithm>
#include <vector>

#include "loom/core/error.h"

namespace loom::distributed {

ModelAverager::ModelAverager(nn::Module& model, std::shared_ptr<Communicator> comm, DistMode mode, int64_t sync_every,
                             double alpha, AllreduceAlgorithm algorithm, const std::string& compress, double topk_ratio)
    : model_(model),
      mirror_(model, "model averaging"),
      comm_(std::move(comm)),
      mode_(mode),
      sync_every_(sync_every),
      alpha_(alpha > 0 ? alpha : 0.9 / comm_->size()),
      reducer_(comm_, algorithm, compress, topk_ratio) {
  LOOM_CHECK(mode == DistMode::localsgd || mode == DistMode::easgd, "ModelAverager: mode must be localsgd or easgd");
  LOOM_CHECK(sync_every >= 1, "--sync-every must be at least 1, got ", sync_every);
  LOOM_CHECK(mode != DistMode::easgd || alpha_ * comm_->size() < 1.0 + 1e-9, "--easgd-alpha ", alpha_, " with ",
             comm_->size(), " ranks is unstable: alpha x ranks must be at most 1 (e.g. 0.9 / ranks)");
}

void ModelAverager::start() {
  broadcast_model(*comm_, model_);
  anchor_ = mirror_.params().clone();
}

void ModelAverager::after_step(int64_t global_step, optim::Optimizer& optimizer) {
  dirty_ = true;
  if ((global_step + 1) % sync_every_ == 0)
    average_round(optimizer);
}

void ModelAverager::average_round(optim::Optimizer& optimizer) {
  Tensor arena = mirror_.params();
  float* x = arena.data<float>();
  float* a = anchor_.data<float>();
  const int64_t n = arena.numel();
  std::vector<float> buf(static_cast<size_t>(n));
  if (mode_ == DistMode::localsgd) {
    for (int64_t i = 0; i < n; ++i)
      buf[i] = x[i] - a[i];
    reducer_.mean(buf.data(), n, 0);
    for (int64_t i = 0; i < n; ++i)
      a[i] = x[i] = a[i] + buf[i];
    average_optimizer_state(optimizer);
  } else {
    // mean_i (x_i - c), so that sum_i (x_i - c) = size * mean.
    for (int64_t i = 0; i < n; ++i)
      buf[i] = x[i] - a[i];
    reducer_.mean(buf.data(), n, 0);
    const float al = static_cast<float>(alpha_);
    const float moved = static_cast<float>(alpha_ * comm_->size());
    for (int64_t i = 0; i < n; ++i) {
      const float c = a[i];
      x[i] -= al * (x[i] - c);
      a[i] = c + moved * buf[i];
    }
  }
  mirror_.store_params();
  ++rounds_;
  dirty_ = false;
}

void ModelAverager::average_optimizer_state(optim::Optimizer& optimizer) {
  // The f32 slots in name order (the same on every rank: same model, same optimizer).
  nn::NamedTensors state = optimizer.state_dict();
  int64_t total = 0;
  for (auto& [name, t] : state)
    if (t.dtype() == DType::f32)
      total += t.numel();
  if (total == 0)
    return;  // plain SGD, or no step yet
  state_buf_.resize(static_cast<size_t>(total));
  state_anchor_.resize(static_cast<size_t>(total), 0.0f);  // zeros: the state before any step
  int64_t at = 0;
  for (auto& [name, t] : state)
    if (t.dtype() == DType::f32) {
      LOOM_ASSERT(t.is_contiguous());  // state_dict() hands out fresh copies
      const float* v = t.data<float>();
      for (int64_t i = 0; i < t.numel(); ++i)
        state_buf_[at + i] = v[i] - state_anchor_[at + i];
      at += t.numel();
    }
  reducer_.mean(state_buf_.data(), total, 1);  // the change since the last round, as for the weights
  at = 0;
  for (auto& [name, t] : state)
    if (t.dtype() == DType::f32) {
      float* v = t.data<float>();
      for (int64_t i = 0; i < t.numel(); ++i)
        v[i] = state_anchor_[at + i] += state_buf_[at + i];
      at += t.numel();
    }
  optimizer.load_state_dict(state);
}

void ModelAverager::finish(optim::Optimizer* optimizer) {
  if (mode_ == DistMode::localsgd) {
    if (dirty_) {
      LOOM_ASSERT(optimizer);  // dirty: a step was taken with it
      average_round(*optimizer);
    }
  } else {
    mirror_.params().copy_(anchor_);
    mirror_.store_params();
  }
}

}  // namespace loom::distributed
