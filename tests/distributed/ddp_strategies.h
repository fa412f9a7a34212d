#pragma once
// Shared by the *_mpi_test.cpp files of the training strategies: a small MLP, a
// fixed data stream, and the reference run in one process on the global batch.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "loom/autograd.h"
#include "loom/core/generator.h"
#include "loom/distributed/training.h"
#include "loom/nn/activation.h"
#include "loom/nn/linear.h"
#include "loom/nn/sequential.h"
#include "loom/optim/optimizer.h"
#include "test_support.h"

namespace loom::distributed::testing_ {

inline constexpr int64_t kGlobalBatch = 24;  // divisible by 1, 2, 3 and 4 training ranks
inline constexpr int64_t kFeatures = 20, kClasses = 5;

inline std::shared_ptr<nn::Sequential> small_mlp(uint64_t seed) {
  manual_seed(seed);
  auto m = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(kFeatures, 32), std::make_shared<nn::ReLU>(),
                                            std::make_shared<nn::Linear>(32, 32), std::make_shared<nn::ReLU>(),
                                            std::make_shared<nn::Linear>(32, kClasses));
  m->pack_parameters();
  return m;
}

// Global batch `step`: the same on every rank.
inline std::pair<Tensor, Tensor> global_batch(int64_t step) {
  Generator g(1000 + static_cast<uint64_t>(step));
  std::vector<float> x(static_cast<size_t>(kGlobalBatch * kFeatures));
  std::vector<int64_t> y(static_cast<size_t>(kGlobalBatch));
  for (int64_t i = 0; i < kGlobalBatch; ++i) {
    y[i] = static_cast<int64_t>(g.below(kClasses));
    for (int64_t j = 0; j < kFeatures; ++j)
      x[i * kFeatures + j] = static_cast<float>(g.below(1000)) / 500.0f - 1.0f + (j % kClasses == y[i] ? 1.0f : 0.0f);
  }
  return {Tensor::from_vector(x, {kGlobalBatch, kFeatures}), Tensor::from_vector(y, {kGlobalBatch})};
}

// This rank's part of a global batch: rows rank, rank + world, ... (NOTE [Rank sharding]).
inline std::pair<Tensor, Tensor> shard(const std::pair<Tensor, Tensor>& b, int rank, int world) {
  return {slice(b.first, 0, rank, kGlobalBatch, world).contiguous(),
          slice(b.second, 0, rank, kGlobalBatch, world).contiguous()};
}

inline optim::OptimizerOptions sgd_options(double momentum) {
  optim::OptimizerOptions o;
  o.lr = 0.1;
  o.momentum = momentum;
  return o;
}

// One process, the whole global batch each step.
inline Tensor reference_parameters(int64_t steps, double momentum) {
  auto model = small_mlp(7);
  auto opt = optim::make_optimizer("sgd", model->parameters(), sgd_options(momentum));
  for (int64_t s = 0; s < steps; ++s) {
    auto [x, y] = global_batch(s);
    Tensor loss = cross_entropy((*model)(x), y);
    opt->zero_grad();
    loss.backward();
    opt->step();
  }
  return model->parameter_arena().clone();
}

// The strategy on this rank with its shard of each global batch; returns the final
// parameters (after finish()).
inline Tensor strategy_parameters(DistOptions d, int64_t steps, double momentum) {
  auto comm = mpi_world();
  auto model = small_mlp(comm->rank() == 0 ? 7 : 99);  // start() must copy rank 0's weights
  d.optimizer = "sgd";
  d.optimizer_options = sgd_options(momentum);
  auto opt = optim::make_optimizer("sgd", model->parameters(), d.optimizer_options);
  auto strategy = make_strategy(d, comm, *model, *opt);
  strategy->start();
  if (!strategy->trains()) {
    strategy->serve(steps);
  } else {
    for (int64_t s = 0; s < steps; ++s) {
      auto [x, y] = shard(global_batch(s), strategy->data_rank(), strategy->data_world());
      Tensor loss = cross_entropy((*model)(x), y);
      opt->zero_grad();
      strategy->before_backward(loss);
      loss.backward();
      strategy->step(*opt, s);
    }
  }
  strategy->finish();
  return model->parameter_arena().clone();
}

// Each codec (top-k keeping half the values) stays close to the uncompressed
// reference over a few steps of strategy `d`.
inline void expect_compressed_close_to_reference(DistOptions d) {
  const Tensor expected = reference_parameters(5, 0.9);
  for (const char* codec : {"fp16", "qsgd", "topk"}) {
    d.compress = codec;
    d.topk_ratio = 0.5;
    const double tolerance = std::string(codec) == "fp16" ? 1e-2 : 0.3;
    EXPECT_LT(loom::testing::max_abs_diff(strategy_parameters(d, 5, 0.9), expected), tolerance) << codec;
  }
}

}  // namespace loom::distributed::testing_
