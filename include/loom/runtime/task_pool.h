#pragma once
// TaskPool: a few background threads that run independent tasks from a FIFO
// queue, for work that overlaps with computation (loading and augmenting data).
//
//   auto pool = loom::runtime::loader_pool(2);           // process-wide, 2 threads
//   std::future<int> f = pool->submit([] { return 42; });
//   int v = f.get();                                     // rethrows the task's exception
//
// NOTE [Loader workers]
// Loader workers are I/O-and-augmentation threads, counted separately from the
// intra-op budget of NOTE [Thread budget] (runtime/parallel.h): creating a
// TaskPool or calling loader_pool() never changes num_threads() or
// set_num_threads(), and parallel_for never runs its chunks on these threads.
// A DataLoader with num_workers = N therefore adds N threads to the process on
// top of num_threads(); choose N small (1-4) and, when cores are scarce, lower
// --threads to leave room for them. A task that itself calls parallel_for (a
// dataset's batch gather) competes with the training thread for the one intra-op
// pool; parallel_for runs such a call inline when the pool is busy, so it never
// deadlocks, but large gathers inside workers can briefly take the pool away
// from the training step.
//
// Tasks are independent: a task must not wait on another task of the same pool
// (with every worker waiting, nothing would run the awaited task). Callers that
// might run on a worker check on_worker_thread() and do the work inline instead.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace loom::runtime {

class TaskPool {
 public:
  // Starts `workers` threads (1..256); ValueError otherwise.
  explicit TaskPool(int workers);
  // shutdown(): runs every task already submitted, then joins the threads.
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  int size() const { return size_; }

  // Queues fn() to run on a worker. The future holds its result, or the exception
  // it threw (get() rethrows it on the consumer's thread). Throws Error after
  // shutdown().
  template <typename Fn>
  auto submit(Fn&& fn) -> std::future<std::invoke_result_t<std::decay_t<Fn>>> {
    using R = std::invoke_result_t<std::decay_t<Fn>>;
    // packaged_task is move-only and std::function needs a copyable target, hence the shared_ptr.
    auto task = std::make_shared<std::packaged_task<R()>>(std::forward<Fn>(fn));
    std::future<R> result = task->get_future();
    enqueue([task] { (*task)(); });
    return result;
  }

  // Blocks until every task submitted so far has finished.
  void wait();
  // Stops accepting tasks, runs the queued ones, joins the threads. Idempotent.
  void shutdown();
  // True when the calling thread is one of this pool's workers.
  bool on_worker_thread() const;

 private:
  void enqueue(std::function<void()> job);
  void worker_loop();

  std::vector<std::thread> threads_;
  int size_ = 0;
  std::mutex join_mutex_;
  mutable std::mutex mutex_;
  std::condition_variable work_, idle_;
  std::deque<std::function<void()>> queue_;
  int64_t unfinished_ = 0;  // queued plus running
  bool stopping_ = false;
};

// The process-wide pool of `workers` threads (1..256) used by DataLoaders: the
// first call for a size creates it and later calls for that size share it, so
// loaders that come and go do not start threads each time (NOTE [Loader workers]).
// Pools live until the process exits.
std::shared_ptr<TaskPool> loader_pool(int workers);

}  // namespace loom::runtime
