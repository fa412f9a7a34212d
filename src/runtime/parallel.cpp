#include "loom/runtime/parallel.h"

#include <sched.h>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>

#include <cblas.h>

#include "loom/core/error.h"
#include "thread_pool.h"

namespace loom::runtime {
namespace {

thread_local bool t_in_parallel = false;
thread_local bool t_inline_only = false;

struct Budget {
  std::mutex mutex;
  int threads = 0;
  const char* source = "cores";
  std::unique_ptr<ThreadPool> pool;
  std::mutex run_mutex;  // one parallel_for at a time owns the pool
};

Budget& budget() {
  static Budget b;
  return b;
}

void apply(Budget& b, int n, const char* source) {
  b.threads = n;
  b.source = source;
  b.pool.reset();
  if (n > 1)
    b.pool = std::make_unique<ThreadPool>(n - 1);
  openblas_set_num_threads(n);
}

Budget& initialised_budget() {
  Budget& b = budget();
  std::lock_guard<std::mutex> lock(b.mutex);
  if (b.threads == 0) {
    if (const char* env = std::getenv("LOOM_NUM_THREADS"); env && *env) {
      char* end = nullptr;
      long n = std::strtol(env, &end, 10);
      LOOM_CHECK(end && *end == '\0' && n >= 1 && n <= 4096, "LOOM_NUM_THREADS='", env,
                 "' is not a thread count (expected an integer 1..4096)");
      apply(b, static_cast<int>(n), "LOOM_NUM_THREADS");
    } else {
      apply(b, hardware_threads(), "cores");
    }
  }
  return b;
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

int num_threads() { return initialised_budget().threads; }

const char* num_threads_source() { return initialised_budget().source; }

void set_num_threads(int n) {
  LOOM_CHECK(n >= 1 && n <= 4096, "thread count must be in 1..4096, got ", n);
  Budget& b = budget();
  std::lock_guard<std::mutex> lock(b.mutex);
  apply(b, n, "flag");
}

bool in_parallel_region() { return t_in_parallel; }

void set_inline_parallelism(bool inline_only) { t_inline_only = inline_only; }

void parallel_for(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (end <= begin)
    return;
  const int64_t n = end - begin;
  grain = grain < 1 ? 1 : grain;
  Budget& b = initialised_budget();
  int64_t chunks = std::min<int64_t>(b.threads, (n + grain - 1) / grain);
  std::unique_lock<std::mutex> owner(b.run_mutex, std::defer_lock);
  if (t_in_parallel || t_inline_only || chunks <= 1 || !b.pool || !owner.try_lock()) {
    fn(begin, end);
    return;
  }
  // balance211: the first n % chunks chunks get one extra element.
  const int64_t base = n / chunks, extra = n % chunks;
  b.pool->run(static_cast<int>(chunks), [&](int i) {
    int64_t lo = begin + i * base + std::min<int64_t>(i, extra);
    int64_t hi = lo + base + (i < extra ? 1 : 0);
    t_in_parallel = true;
    try {
      fn(lo, hi);
    } catch (...) {
      t_in_parallel = false;
      throw;
    }
    t_in_parallel = false;
  });
}

}  // namespace loom::runtime
