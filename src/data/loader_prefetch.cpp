#include "loader_prefetch.h"

#include <chrono>

#include "loom/core/error.h"

namespace loom::data::detail {

Prefetcher::Prefetcher(std::shared_ptr<const EpochPlan> plan, std::shared_ptr<runtime::TaskPool> pool, int depth,
                       int64_t first_batch)
    : plan_(std::move(plan)),
      pool_(std::move(pool)),
      depth_(depth),
      next_take_(first_batch),
      next_submit_(first_batch) {
  LOOM_ASSERT(depth_ >= 1);
  fill();
}

Prefetcher::~Prefetcher() { cancel(); }

void Prefetcher::fill() {
  while (static_cast<int>(in_flight_.size()) < depth_ && next_submit_ < plan_->num_batches) {
    // The task owns what it reads (the plan, the flag), so a cancelled task that
    // starts late never touches freed memory.
    in_flight_.push_back(pool_->submit([plan = plan_, cancelled = cancelled_, b = next_submit_]() -> Batch {
      if (cancelled->load(std::memory_order_acquire))
        return {};
      return build_batch(*plan, b);
    }));
    ++next_submit_;
  }
}

Batch Prefetcher::take(int64_t b, double* waited_seconds) {
  LOOM_ASSERT(b == next_take_ && !cancelled_->load());
  fill();
  LOOM_ASSERT(!in_flight_.empty());
  std::future<Batch> next = std::move(in_flight_.front());
  in_flight_.pop_front();
  ++next_take_;
  fill();  // keep `depth_` batches ahead while the consumer works on this one
  if (next.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    const auto t0 = std::chrono::steady_clock::now();
    next.wait();
    *waited_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return next.get();
}

void Prefetcher::cancel() {
  cancelled_->store(true, std::memory_order_release);
  // Running batches finish (one batch of work at most); queued ones return at once.
  for (auto& f : in_flight_)
    f.wait();
  in_flight_.clear();
}

}  // namespace loom::data::detail
