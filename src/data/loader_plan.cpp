#include "loader_plan.h"

#include <algorithm>
#include <numeric>

#include "loom/core/error.h"
#include "loom/core/generator.h"
#include "loom/data/sampling.h"

namespace loom::data::detail {

std::shared_ptr<const EpochPlan> make_epoch_plan(std::shared_ptr<const Dataset> dataset,
                                                 const DataLoaderOptions& options, int64_t epoch) {
  auto plan = std::make_shared<EpochPlan>();
  const int64_t n = dataset->size();
  // NOTE [Epoch order]
  std::vector<int64_t> global;
  if (options.shuffle && options.shuffle_block > 0) {
    global = block_local_permutation(n, options.shuffle_block, options.shuffle_window, options.seed, epoch);
  } else {
    global = DataLoader::epoch_order(n, options.shuffle, options.seed, epoch);
  }
  plan->order = shard_indices(global, options.rank, options.world_size, options.drop_last);
  const auto m = static_cast<int64_t>(plan->order.size());
  const int64_t b = options.batch_size;
  plan->num_batches = options.drop_last ? m / b : (m + b - 1) / b;
  plan->dataset = std::move(dataset);
  plan->dataset_size = n;
  plan->batch_size = b;
  plan->seed = options.seed;
  plan->epoch = epoch;
  plan->transforms = options.transforms;
  return plan;
}

Batch build_batch(const EpochPlan& plan, int64_t b) {
  LOOM_ASSERT(b >= 0 && b < plan.num_batches);
  try {
    const auto m = static_cast<int64_t>(plan.order.size());
    const int64_t begin = b * plan.batch_size, end = std::min(m, begin + plan.batch_size);
    std::vector<int64_t> indices(plan.order.begin() + begin, plan.order.begin() + end);
    Batch batch = plan.dataset->batch(indices);
    if (plan.transforms.empty())
      return batch;
    // NOTE [Per-sample generators]: seeded by (seed, epoch, dataset index) only.
    std::vector<Generator> rngs;
    rngs.reserve(indices.size());
    for (int64_t i : indices)
      rngs.emplace_back(sample_seed(plan.seed, plan.epoch, i));
    return apply_transforms(plan.transforms, std::move(batch), rngs);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    LOOM_THROW(Error, "DataLoader: building batch ", b, " of epoch ", plan.epoch, " failed: ", e.what());
  } catch (...) {
    LOOM_THROW(Error, "DataLoader: building batch ", b, " of epoch ", plan.epoch,
               " failed with an exception that is not a std::exception");
  }
}

}  // namespace loom::data::detail
