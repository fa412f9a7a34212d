#include "loom/runtime/task_pool.h"

#include <map>

#include "loom/core/error.h"
#include "loom/runtime/parallel.h"

namespace loom::runtime {
namespace {

// The pool whose worker the current thread is (nullptr on other threads).
thread_local const TaskPool* t_current_pool = nullptr;

}  // namespace

TaskPool::TaskPool(int workers) {
  LOOM_CHECK(workers >= 1 && workers <= 256, "TaskPool: worker count must be in 1..256, got ", workers);
  size_ = workers;
  threads_.reserve(static_cast<size_t>(workers));
  for (int i = 0; i < workers; ++i)
    threads_.emplace_back([this] { worker_loop(); });
}

TaskPool::~TaskPool() { shutdown(); }

void TaskPool::enqueue(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_)
      LOOM_THROW(Error, "TaskPool::submit: the pool is shut down; no task can be queued");
    queue_.push_back(std::move(job));
    ++unfinished_;
  }
  work_.notify_one();
}

void TaskPool::wait() {
  LOOM_CHECK(!on_worker_thread(), "TaskPool::wait: called from one of the pool's own workers, which would deadlock");
  std::unique_lock<std::mutex> lock(mutex_);
  idle_.wait(lock, [this] { return unfinished_ == 0; });
}

void TaskPool::shutdown() {
  LOOM_CHECK(!on_worker_thread(),
             "TaskPool::shutdown: called from one of the pool's own workers, which cannot join itself");
  std::lock_guard<std::mutex> join_lock(join_mutex_);  // concurrent shutdowns join once
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable())
      t.join();
  }
}

bool TaskPool::on_worker_thread() const { return t_current_pool == this; }

void TaskPool::worker_loop() {
  // Loader work stays on this thread: the intra-op pool belongs to the training step.
  set_inline_parallelism(true);
  t_current_pool = this;
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // Drain the queue before stopping, so no future is left without a value.
      work_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty())
        return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    // submit() wraps every job in a packaged_task, which stores exceptions in its
    // future; nothing escapes here.
    job();
    job = nullptr;  // release the task's captures before reporting it finished
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--unfinished_ == 0)
        idle_.notify_all();
    }
  }
}

std::shared_ptr<TaskPool> loader_pool(int workers) {
  LOOM_CHECK(workers >= 1 && workers <= 256, "loader_pool: worker count must be in 1..256, got ", workers);
  static std::mutex mutex;
  static std::map<int, std::shared_ptr<TaskPool>> pools;
  std::lock_guard<std::mutex> lock(mutex);
  auto& pool = pools[workers];
  if (!pool)
    pool = std::make_shared<TaskPool>(workers);
  return pool;
}

}  // namespace loom::runtime
