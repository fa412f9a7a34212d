#pragma once
// The work-stealing pool behind parallel_for and the inter-op executor.
//
// NOTE [Work-stealing pool]
// Every worker owns a deque of tasks. A submitter (always a thread outside the
// pool: nested parallel_for and tasks started from inside the pool run inline)
// pushes a task at the back of a chosen worker's deque and wakes that worker if it
// sleeps. The owner pops at the front; an idle worker steals at the back of the
// others' deques; the submitter, once its own share is done, steals back the tasks
// of its job that nobody has started yet, so a worker that is slow to wake (or busy
// with another job) never delays it. Idle workers poll for PoolParams::spin_us,
// then park on a futex; a push orders its deque update before reading the
// worker's sleep flag and the worker orders its sleep flag before re-reading the
// deques (both seq_cst), so a wake-up is never lost. A job counts its unfinished
// tasks in one word whose top bit says that the submitter sleeps on it, so the
// last task wakes it with one futex call and only when it sleeps.
//
// A pool's memory outlives its threads: set_num_threads stops a pool (waiting
// for the parallel_for calls inside it to leave) but keeps the object, so a
// caller that read the old pointer fails try_enter and reads the new one.
#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <thread>
#include <vector>

#include "loom/runtime/parallel.h"

namespace loom::runtime::detail {

// Unfinished tasks of a job; the top bit marks a submitter asleep on the word.
inline constexpr uint32_t kWaiterParked = 1u << 31;

struct Job {
  // Runs task `index` (with `arg`) of this job; may throw.
  void (*invoke)(void* ctx, void* arg, int64_t index) = nullptr;
  void* ctx = nullptr;
  std::atomic<uint32_t> pending{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;  // the first exception; written once, before `pending` drops
};

struct Task {
  Job* job = nullptr;
  void* arg = nullptr;
  int64_t index = 0;
};

// A deque of tasks under a spin lock (critical sections are a few loads and
// stores); size_ mirrors the count so pollers need not take the lock.
class TaskDeque {
 public:
  TaskDeque() : buf_(kInitialCapacity) {}
  void push_back(const Task& t);
  bool pop_front(Task& out);
  bool steal_back(Task& out);
  // The back-most task of `job`, for a submitter helping its own job.
  bool steal_back_of(const Job* job, Task& out);
  bool empty() const { return size_.load(std::memory_order_seq_cst) == 0; }

 private:
  static constexpr size_t kInitialCapacity = 64;
  void lock();
  void unlock() { locked_.store(false, std::memory_order_release); }
  void erase_at(size_t pos);  // pos counts from the front; lock held

  std::atomic<bool> locked_{false};
  std::atomic<int64_t> size_{0};
  std::vector<Task> buf_;  // ring buffer, capacity a power of two
  size_t head_ = 0;
  size_t count_ = 0;
};

class ThreadPool {
 public:
  // Starts params.threads - 1 workers; the submitting thread is the other one.
  explicit ThreadPool(const PoolParams& params);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }
  int workers() const { return static_cast<int>(workers_.size()); }

  // Registers a caller; false once stop() has begun. Pair with leave().
  bool try_enter();
  void leave() { active_.fetch_sub(1, std::memory_order_seq_cst); }
  // Refuses new callers, waits for the ones inside to leave, joins the workers.
  void stop();

  // Queues `t` on worker `w` (0-based) and wakes it. With wake_helper, also wakes
  // one sleeping worker when `w` is awake (it may be busy), so the task can be stolen.
  void push(int w, const Task& t, bool wake_helper = false);
  // Called by the submitter of `job`: runs the job's queued tasks, then sleeps
  // until every task has finished; rethrows the job's first exception.
  void wait(Job& job);
  // Runs one task and marks it finished, capturing its exception in the job.
  static void run_task(const Task& t);
  // Records the current exception as the job's error if it is the first.
  static void record_error(Job& job);

 private:
  struct alignas(64) Worker {
    TaskDeque deque;
    std::atomic<uint32_t> sleeping{0};  // futex word: 1 while parked
    std::thread thread;
  };

  void worker_loop(int w);
  bool find_task(int w, Task& out);
  bool any_work() const;
  void wake(int w);

  PoolParams params_;
  bool oversubscribed_ = false;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<int> cpus_;  // the affinity mask's cpus, for pinning
  alignas(64) std::atomic<int64_t> active_{0};
  std::atomic<bool> stopping_{false};
  bool joined_ = false;
};

void futex_wait(std::atomic<uint32_t>* word, uint32_t expected);
void set_thread_slot(int slot);  // runtime::thread_slot() of the calling thread
void futex_wake(std::atomic<uint32_t>* word, int count);
void cpu_relax();

// Process-wide counters (PoolStats).
struct Counters {
  alignas(64) std::atomic<int64_t> jobs{0};
  alignas(64) std::atomic<int64_t> steals{0};
  std::atomic<int64_t> parks{0};
};
Counters& counters();

// Defined in parallel.cpp.
bool set_in_interop(bool v);  // returns the previous value
bool must_run_inline();       // nested, inside an inter-op task, or an inline-only thread
ThreadPool* enter_pool();     // the process pool, entered (leave() it); nullptr for one thread
// Forgets the budget so the next query re-reads the environment (tests only).
void reset_thread_budget_for_testing();

}  // namespace loom::runtime::detail
