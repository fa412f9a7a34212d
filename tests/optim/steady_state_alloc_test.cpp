// After a warm-up epoch, training the reference models makes no system
// allocation per step: every buffer comes from the caching allocator's free
// lists (NOTE [Caching allocator] in loom/core/allocator.h).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "loom/autograd.h"
#include "loom/data.h"
#include "loom/io.h"
#include "loom/nn.h"
#include "loom/optim.h"

namespace loom {
namespace {

struct StepCounts {
  int64_t steps = 0;
  MemoryStats before, after;
};

// Trains for `epochs` epochs; counts the allocator's activity after the first.
StepCounts train_and_count(nn::Module& model, optim::Optimizer& optimizer, data::DataLoader& loader, int epochs) {
  StepCounts c;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    if (epoch == 1)
      c.before = memory_stats();
    loader.set_epoch(epoch);
    while (auto batch = loader.next()) {
      Tensor loss = cross_entropy(model(batch->input), batch->target);
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      EXPECT_TRUE(std::isfinite(loss.item_double()));
      if (epoch >= 1)
        ++c.steps;
    }
  }
  c.after = memory_stats();
  return c;
}

std::shared_ptr<data::TensorDataset> synthetic_images(int64_t n, uint64_t seed) {
  manual_seed(seed);
  Tensor x = Tensor::empty({n, 1, 28, 28});
  nn::init::normal_(x, 0.0, 1.0);
  std::vector<int64_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    labels[static_cast<size_t>(i)] = (i * 7) % 10;
  Tensor y = Tensor::from_vector<int64_t>(labels, {n});
  return std::make_shared<data::TensorDataset>(x, y);
}

void expect_steady_state(nn::Module& model, int64_t samples, int64_t batch, int epochs) {
  MemoryStats s = memory_stats();
  if (!s.caching)
    GTEST_SKIP() << "LOOM_ALLOCATOR=system: the cache is bypassed, so every step allocates from the system";
  model.pack_parameters();
  optim::OptimizerOptions o;
  o.lr = 0.05;
  o.momentum = 0.9;
  optim::SGD sgd(model.parameters(), o);
  data::DataLoaderOptions lo;
  lo.batch_size = batch;
  lo.shuffle = true;
  lo.seed = 7;
  // samples % batch != 0: the last, smaller batch of each epoch allocates other sizes.
  data::DataLoader loader(synthetic_images(samples, 3), lo);
  StepCounts c = train_and_count(model, sgd, loader, epochs);
  ASSERT_GT(c.steps, 0);
  const int64_t served = c.after.allocations - c.before.allocations;
  const int64_t system = c.after.system_allocations - c.before.system_allocations;
  EXPECT_GT(served, 10 * c.steps) << "the steps should allocate (from the cache)";
  EXPECT_EQ(system, 0) << system << " system allocations in " << c.steps << " steady-state steps (" << served
                       << " allocations served)";
  EXPECT_EQ(c.after.system_frees, c.before.system_frees) << "cached blocks went back to the system";
  // Nothing accumulates across epochs (gradients, optimizer state and weights were made in the first).
  EXPECT_EQ(c.after.live_bytes, c.before.live_bytes);
}

TEST(SteadyStateAllocations, ReferenceMlpMakesNoSystemAllocationPerStep) {
  // The reference MLP (ARCHITECTURE.md): 784-256-128-10 with ReLU.
  nn::Sequential model(std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(784, 256),
                       std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(256, 128),
                       std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(128, 10));
  expect_steady_state(model, 650, 64, 3);
}

TEST(SteadyStateAllocations, ReferenceCnnMakesNoSystemAllocationPerStep) {
  auto model = io::model_from_json_text(io::builtin_model_description("cnn"), "cnn");
  expect_steady_state(*model, 100, 32, 2);
}

}  // namespace
}  // namespace loom
