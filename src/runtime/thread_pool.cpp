#include "thread_pool.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <climits>

#include <omp.h>

#include "loom/runtime/profiler.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace loom::runtime::detail {

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// A futex call only passes the address to the kernel: waking a word whose memory
// was just released (a finished job on its submitter's stack) is harmless, and
// every wait re-checks its condition after waking.
void futex_wait(std::atomic<uint32_t>* word, uint32_t expected) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
}

void futex_wake(std::atomic<uint32_t>* word, int count) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, count, nullptr, nullptr, 0);
}

Counters& counters() {
  static Counters c;
  return c;
}

// --- TaskDeque ------------------------------------------------------------

void TaskDeque::lock() {
  int spins = 0;
  while (locked_.exchange(true, std::memory_order_acquire)) {
    while (locked_.load(std::memory_order_relaxed)) {
      if (++spins < 64)
        cpu_relax();
      else
        sched_yield();  // the holder may have been preempted (oversubscribed pool)
    }
  }
}

void TaskDeque::push_back(const Task& t) {
  lock();
  if (count_ == buf_.size()) {  // grow: unroll the ring into a buffer twice the size
    std::vector<Task> bigger(buf_.size() * 2);
    for (size_t i = 0; i < count_; ++i)
      bigger[i] = buf_[(head_ + i) & (buf_.size() - 1)];
    buf_.swap(bigger);
    head_ = 0;
  }
  buf_[(head_ + count_) & (buf_.size() - 1)] = t;
  ++count_;
  // seq_cst: ordered before the submitter reads the worker's sleep flag.
  size_.store(static_cast<int64_t>(count_), std::memory_order_seq_cst);
  unlock();
}

bool TaskDeque::pop_front(Task& out) {
  if (size_.load(std::memory_order_relaxed) == 0)
    return false;
  lock();
  bool ok = count_ > 0;
  if (ok) {
    out = buf_[head_];
    head_ = (head_ + 1) & (buf_.size() - 1);
    --count_;
    size_.store(static_cast<int64_t>(count_), std::memory_order_relaxed);
  }
  unlock();
  return ok;
}

bool TaskDeque::steal_back(Task& out) {
  if (size_.load(std::memory_order_relaxed) == 0)
    return false;
  lock();
  bool ok = count_ > 0;
  if (ok) {
    out = buf_[(head_ + count_ - 1) & (buf_.size() - 1)];
    --count_;
    size_.store(static_cast<int64_t>(count_), std::memory_order_relaxed);
  }
  unlock();
  return ok;
}

void TaskDeque::erase_at(size_t pos) {
  const size_t mask = buf_.size() - 1;
  for (size_t i = pos; i + 1 < count_; ++i)
    buf_[(head_ + i) & mask] = buf_[(head_ + i + 1) & mask];
  --count_;
}

bool TaskDeque::steal_back_of(const Job* job, Task& out) {
  if (size_.load(std::memory_order_relaxed) == 0)
    return false;
  lock();
  bool ok = false;
  for (size_t i = count_; i-- > 0;) {
    const Task& t = buf_[(head_ + i) & (buf_.size() - 1)];
    if (t.job == job) {
      out = t;
      erase_at(i);
      size_.store(static_cast<int64_t>(count_), std::memory_order_relaxed);
      ok = true;
      break;
    }
  }
  unlock();
  return ok;
}

// --- ThreadPool -----------------------------------------------------------

namespace {

std::vector<int> affinity_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set))
        cpus.push_back(c);
  }
  return cpus;
}

}  // namespace

ThreadPool::ThreadPool(const PoolParams& params) : params_(params) {
  const int workers = params.threads > 1 ? params.threads - 1 : 0;
  cpus_ = affinity_cpus();
  oversubscribed_ = params.threads > static_cast<int>(cpus_.empty() ? 1 : cpus_.size());
  workers_.reserve(static_cast<size_t>(workers));
  for (int i = 0; i < workers; ++i)
    workers_.push_back(std::make_unique<Worker>());
  // Start threads only once every Worker exists: a worker steals from all of them.
  for (int i = 0; i < workers; ++i)
    workers_[static_cast<size_t>(i)]->thread = std::thread([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() { stop(); }

bool ThreadPool::try_enter() {
  active_.fetch_add(1, std::memory_order_seq_cst);
  if (stopping_.load(std::memory_order_seq_cst)) {
    active_.fetch_sub(1, std::memory_order_seq_cst);
    return false;
  }
  return true;
}

void ThreadPool::stop() {
  if (joined_)
    return;
  stopping_.store(true, std::memory_order_seq_cst);
  while (active_.load(std::memory_order_seq_cst) != 0)
    std::this_thread::yield();
  for (size_t w = 0; w < workers_.size(); ++w)
    wake(static_cast<int>(w));
  for (auto& w : workers_)
    if (w->thread.joinable())
      w->thread.join();
  joined_ = true;
}

void ThreadPool::wake(int w) {
  Worker& wk = *workers_[static_cast<size_t>(w)];
  if (wk.sleeping.load(std::memory_order_seq_cst) == 1 && wk.sleeping.exchange(0, std::memory_order_seq_cst) == 1)
    futex_wake(&wk.sleeping, 1);
}

void ThreadPool::push(int w, const Task& t, bool wake_helper) {
  Worker& wk = *workers_[static_cast<size_t>(w)];
  wk.deque.push_back(t);
  if (wk.sleeping.load(std::memory_order_seq_cst) == 1) {
    wake(w);
  } else if (wake_helper) {
    for (size_t i = 0; i < workers_.size(); ++i) {
      if (workers_[i]->sleeping.load(std::memory_order_seq_cst) == 1) {
        wake(static_cast<int>(i));
        break;
      }
    }
  }
}

void ThreadPool::record_error(Job& job) {
  if (!job.failed.exchange(true, std::memory_order_acq_rel))
    job.error = std::current_exception();
}

void ThreadPool::run_task(const Task& t) {
  Job& job = *t.job;
  try {
    job.invoke(job.ctx, t.arg, t.index);
  } catch (...) {
    record_error(job);
  }
  // The job may be gone as soon as the count reaches zero: touch nothing after.
  std::atomic<uint32_t>* word = &job.pending;
  if (word->fetch_sub(1, std::memory_order_acq_rel) == (kWaiterParked | 1u))
    futex_wake(word, 1);
}

bool ThreadPool::find_task(int w, Task& out) {
  if (workers_[static_cast<size_t>(w)]->deque.pop_front(out))
    return true;
  const int n = workers();
  for (int k = 1; k < n; ++k) {
    int v = (w + k) % n;
    if (workers_[static_cast<size_t>(v)]->deque.steal_back(out)) {
      counters().steals.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
  }
  return false;
}

bool ThreadPool::any_work() const {
  for (const auto& w : workers_)
    if (!w->deque.empty())
      return true;
  return false;
}

void ThreadPool::worker_loop(int w) {
  if (params_.pin && !cpus_.empty()) {
    // Worker i (the caller being thread 0) takes the i-th cpu of the mask.
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpus_[static_cast<size_t>(w + 1) % cpus_.size()], &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
  }
  // Work on this thread is single-threaded by construction (NOTE [Thread budget]).
  omp_set_num_threads(1);
  set_profiler_thread_name("pool worker " + std::to_string(w + 1));
  set_thread_slot(w + 1);
  Worker& me = *workers_[static_cast<size_t>(w)];
  using Clock = std::chrono::steady_clock;
  const auto spin_budget = std::chrono::microseconds(params_.spin_us);
  while (true) {
    Task t;
    if (find_task(w, t)) {
      run_task(t);
      continue;
    }
    if (stopping_.load(std::memory_order_acquire))
      return;
    // Bounded poll before parking; an oversubscribed pool yields its core instead.
    bool found = false;
    if (params_.spin_us > 0) {
      const auto deadline = Clock::now() + spin_budget;
      for (int i = 1;; ++i) {
        if (any_work() || stopping_.load(std::memory_order_relaxed)) {
          found = true;
          break;
        }
        if (oversubscribed_)
          sched_yield();
        else
          cpu_relax();
        if ((i & 63) == 0 && Clock::now() >= deadline)
          break;
      }
    }
    if (found)
      continue;
    me.sleeping.store(1, std::memory_order_seq_cst);
    if (any_work() || stopping_.load(std::memory_order_seq_cst)) {
      me.sleeping.store(0, std::memory_order_relaxed);
      continue;
    }
    counters().parks.fetch_add(1, std::memory_order_relaxed);
    while (me.sleeping.load(std::memory_order_acquire) == 1)
      futex_wait(&me.sleeping, 1);
  }
}

void ThreadPool::wait(Job& job) {
  // Help: take back this job's tasks that no worker has started.
  Task t;
  const int n = workers();
  for (bool again = true; again;) {
    again = false;
    for (int v = n - 1; v >= 0; --v) {
      if (workers_[static_cast<size_t>(v)]->deque.steal_back_of(&job, t)) {
        counters().steals.fetch_add(1, std::memory_order_relaxed);
        run_task(t);
        again = true;
      }
    }
  }
  // No task of this job is queued any more (all are pushed before wait), so the
  // rest is running on workers: poll briefly, then sleep on the job's count.
  std::atomic<uint32_t>& word = job.pending;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(params_.spin_us);
  for (int i = 1; (word.load(std::memory_order_acquire) & ~kWaiterParked) != 0; ++i) {
    if (oversubscribed_) {
      sched_yield();
    } else {
      cpu_relax();
    }
    if ((i & 63) == 0 && std::chrono::steady_clock::now() >= deadline) {
      uint32_t v = word.load(std::memory_order_acquire);
      while ((v & ~kWaiterParked) != 0) {
        if (!(v & kWaiterParked) && !word.compare_exchange_weak(v, v | kWaiterParked, std::memory_order_acq_rel)) {
          continue;  // v was reloaded
        }
        futex_wait(&word, v | kWaiterParked);
        v = word.load(std::memory_order_acquire);
      }
      break;
    }
  }
  if (job.failed.load(std::memory_order_acquire))
    std::rethrow_exception(job.error);
}

}  // namespace loom::runtime::detail
