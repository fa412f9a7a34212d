#pragma once
// The ordered, bounded prefetch window of a DataLoader epoch (NOTE [Ordered
// prefetch] in data_loader.h). Private to the data layer.
#include <atomic>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>

#include "loader_plan.h"
#include "loom/runtime/task_pool.h"

namespace loom::data::detail {

class Prefetcher {
 public:
  // Builds batches first_batch, first_batch + 1, ... of `plan` on `pool`, keeping
  // at most `depth` of them ahead of the consumer.
  Prefetcher(std::shared_ptr<const EpochPlan> plan, std::shared_ptr<runtime::TaskPool> pool, int depth,
             int64_t first_batch);
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // Batch `b`, which must be the next one in order. Blocks until it is built and
  // adds the blocked time to *waited_seconds; rethrows the worker's exception.
  Batch take(int64_t b, double* waited_seconds);
  // Tells queued batches to skip their work and waits for every submitted one.
  void cancel();

 private:
  void fill();

  std::shared_ptr<const EpochPlan> plan_;
  std::shared_ptr<runtime::TaskPool> pool_;
  int depth_;
  int64_t next_take_, next_submit_;
  // Shared with the tasks, which may still be queued when this object is gone.
  std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);
  std::deque<std::future<Batch>> in_flight_;  // batches next_take_ .. next_submit_ - 1
};

}  // namespace loom::data::detail
