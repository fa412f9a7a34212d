#include "loom/data/data_loader.h"

#include <chrono>
#include <numeric>

#include "loader_plan.h"
#include "loader_prefetch.h"
#include "loom/core/error.h"
#include "loom/data/sampling.h"
#include "loom/runtime/profiler.h"
#include "loom/runtime/task_pool.h"

namespace loom::data {

std::vector<int64_t> DataLoader::epoch_order(int64_t n, bool shuffle, uint64_t seed, int64_t epoch) {
  if (shuffle)
    return epoch_permutation(n, seed, epoch);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  return order;
}

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
  const DataLoaderOptions& o = options_;
  LOOM_CHECK(dataset_ != nullptr, "DataLoader: the dataset is null");
  LOOM_CHECK(o.batch_size > 0, "DataLoader: batch_size must be positive, got ", o.batch_size);
  LOOM_CHECK(o.num_workers >= 0 && o.num_workers <= 256, "DataLoader: num_workers must be in 0..256, got ",
             o.num_workers);
  LOOM_CHECK(o.prefetch >= 0, "DataLoader: prefetch must be >= 0 (0 = 2 * num_workers), got ", o.prefetch);
  LOOM_CHECK(o.world_size >= 1, "DataLoader: world_size must be >= 1, got ", o.world_size);
  LOOM_CHECK(o.rank >= 0 && o.rank < o.world_size, "DataLoader: rank ", o.rank, " is outside [0, ", o.world_size,
             ") for world_size ", o.world_size);
  LOOM_CHECK(o.shuffle_block >= 0, "DataLoader: shuffle_block must be >= 0 (0 = full shuffle), got ", o.shuffle_block);
  LOOM_CHECK(o.shuffle_window >= 1, "DataLoader: shuffle_window must be >= 1, got ", o.shuffle_window);
  for (size_t i = 0; i < o.transforms.size(); ++i)
    LOOM_CHECK(o.transforms[i] != nullptr, "DataLoader: transforms[", i, "] is null");
  if (o.num_workers > 0)
    pool_ = runtime::loader_pool(o.num_workers);
  plan_ = detail::make_epoch_plan(dataset_, options_, 0);
}

DataLoader::~DataLoader() { stop_workers(); }
DataLoader::DataLoader(DataLoader&&) noexcept = default;
DataLoader& DataLoader::operator=(DataLoader&&) noexcept = default;

int64_t DataLoader::num_batches() const { return plan_->num_batches; }

int64_t DataLoader::num_samples() const { return static_cast<int64_t>(plan_->order.size()); }

const std::vector<int64_t>& DataLoader::order() const { return plan_->order; }

void DataLoader::stop_workers() { prefetcher_.reset(); }  // the destructor cancels and waits

void DataLoader::start_workers() {
  const int depth = options_.prefetch > 0 ? options_.prefetch : 2 * options_.num_workers;
  prefetcher_ = std::make_unique<detail::Prefetcher>(plan_, pool_, depth, next_batch_);
}

void DataLoader::set_epoch(int64_t epoch, int64_t first_batch) {
  LOOM_CHECK(epoch >= 0, "DataLoader::set_epoch: epoch must be >= 0, got ", epoch);
  // The order is regenerated (not carried across epochs) so it can only depend on (seed, epoch).
  std::shared_ptr<const detail::EpochPlan> plan = plan_;
  if (epoch != epoch_ || plan->dataset_size != dataset_->size())
    plan = detail::make_epoch_plan(dataset_, options_, epoch);
  LOOM_CHECK(first_batch >= 0 && first_batch <= plan->num_batches, "DataLoader::set_epoch: first_batch ", first_batch,
             " is outside [0, ", plan->num_batches, "]");
  stop_workers();
  plan_ = std::move(plan);
  epoch_ = epoch;
  next_batch_ = first_batch;
  wait_seconds_ = 0;
  if (pool_ && next_batch_ < num_batches() && !pool_->on_worker_thread())
    start_workers();
}

std::optional<Batch> DataLoader::next() {
  LOOM_PROFILE_SCOPE("next_batch");
  if (next_batch_ >= num_batches())
    return std::nullopt;
  Batch batch;
  // On one of the pool's own threads, waiting for the pool could deadlock: build inline.
  if (!pool_ || pool_->on_worker_thread()) {
    const auto t0 = std::chrono::steady_clock::now();
    batch = detail::build_batch(*plan_, next_batch_);
    wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } else {
    if (!prefetcher_)
      start_workers();
    try {
      batch = prefetcher_->take(next_batch_, &wait_seconds_);
    } catch (...) {
      // NOTE [Ordered prefetch]: drop the window; a retry of next() rebuilds this batch.
      stop_workers();
      throw;
    }
  }
  ++next_batch_;
  if (next_batch_ >= num_batches())
    stop_workers();  // nothing left to prefetch; releases the plan's tasks
  return batch;
}

void DataLoader::Iterator::advance() { current_ = loader_ ? loader_->next() : std::nullopt; }

}  // namespace loom::data
