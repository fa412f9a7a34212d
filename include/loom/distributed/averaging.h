#pragma once
// Model averaging: ranks train independently and agree on their parameters only
// every few steps.
//
// NOTE [Model averaging]
// Local SGD / federated averaging (--dist localsgd): every `sync_every` steps the
// ranks replace their parameters by the average over ranks. The exchange averages
// the change since the last round (delta = x - anchor), so a lossy codec (top-k,
// QSGD) compresses updates rather than weights; without one it is exactly the
// parameter average.
// Elastic averaging SGD (--dist easgd, Zhang, Choromanska and LeCun 2015, the
// synchronous form): every rank keeps the same copy of a center variable c; every
// `sync_every` steps, with the ranks' parameters x_i,
//   x_i <- x_i - alpha (x_i - c),   c <- c + alpha * sum_i (x_i - c)
// (both from the old values). The center is the model finish() leaves on every rank.
// Local SGD also averages the optimizer state (momentum buffers, Adam's moments) in
// each round, the same way as the weights (the change since the last round, through
// the same codec; stream 1): with SGD and momentum, syncing every step is then
// exactly DDP (up to float rounding), and with K > 1 the ranks restart each round
// from one shared velocity instead of drifting ones. EASGD
// keeps its optimizer state local, as in the paper: the elastic force, not a
// shared state, couples its ranks.
#include <memory>
#include <vector>

#include "loom/distributed/training.h"

namespace loom::distributed {

class ModelAverager {
 public:
  // mode: localsgd or easgd. alpha: easgd's moving rate (0: 0.9 / size).
  ModelAverager(nn::Module& model, std::shared_ptr<Communicator> comm, DistMode mode, int64_t sync_every, double alpha,
                AllreduceAlgorithm algorithm, const std::string& compress, double topk_ratio);
  // Parameters from rank 0, so every rank (and the center) starts the same.
  void start();
  // After optimizer step `global_step` (0-based): averages when it completes a round.
  void after_step(int64_t global_step, optim::Optimizer& optimizer);
  // The final model on every rank: one last average (localsgd) or the center (easgd).
  // optimizer: the one after_step() was given (null when no step was taken).
  void finish(optim::Optimizer* optimizer);
  double alpha() const { return alpha_; }
  int64_t rounds() const { return rounds_; }
  const CompressionReport& traffic() const { return reducer_.total(); }

 private:
  void average_round(optim::Optimizer& optimizer);
  void average_optimizer_state(optim::Optimizer& optimizer);
  nn::Module& model_;
  F32Mirror mirror_;  // NOTE [f32 master copy]
  std::shared_ptr<Communicator> comm_;
  DistMode mode_;
  int64_t sync_every_;
  double alpha_;
  MeanReducer reducer_;
  std::vector<float> state_buf_, state_anchor_;  // localsgd: optimizer state (flat)
  Tensor anchor_;                                // localsgd: parameters after the last round; easgd: the center
  int64_t rounds_ = 0;
  bool dirty_ = false;  // steps taken since the last round
};

}  // namespace loom::distributed
