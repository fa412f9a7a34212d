#include "loom/runtime/parallel.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include <cblas.h>
#include <omp.h>

#include "loom/core/error.h"
#include "loom/runtime/executor.h"
#include "loom/runtime/profiler.h"
#include "thread_pool.h"

// OpenBLAS's pthreads build exports this (its fork handler uses it); other builds may
// not, hence weak: null when absent.
extern "C" __attribute__((weak)) int blas_thread_shutdown_(void);

namespace loom::runtime {
namespace {

using detail::ThreadPool;

thread_local bool t_in_parallel = false;
thread_local bool t_inline_only = false;
thread_local bool t_in_interop = false;
thread_local int t_thread_slot = -1;  // assigned on first use outside the pool
// Threads outside the pool get slots from here, above any pool worker's, so two
// threads running inference on one model never share per-thread scratch.
constexpr int kFirstOutsideSlot = 1 << 16;
std::atomic<int> g_next_outside_slot{kFirstOutsideSlot};

// NOTE [Thread budget] lives in parallel.h. `threads` is read on every
// parallel_for without the lock; everything else changes under `mutex`.
struct Budget {
  Budget() { pthread_atfork(&Budget::prepare, &Budget::parent, &Budget::child); }

  std::mutex mutex;
  std::atomic<int> threads{0};
  const char* source = "cores";
  bool pin = false;
  int spin_us = PoolParams{}.spin_us;
  std::atomic<ThreadPool*> pool{nullptr};
  // Stopped pools: kept (threadless) because a racing caller may still hold the
  // pointer (NOTE [Work-stealing pool]).
  std::vector<std::unique_ptr<ThreadPool>> retired;
  // Pools a forked child inherited without their threads (NOTE [Fork]): never
  // touched again, only kept reachable.
  std::vector<ThreadPool*> abandoned;

  // NOTE [Fork]
  // A forked child has only the thread that called fork(): the pool's workers are
  // gone and any lock they held stays held. The parent holds `mutex` across
  // fork() so the child's copy is consistent and unlocked; the child forgets the
  // pool without touching it (its memory is leaked, its locks never taken again)
  // and starts a new one on its next parallel_for.
  static void prepare();
  static void parent();
  static void child();
};

Budget& budget() {
  static Budget b;
  return b;
}

void Budget::prepare() { budget().mutex.lock(); }
void Budget::parent() { budget().mutex.unlock(); }
void Budget::child() {
  Budget& b = budget();
  // Stopping or deleting these would join threads that do not exist here.
  if (ThreadPool* p = b.pool.exchange(nullptr, std::memory_order_relaxed))
    b.abandoned.push_back(p);
  for (auto& p : b.retired)
    b.abandoned.push_back(p.release());
  b.retired.clear();
  t_in_parallel = false;
  b.mutex.unlock();
}

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v && (std::strcmp(v, "1") == 0 || std::strcmp(v, "true") == 0 || std::strcmp(v, "on") == 0);
}

// Lock held. Drops the current pool; the next parallel_for starts one.
void retire_pool(Budget& b) {
  LOOM_CHECK(!t_in_parallel && !t_in_interop,
             "the thread pool cannot be reconfigured from inside a parallel_for body or an inter-op task");
  if (ThreadPool* old = b.pool.exchange(nullptr, std::memory_order_acq_rel)) {
    old->stop();
    b.retired.emplace_back(old);
  }
}

// Lock held.
void apply(Budget& b, int n, const char* source) {
  retire_pool(b);
  b.threads.store(n, std::memory_order_release);
  b.source = source;
  // OpenBLAS computes on one thread; loom's pool splits its GEMMs (NOTE [GEMM panels]
  // in src/kernels/cpu/gemm_panels.h). Its server threads, started when the library
  // loads, spin in sched_yield until OpenBLAS's thread timeout (about 70 ms) before
  // they sleep; on a 2-core machine the scheduler then put loom's pool worker on the
  // caller's core, and the first ~20 ms of a run (a whole `loom eval` of the MLP)
  // ran on one core. Joining them is what OpenBLAS itself does before a fork; a
  // later multi-threaded OpenBLAS call starts them again.
  openblas_set_num_threads(1);
  if (blas_thread_shutdown_)
    blas_thread_shutdown_();
  omp_set_num_threads(n);
}

int parse_count(const char* name, const char* text) {
  char* end = nullptr;
  long n = std::strtol(text, &end, 10);
  LOOM_CHECK(end && end != text && *end == '\0' && n >= 1 && n <= 4096, name, "='", text,
             "' is not a thread count (expected an integer 1..4096)");
  return static_cast<int>(n);
}

Budget& initialised_budget() {
  Budget& b = budget();
  if (b.threads.load(std::memory_order_acquire) != 0)
    return b;
  std::lock_guard<std::mutex> lock(b.mutex);
  if (b.threads.load(std::memory_order_relaxed) == 0) {
    b.pin = env_flag("LOOM_PIN");
    const int ranks = mpi_local_ranks();
    if (const char* env = std::getenv("LOOM_NUM_THREADS"); env && *env)
      apply(b, parse_count("LOOM_NUM_THREADS", env), "LOOM_NUM_THREADS");
    else if (ranks > 1)
      apply(b, std::max(1, hardware_threads() / ranks), "mpi-local-ranks");
    else
      apply(b, hardware_threads(), "cores");
  }
  return b;
}

// The pool for `threads` threads, entered (leave() when done); nullptr if none.
ThreadPool* enter_pool(Budget& b) {
  ThreadPool* p = b.pool.load(std::memory_order_acquire);
  if (p && p->try_enter())
    return p;
  std::lock_guard<std::mutex> lock(b.mutex);
  p = b.pool.load(std::memory_order_acquire);
  if (!p) {
    PoolParams params;
    params.threads = b.threads.load(std::memory_order_relaxed);
    params.pin = b.pin;
    params.spin_us = b.spin_us;
    if (params.threads <= 1)
      return nullptr;
    p = new ThreadPool(params);
    b.pool.store(p, std::memory_order_release);
  }
  return p->try_enter() ? p : nullptr;  // under the lock nobody stops it
}

struct PoolLease {
  explicit PoolLease(ThreadPool* p) : pool(p) {}
  ~PoolLease() {
    if (pool)
      pool->leave();
  }
  PoolLease(const PoolLease&) = delete;
  PoolLease& operator=(const PoolLease&) = delete;
  ThreadPool* pool;
};

struct ForContext {
  int64_t begin, n, chunks;
  const ChunkFn* fn;
};

// balance211: the first n % chunks chunks get one extra element.
void run_chunk(void* ctx, void*, int64_t i) {
  const ForContext& c = *static_cast<const ForContext*>(ctx);
  const int64_t base = c.n / c.chunks, extra = c.n % c.chunks;
  const int64_t lo = c.begin + i * base + std::min<int64_t>(i, extra);
  const int64_t hi = lo + base + (i < extra ? 1 : 0);
  const bool was = t_in_parallel;
  t_in_parallel = true;
  try {
    LOOM_PROFILE_SCOPE("parallel_for");
    (*c.fn)(lo, hi);
  } catch (...) {
    t_in_parallel = was;
    throw;
  }
  t_in_parallel = was;
}

}  // namespace

int hardware_threads() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0)
      return n;
  }
  return 1;
}

int mpi_local_ranks() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "PMI_LOCAL_SIZE"}) {
    const char* v = std::getenv(name);
    if (!v || !*v)
      continue;
    char* end = nullptr;
    long n = std::strtol(v, &end, 10);
    if (end && *end == '\0' && n >= 1 && n <= 1 << 20)
      return static_cast<int>(n);
  }
  return 1;
}

int num_threads() { return initialised_budget().threads.load(std::memory_order_relaxed); }

const char* num_threads_source() {
  Budget& b = initialised_budget();
  std::lock_guard<std::mutex> lock(b.mutex);
  return b.source;
}

void set_num_threads(int n) {
  LOOM_CHECK(n >= 1 && n <= 4096, "thread count must be in 1..4096, got ", n);
  Budget& b = initialised_budget();
  std::lock_guard<std::mutex> lock(b.mutex);
  apply(b, n, "flag");
}

PoolParams pool_params() {
  Budget& b = initialised_budget();
  std::lock_guard<std::mutex> lock(b.mutex);
  PoolParams p;
  p.threads = b.threads.load(std::memory_order_relaxed);
  p.pin = b.pin;
  p.spin_us = b.spin_us;
  return p;
}

void set_pool_params(const PoolParams& params) {
  LOOM_CHECK(params.threads >= 0 && params.threads <= 4096, "PoolParams::threads must be in 0..4096, got ",
             params.threads);
  LOOM_CHECK(params.spin_us >= 0 && params.spin_us <= 1000000, "PoolParams::spin_us must be in 0..1000000, got ",
             params.spin_us);
  Budget& b = initialised_budget();
  std::lock_guard<std::mutex> lock(b.mutex);
  retire_pool(b);
  b.pin = params.pin;
  b.spin_us = params.spin_us;
  if (params.threads > 0)
    apply(b, params.threads, "flag");
}

bool pinning_enabled() {
  Budget& b = initialised_budget();
  std::lock_guard<std::mutex> lock(b.mutex);
  return b.pin;
}

bool in_parallel_region() { return t_in_parallel; }

int thread_slot() {
  if (t_thread_slot < 0)
    t_thread_slot = g_next_outside_slot.fetch_add(1, std::memory_order_relaxed);
  return t_thread_slot;
}

void set_inline_parallelism(bool inline_only) { t_inline_only = inline_only; }

bool in_interop_task() { return t_in_interop; }

PoolStats pool_stats() {
  auto& c = detail::counters();
  PoolStats s;
  s.jobs = c.jobs.load(std::memory_order_relaxed);
  s.steals = c.steals.load(std::memory_order_relaxed);
  s.parks = c.parks.load(std::memory_order_relaxed);
  return s;
}

namespace detail {

void set_thread_slot(int slot) { t_thread_slot = slot; }

bool set_in_interop(bool v) {
  bool was = t_in_interop;
  t_in_interop = v;
  return was;
}

bool must_run_inline() { return t_in_parallel || t_inline_only || t_in_interop; }

ThreadPool* enter_pool() { return runtime::enter_pool(initialised_budget()); }

void reset_thread_budget_for_testing() {
  Budget& b = budget();
  std::lock_guard<std::mutex> lock(b.mutex);
  retire_pool(b);
  b.threads.store(0, std::memory_order_release);
}

}  // namespace detail

void parallel_for(int64_t begin, int64_t end, int64_t grain, ChunkFn fn) {
  if (end <= begin)
    return;
  const int64_t n = end - begin;
  grain = grain < 1 ? 1 : grain;
  if (t_in_parallel || t_inline_only || t_in_interop) {
    fn(begin, end);
    return;
  }
  Budget& b = initialised_budget();
  const int64_t chunks = std::min<int64_t>(b.threads.load(std::memory_order_relaxed), (n + grain - 1) / grain);
  if (chunks <= 1) {
    fn(begin, end);
    return;
  }
  PoolLease lease(enter_pool(b));
  ThreadPool* pool = lease.pool;
  if (!pool || pool->size() < chunks) {  // a racing set_num_threads shrank the pool
    fn(begin, end);
    return;
  }
  detail::counters().jobs.fetch_add(1, std::memory_order_relaxed);
  ForContext ctx{begin, n, chunks, &fn};
  detail::Job job;
  job.invoke = &run_chunk;
  job.ctx = &ctx;
  job.pending.store(static_cast<uint32_t>(chunks - 1), std::memory_order_relaxed);
  for (int64_t i = 1; i < chunks; ++i)
    pool->push(static_cast<int>(i - 1), detail::Task{&job, nullptr, i});
  try {
    run_chunk(&ctx, nullptr, 0);
  } catch (...) {
    ThreadPool::record_error(job);
  }
  pool->wait(job);
}

}  // namespace loom::runtime
