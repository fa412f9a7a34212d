#pragma once
// What a DataLoader epoch is, fixed before any worker starts (NOTE [Ordered
// prefetch] in data_loader.h), and the one function that builds batch b of it.
// Private to the data layer.
#include <cstdint>
#include <memory>
#include <vector>

#include "loom/data/data_loader.h"

namespace loom::data::detail {

struct EpochPlan {
  std::shared_ptr<const Dataset> dataset;
  int64_t dataset_size = 0;
  std::vector<int64_t> order;  // this rank's samples, in epoch order
  int64_t batch_size = 1;
  int64_t num_batches = 0;
  uint64_t seed = 0;
  int64_t epoch = 0;
  TransformList transforms;
};

std::shared_ptr<const EpochPlan> make_epoch_plan(std::shared_ptr<const Dataset> dataset,
                                                 const DataLoaderOptions& options, int64_t epoch);

// Batch b of the plan: read, stacked, transformed. Same bits on any thread. Throws
// loom::Error (non-loom exceptions are wrapped with the batch and epoch named).
Batch build_batch(const EpochPlan& plan, int64_t b);

}  // namespace loom::data::detail
