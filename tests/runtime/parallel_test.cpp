#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "loom/core/error.h"
#include "loom/runtime/parallel.h"
#include "runtime/thread_pool.h"

// OpenBLAS's pthreads build: nonzero while its server threads exist.
extern "C" __attribute__((weak)) int blas_server_avail;

namespace loom::runtime {
namespace {

using Chunks = std::set<std::pair<int64_t, int64_t>>;

Chunks chunks_of(int64_t begin, int64_t end, int64_t grain) {
  std::mutex m;
  Chunks out;
  parallel_for(begin, end, grain, [&](int64_t lo, int64_t hi) {
    std::lock_guard<std::mutex> l(m);
    out.insert({lo, hi});
  });
  return out;
}

TEST(ParallelFor, CoversEveryIndexExactlyOnce) {
  set_num_threads(2);
  std::vector<std::atomic<int>> hits(10007);
  parallel_for(0, 10007, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i)
      hits[i]++;
  });
  for (auto& h : hits)
    ASSERT_EQ(h.load(), 1);
}

TEST(ParallelFor, SplitsTheSameWayEveryRun) {
  set_num_threads(2);
  auto first = chunks_of(0, 1001, 1);
  for (int rep = 0; rep < 20; ++rep)
    EXPECT_EQ(first, chunks_of(0, 1001, 1));
  EXPECT_EQ(first, (Chunks{{0, 501}, {501, 1001}}));
}

TEST(ParallelFor, SplitIsBalance211OfRangeGrainAndThreads) {
  set_num_threads(3);
  EXPECT_EQ(chunks_of(0, 1000, 1), (Chunks{{0, 334}, {334, 667}, {667, 1000}}));
  EXPECT_EQ(chunks_of(10, 1010, 500), (Chunks{{10, 510}, {510, 1010}}));  // ceil(1000/500) = 2 chunks
  EXPECT_EQ(chunks_of(0, 5, 1), (Chunks{{0, 2}, {2, 4}, {4, 5}}));
  EXPECT_EQ(chunks_of(0, 100, 100), (Chunks{{0, 100}}));  // one grain: inline
  EXPECT_TRUE(chunks_of(5, 5, 1).empty());
  EXPECT_TRUE(chunks_of(7, 3, 1).empty());
}

TEST(ParallelFor, ReductionByChunkGivesTheSameBitsEveryRun) {
  set_num_threads(4);
  std::vector<float> x(100003);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = 1.0f / static_cast<float>(i + 1) * ((i % 3) ? 1.0f : -3.0f);
  auto reduce = [&] {
    std::vector<float> partial(4, 0.0f);
    std::vector<int64_t> starts(4, -1);
    std::mutex m;
    parallel_for(0, static_cast<int64_t>(x.size()), 1, [&](int64_t lo, int64_t hi) {
      float s = 0;
      for (int64_t i = lo; i < hi; ++i)
        s += x[static_cast<size_t>(i)];
      std::lock_guard<std::mutex> l(m);
      // Chunk index from its start: balance211 boundaries are known.
      int k = 0;
      while (k < 3 && lo >= (k + 1) * 25001)
        ++k;
      partial[static_cast<size_t>(k)] = s;
      starts[static_cast<size_t>(k)] = lo;
    });
    EXPECT_EQ(starts, (std::vector<int64_t>{0, 25001, 50002, 75003}));
    return ((partial[0] + partial[1]) + partial[2]) + partial[3];
  };
  const float first = reduce();
  for (int rep = 0; rep < 50; ++rep)
    ASSERT_EQ(reduce(), first);
}

TEST(ParallelFor, NestedCallsRunInline) {
  set_num_threads(2);
  std::atomic<int> inner_threads{0};
  std::atomic<int> inner_calls{0};
  parallel_for(0, 2, 1, [&](int64_t, int64_t) {
    EXPECT_TRUE(in_parallel_region());
    std::thread::id me = std::this_thread::get_id();
    parallel_for(0, 100, 1, [&](int64_t lo, int64_t hi) {
      inner_calls++;
      EXPECT_EQ(hi - lo, 100);  // the whole range as one chunk
      if (std::this_thread::get_id() != me)
        inner_threads++;
    });
  });
  EXPECT_EQ(inner_threads.load(), 0);
  EXPECT_EQ(inner_calls.load(), 2);
  EXPECT_FALSE(in_parallel_region());
}

TEST(ParallelFor, InlineOnlyThreadRunsEverythingItself) {
  set_num_threads(2);
  std::thread t([] {
    set_inline_parallelism(true);
    const auto me = std::this_thread::get_id();
    int calls = 0;
    bool same = true;
    parallel_for(0, 1000, 1, [&](int64_t, int64_t) {
      ++calls;
      same = same && std::this_thread::get_id() == me;
    });
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(same);
  });
  t.join();
}

TEST(ParallelFor, RethrowsAWorkersExceptionOnTheCaller) {
  set_num_threads(2);
  EXPECT_THROW(parallel_for(0, 100, 1,
                            [&](int64_t lo, int64_t) {
                              if (lo > 0)
                                LOOM_THROW(ValueError, "boom in worker");
                            }),
               ValueError);
  // The caller's own chunk throwing is reported too, after the others finish.
  std::atomic<int> finished{0};
  EXPECT_THROW(parallel_for(0, 100, 1,
                            [&](int64_t lo, int64_t) {
                              if (lo == 0)
                                throw std::runtime_error("boom on caller");
                              std::this_thread::sleep_for(std::chrono::milliseconds(20));
                              finished++;
                            }),
               std::runtime_error);
  EXPECT_EQ(finished.load(), 1);
  // The pool still works afterwards.
  std::atomic<int64_t> total{0};
  parallel_for(0, 100, 1, [&](int64_t lo, int64_t hi) { total += hi - lo; });
  EXPECT_EQ(total.load(), 100);
  EXPECT_FALSE(in_parallel_region());
}

TEST(ParallelFor, FirstOfSeveralExceptionsIsRethrown) {
  set_num_threads(4);
  try {
    parallel_for(0, 4, 1, [&](int64_t lo, int64_t) { LOOM_THROW(IndexError, "chunk ", lo); });
    FAIL() << "expected an exception";
  } catch (const IndexError& e) {
    EXPECT_NE(std::string(e.what()).find("chunk "), std::string::npos);
  }
}

TEST(ParallelFor, AcceptsStdFunctionAndConstCallables) {
  set_num_threads(2);
  std::atomic<int64_t> total{0};
  const std::function<void(int64_t, int64_t)> f = [&](int64_t lo, int64_t hi) { total += hi - lo; };
  parallel_for(0, 64, 1, f);
  const auto g = [&](int64_t lo, int64_t hi) { total += hi - lo; };
  parallel_for(0, 64, 1, g);
  EXPECT_EQ(total.load(), 128);
}

TEST(ParallelFor, ManyMoreThreadsThanCores) {
  set_num_threads(8);
  EXPECT_EQ(num_threads(), 8);
  EXPECT_EQ(chunks_of(0, 800, 1).size(), 8u);
  std::set<std::thread::id> ids;
  std::mutex m;
  for (int rep = 0; rep < 200; ++rep) {
    std::vector<std::atomic<int>> hits(1000);
    parallel_for(0, 1000, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i)
        hits[static_cast<size_t>(i)]++;
      if (rep % 20 == 0)  // long enough that sleeping workers wake and take their chunks
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      std::lock_guard<std::mutex> l(m);
      ids.insert(std::this_thread::get_id());
    });
    for (auto& h : hits)
      ASSERT_EQ(h.load(), 1);
  }
  EXPECT_GE(ids.size(), 2u);
  EXPECT_LE(ids.size(), 8u);
  set_num_threads(2);
}

TEST(ParallelFor, ConcurrentCallersShareThePool) {
  set_num_threads(3);
  std::atomic<int64_t> total{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 3; ++t)
    callers.emplace_back([&] {
      for (int rep = 0; rep < 300; ++rep)
        parallel_for(0, 999, 1, [&](int64_t lo, int64_t hi) { total += hi - lo; });
    });
  for (auto& t : callers)
    t.join();
  EXPECT_EQ(total.load(), 3 * 300 * 999);
  set_num_threads(2);
}

TEST(ParallelFor, UnevenChunksAreStolenFromABusyWorker) {
  // threads = 2: one worker. Keep it busy with a task that only ends once the
  // parallel_for has returned; the chunk queued for it can then only finish if
  // the caller steals it back. Without stealing this would time out.
  set_num_threads(2);
  detail::ThreadPool* pool = detail::enter_pool();
  ASSERT_NE(pool, nullptr);
  std::atomic<bool> released{false}, blocker_started{false}, timed_out{false};
  auto blocker = [&] {
    blocker_started = true;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!released.load()) {
      if (std::chrono::steady_clock::now() > deadline) {
        timed_out = true;
        return;
      }
      std::this_thread::yield();
    }
  };
  detail::Job job;
  job.invoke = [](void* ctx, void*, int64_t) { (*static_cast<decltype(blocker)*>(ctx))(); };
  job.ctx = &blocker;
  job.pending.store(1);
  pool->push(0, detail::Task{&job, nullptr, 0});
  while (!blocker_started.load())
    std::this_thread::yield();
  const int64_t steals_before = pool_stats().steals;
  std::set<std::thread::id> ids;
  std::mutex m;
  parallel_for(0, 2, 1, [&](int64_t, int64_t) {
    std::lock_guard<std::mutex> l(m);
    ids.insert(std::this_thread::get_id());
  });
  released = true;
  pool->wait(job);
  pool->leave();
  EXPECT_FALSE(timed_out.load());
  EXPECT_EQ(ids, (std::set<std::thread::id>{std::this_thread::get_id()}));
  EXPECT_GE(pool_stats().steals - steals_before, 1);
}

TEST(ThreadPool, IdleWorkerStealsFromABusyOnesDeque) {
  // Two workers. Worker 0's deque holds [blocker, a], worker 1's [b]; the blocker
  // waits for a and b. Whoever runs the blocker, `a` or the blocker itself must be
  // taken from a deque that is not the runner's own: a steal between workers.
  PoolParams params;
  params.threads = 3;
  detail::ThreadPool pool(params);
  ASSERT_TRUE(pool.try_enter());
  std::atomic<int> done{0};
  std::atomic<bool> timed_out{false};
  struct Ctx {
    std::atomic<int>* done;
    std::atomic<bool>* timed_out;
  } ctx{&done, &timed_out};
  detail::Job job;
  job.ctx = &ctx;
  job.invoke = [](void* c, void*, int64_t index) {
    auto& x = *static_cast<Ctx*>(c);
    if (index == 0) {
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (x.done->load() < 2) {
        if (std::chrono::steady_clock::now() > deadline) {
          *x.timed_out = true;
          return;
        }
        std::this_thread::yield();
      }
    } else {
      (*x.done)++;
    }
  };
  job.pending.store(3);
  const int64_t steals_before = pool_stats().steals;
  pool.push(0, {&job, nullptr, 0});
  pool.push(0, {&job, nullptr, 1});
  pool.push(1, {&job, nullptr, 2});
  // Do not help (wait() would steal): let the workers finish on their own.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((job.pending.load() & ~detail::kWaiterParked) != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  pool.wait(job);
  pool.leave();
  EXPECT_FALSE(timed_out.load());
  EXPECT_EQ(done.load(), 2);
  EXPECT_GE(pool_stats().steals - steals_before, 1);
}

TEST(ThreadPool, WorkersParkWhenIdleAndWakeForWork) {
  PoolParams params;
  params.threads = 2;
  params.spin_us = 0;
  detail::ThreadPool pool(params);
  ASSERT_TRUE(pool.try_enter());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const int64_t parks = pool_stats().parks;
  EXPECT_GE(parks, 1);
  std::atomic<std::thread::id> ran_on{};
  auto body = [&] { ran_on = std::this_thread::get_id(); };
  detail::Job job;
  job.invoke = [](void* c, void*, int64_t) { (*static_cast<decltype(body)*>(c))(); };
  job.ctx = &body;
  job.pending.store(1);
  pool.push(0, {&job, nullptr, 0});
  // Wait without helping, so the parked worker must wake up to run it.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (job.pending.load() != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  pool.wait(job);
  pool.leave();
  EXPECT_NE(ran_on.load(), std::this_thread::get_id());
  EXPECT_NE(ran_on.load(), std::thread::id{});
}

TEST(ThreadPool, StopWaitsForCallersAndRefusesNewOnes) {
  PoolParams params;
  params.threads = 2;
  detail::ThreadPool pool(params);
  pool.stop();
  EXPECT_FALSE(pool.try_enter());
  pool.stop();  // idempotent
}

// OpenBLAS's own threads would spin on the cores loom's pool computes on (see
// apply() in parallel.cpp): once the budget is set, they are gone.
TEST(ThreadBudget, OpenBlasServerThreadsAreJoined) {
  if (&blas_server_avail == nullptr)
    GTEST_SKIP() << "this OpenBLAS build does not export blas_server_avail (not the pthreads build)";
  const int saved = num_threads();
  set_num_threads(2);
  EXPECT_EQ(blas_server_avail, 0);
  set_num_threads(saved);
}

TEST(ThreadBudget, FlagOverridesAndIsReported) {
  set_num_threads(1);
  EXPECT_EQ(num_threads(), 1);
  EXPECT_STREQ(num_threads_source(), "flag");
  EXPECT_THROW(set_num_threads(0), ValueError);
  EXPECT_THROW(set_num_threads(5000), ValueError);
  set_num_threads(2);
  EXPECT_GE(hardware_threads(), 1);
}

// Sets or unsets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) {
      had_ = true;
      old_ = old;
    }
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (had_)
      setenv(name_.c_str(), old_.c_str(), 1);
    else
      unsetenv(name_.c_str());
  }

 private:
  std::string name_, old_;
  bool had_ = false;
};

TEST(ThreadBudget, PrecedenceFlagThenEnvThenMpiLocalRanksThenCores) {
  {
    ScopedEnv a("LOOM_NUM_THREADS", nullptr), b("OMPI_COMM_WORLD_LOCAL_SIZE", nullptr), c("MPI_LOCALNRANKS", nullptr),
        d("PMI_LOCAL_SIZE", nullptr);
    detail::reset_thread_budget_for_testing();
    EXPECT_STREQ(num_threads_source(), "cores");
    EXPECT_EQ(num_threads(), hardware_threads());
    EXPECT_EQ(mpi_local_ranks(), 1);
  }
  {
    ScopedEnv a("LOOM_NUM_THREADS", nullptr), b("OMPI_COMM_WORLD_LOCAL_SIZE", "2");
    detail::reset_thread_budget_for_testing();
    EXPECT_STREQ(num_threads_source(), "mpi-local-ranks");
    EXPECT_EQ(num_threads(), std::max(1, hardware_threads() / 2));
  }
  {
    ScopedEnv a("LOOM_NUM_THREADS", nullptr), b("OMPI_COMM_WORLD_LOCAL_SIZE", nullptr), c("MPI_LOCALNRANKS", nullptr),
        d("PMI_LOCAL_SIZE", "1000");
    EXPECT_EQ(mpi_local_ranks(), 1000);
    detail::reset_thread_budget_for_testing();
    EXPECT_STREQ(num_threads_source(), "mpi-local-ranks");
    EXPECT_EQ(num_threads(), 1);  // never below one
  }
  {
    ScopedEnv a("LOOM_NUM_THREADS", "3"), b("OMPI_COMM_WORLD_LOCAL_SIZE", "2");
    detail::reset_thread_budget_for_testing();
    EXPECT_STREQ(num_threads_source(), "LOOM_NUM_THREADS");
    EXPECT_EQ(num_threads(), 3);
    set_num_threads(2);
    EXPECT_STREQ(num_threads_source(), "flag");
    EXPECT_EQ(num_threads(), 2);
  }
  {
    ScopedEnv a("LOOM_NUM_THREADS", "lots");
    detail::reset_thread_budget_for_testing();
    EXPECT_THROW(num_threads(), ValueError);
  }
  set_num_threads(2);
}

TEST(ThreadBudget, PinningPinsEachWorkerToOneCpu) {
  PoolParams params = pool_params();
  EXPECT_EQ(params.threads, num_threads());
  params.threads = 2;
  params.pin = true;
  set_pool_params(params);
  EXPECT_TRUE(pinning_enabled());
  std::atomic<int> worker_cpus{-1};
  const auto me = std::this_thread::get_id();
  for (int attempt = 0; attempt < 1000 && worker_cpus.load() < 0; ++attempt) {
    parallel_for(0, 2, 1, [&](int64_t, int64_t) {
      if (std::this_thread::get_id() == me) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // leave the worker its chunk
        return;
      }
      cpu_set_t set;
      pthread_getaffinity_np(pthread_self(), sizeof(set), &set);
      worker_cpus = CPU_COUNT(&set);
    });
  }
  EXPECT_EQ(worker_cpus.load(), 1);
  params.pin = false;
  set_pool_params(params);
  EXPECT_FALSE(pinning_enabled());
  EXPECT_THROW(set_pool_params(PoolParams{-1, false, 0}), ValueError);
}

}  // namespace
}  // namespace loom::runtime
