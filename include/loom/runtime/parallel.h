#pragma once
// The intra-op thread budget and parallel_for.
//
//   loom::runtime::parallel_for(0, n, 4096, [&](int64_t lo, int64_t hi) {
//     for (int64_t i = lo; i < hi; ++i) dst[i] = a[i] + b[i];
//   });
//
// NOTE [Thread budget]
// One source of truth for how many threads loom computes with (the caller counts
// as one of them), first match wins; num_threads_source() names the one used:
//   1. set_num_threads(n)  (the CLI's --threads)                     "flag"
//   2. the LOOM_NUM_THREADS environment variable                     "LOOM_NUM_THREADS"
//   3. the cores this process may run on (sched_getaffinity) divided
//      by the MPI ranks on this node, at least 1, when a launcher
//      says how many there are (OMPI_COMM_WORLD_LOCAL_SIZE, then
//      MPI_LOCALNRANKS, then PMI_LOCAL_SIZE, greater than 1)       "mpi-local-ranks"
//   4. the cores this process may run on                             "cores"
// OpenMP, which oneDNN uses in this build (omp_set_num_threads), is set to the
// same count, and OpenBLAS to one thread: loom's pool splits library GEMMs into
// one-thread calls (NOTE [GEMM panels]), so library threads never oversubscribe.
// Workers are pinned to cores when LOOM_PIN=1 or PoolParams::pin.
//
// NOTE [Deterministic split]
// parallel_for cuts [begin, end) into min(num_threads(), ceil(n / grain)) chunks
// by balance211 (the first n % chunks chunks are one longer). The boundaries depend
// only on the range, the grain and the thread count: which thread runs a chunk may
// change from run to run (idle threads steal chunks that have not started), its
// bounds never do, so per-chunk reductions combined in chunk order give the same
// bits every run. Nested calls, calls inside an inter-op task (runtime/executor.h)
// and calls on threads marked inline run the whole range inline as one chunk.
// The first exception thrown by any chunk is rethrown on the caller once every
// chunk has finished.
#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

namespace loom::runtime {

// A non-owning reference to a callable (no allocation, two words), for hot paths
// where std::function would allocate. The callable must outlive the reference.
template <typename Sig>
class FunctionRef;

template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef> &&
                                                    std::is_invocable_r_v<R, F&, Args...>>>
  FunctionRef(F&& f) noexcept  // NOLINT: implicit, like std::function
      : obj_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))), call_([](void* obj, Args... args) -> R {
          return (*static_cast<std::add_pointer_t<std::remove_reference_t<F>>>(obj))(std::forward<Args>(args)...);
        }) {}

  R operator()(Args... args) const { return call_(obj_, std::forward<Args>(args)...); }

 private:
  void* obj_;
  R (*call_)(void*, Args...);
};

using ChunkFn = FunctionRef<void(int64_t, int64_t)>;

int num_threads();
void set_num_threads(int n);
// Where the current thread count came from: "flag", "LOOM_NUM_THREADS",
// "mpi-local-ranks" or "cores" (NOTE [Thread budget]).
const char* num_threads_source();
// Cores this process may run on (its sched_getaffinity mask).
int hardware_threads();
// MPI ranks on this node as the launcher reports them (1 without a launcher).
int mpi_local_ranks();

// How the intra-op pool runs (ggml's threadpool params).
struct PoolParams {
  int threads = 0;   // total threads including the caller; 0 keeps the budget
  bool pin = false;  // pin worker i to the i-th cpu of the process's affinity mask
  int spin_us = 50;  // how long an idle thread polls for work before it parks;
                     // 0 parks at once. Oversubscribed pools yield instead of spinning.
};

// The parameters in effect (threads filled in from the budget; pin from LOOM_PIN=1).
PoolParams pool_params();
// Replaces the pool's parameters; threads > 0 acts like set_num_threads (source
// "flag"). The pool restarts lazily on the next parallel_for.
void set_pool_params(const PoolParams& params);
// True when workers are pinned to cores (LOOM_PIN=1 or PoolParams::pin).
bool pinning_enabled();

// fn(chunk_begin, chunk_end) is called once per chunk (NOTE [Deterministic split]),
// on up to num_threads() threads. Takes any callable without allocating;
// std::function works too.
void parallel_for(int64_t begin, int64_t end, int64_t grain, ChunkFn fn);

// True while the calling thread runs inside a parallel_for body.
bool in_parallel_region();
// i + 1 on pool worker i, and a distinct number (from 65536 up, given on first
// call) on every thread outside the pool: a per-thread slot for scratch that one
// thread uses at a time (e.g. oneDNN plans and their buffers), so several threads
// may run one model's forward at once (NOTE [Plan cache]).
int thread_slot();

// Makes every parallel_for on the calling thread run inline. Loader workers call
// it so they never take the intra-op pool away from the training step.
void set_inline_parallelism(bool inline_only);

// Counters of the pool since the process started (for tests and `loom info`).
struct PoolStats {
  int64_t jobs = 0;    // parallel_for calls and inter-op tasks handed to the pool
  int64_t steals = 0;  // tasks run by a thread other than the one they were queued for
  int64_t parks = 0;   // times an idle worker went to sleep
};
PoolStats pool_stats();

}  // namespace loom::runtime
