#include "loom/runtime/executor.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include <omp.h>

#include "thread_pool.h"

namespace loom::runtime {
namespace {

// -1: not read yet; 0 off; 1 on.
std::atomic<int> g_interop{-1};

// Marks the thread as inside a task for the task's duration: parallel_for runs
// inline, and OpenMP (oneDNN) runs one thread, so a task takes one core.
class InteropScope {
 public:
  InteropScope() : was_(detail::set_in_interop(true)), omp_threads_(omp_get_max_threads()) {
    if (omp_threads_ != 1)
      omp_set_num_threads(1);
  }
  ~InteropScope() {
    if (omp_threads_ != 1)
      omp_set_num_threads(omp_threads_);
    detail::set_in_interop(was_);
  }
  InteropScope(const InteropScope&) = delete;
  InteropScope& operator=(const InteropScope&) = delete;

 private:
  bool was_;
  int omp_threads_;
};

void run_group_task(void*, void* arg, int64_t) {
  InteropScope scope;
  (*static_cast<std::function<void()>*>(arg))();
}

}  // namespace

bool interop_enabled() {
  int v = g_interop.load(std::memory_order_acquire);
  if (v < 0) {
    const char* env = std::getenv("LOOM_INTEROP");
    v = env && (std::strcmp(env, "1") == 0 || std::strcmp(env, "true") == 0 || std::strcmp(env, "on") == 0);
    int expected = -1;
    if (!g_interop.compare_exchange_strong(expected, v))
      v = expected;  // set_interop_enabled won the race
  }
  return v == 1;
}

void set_interop_enabled(bool enabled) { g_interop.store(enabled ? 1 : 0, std::memory_order_release); }

TaskGroup::TaskGroup() : job_(std::make_unique<detail::Job>()) { job_->invoke = &run_group_task; }

TaskGroup::~TaskGroup() {
  try {
    wait();
  } catch (...) {  // NOLINT: a destructor cannot throw; wait() reports errors
  }
}

void TaskGroup::run(std::function<void()> fn) {
  if (!pool_ && !detail::must_run_inline())
    pool_ = detail::enter_pool();
  if (!pool_ || pool_->workers() == 0) {
    try {
      run_group_task(nullptr, &fn, 0);
    } catch (...) {
      detail::ThreadPool::record_error(*job_);
    }
    return;
  }
  fns_.push_back(std::move(fn));
  job_->pending.fetch_add(1, std::memory_order_relaxed);
  detail::counters().jobs.fetch_add(1, std::memory_order_relaxed);
  pool_->push(next_worker_++ % pool_->workers(), detail::Task{job_.get(), &fns_.back(), 0}, /*wake_helper=*/true);
}

void TaskGroup::wait() {
  detail::Job& job = *job_;
  if (pool_) {
    struct Leave {
      TaskGroup* g;
      ~Leave() {
        g->pool_->leave();
        g->pool_ = nullptr;
        g->fns_.clear();
        g->next_worker_ = 0;
        g->job_->pending.store(0, std::memory_order_relaxed);
        g->job_->failed.store(false, std::memory_order_relaxed);
        g->job_->error = nullptr;
      }
    } leave{this};
    pool_->wait(job);  // rethrows after every task has finished
    return;
  }
  if (job.failed.load(std::memory_order_acquire)) {
    std::exception_ptr e = job.error;
    job.error = nullptr;
    job.failed.store(false, std::memory_order_relaxed);
    std::rethrow_exception(e);
  }
}

}  // namespace loom::runtime
