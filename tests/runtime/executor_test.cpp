#include <gtest/gtest.h>
#include <omp.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "loom/core/error.h"
#include "loom/runtime/executor.h"
#include "loom/runtime/parallel.h"

namespace loom::runtime {
namespace {

// Waits until `count` reaches `target`, at most 20 s; false on timeout.
bool await(const std::atomic<int>& count, int target) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (count.load() < target) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(Executor, ParallelInvokeRunsTasksAtTheSameTime) {
  set_num_threads(2);
  // Each task waits until both have started: only true concurrency finishes.
  std::atomic<int> started{0};
  std::atomic<int> met{0};
  auto task = [&] {
    started++;
    if (await(started, 2))
      met++;
  };
  parallel_invoke(task, task);
  EXPECT_EQ(started.load(), 2);
  EXPECT_EQ(met.load(), 2);
}

TEST(Executor, InsideATaskParallelForRunsInline) {
  set_num_threads(2);
  EXPECT_FALSE(in_interop_task());
  std::atomic<int> chunk_calls{0};
  std::atomic<int> other_thread{0};
  std::atomic<int> flagged{0};
  std::atomic<int> omp_not_one{0};
  auto task = [&] {
    if (in_interop_task())
      flagged++;
    if (omp_get_max_threads() != 1)  // OpenMP (oneDNN) takes one core inside a task too
      omp_not_one++;
    const auto me = std::this_thread::get_id();
    parallel_for(0, 1 << 16, 1, [&](int64_t lo, int64_t hi) {
      chunk_calls++;
      if (std::this_thread::get_id() != me || hi - lo != (1 << 16))
        other_thread++;
    });
  };
  parallel_invoke(task, task, task);
  EXPECT_EQ(flagged.load(), 3);
  EXPECT_EQ(chunk_calls.load(), 3);
  EXPECT_EQ(other_thread.load(), 0);
  EXPECT_EQ(omp_not_one.load(), 0);
  EXPECT_FALSE(in_interop_task());
  EXPECT_EQ(omp_get_max_threads(), 2);  // the caller's setting is restored
}

TEST(Executor, TaskGroupRunsEveryTaskAndIsReusable) {
  set_num_threads(3);
  TaskGroup group;
  std::vector<int> out(1000, 0);
  for (int round = 1; round <= 3; ++round) {
    for (int i = 0; i < 1000; ++i)
      group.run([&out, i, round] { out[static_cast<size_t>(i)] += round; });
    group.wait();
  }
  for (int v : out)
    ASSERT_EQ(v, 6);
  set_num_threads(2);
}

TEST(Executor, FirstExceptionIsRethrownAfterAllTasksFinish) {
  set_num_threads(2);
  std::atomic<int> finished{0};
  TaskGroup group;
  group.run([] { LOOM_THROW(ValueError, "task failed"); });
  for (int i = 0; i < 8; ++i)
    group.run([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      finished++;
    });
  EXPECT_THROW(group.wait(), ValueError);
  EXPECT_EQ(finished.load(), 8);
  // The error is consumed; the group works again.
  group.run([&] { finished++; });
  EXPECT_NO_THROW(group.wait());
  EXPECT_EQ(finished.load(), 9);
  EXPECT_THROW(parallel_invoke([] {}, [] { throw std::runtime_error("x"); }), std::runtime_error);
}

TEST(Executor, NestedGroupsAndOneThreadRunInline) {
  set_num_threads(2);
  std::atomic<int> inner_elsewhere{0};
  std::atomic<int> inner_runs{0};
  parallel_invoke(
      [&] {
        const auto me = std::this_thread::get_id();
        TaskGroup inner;
        for (int i = 0; i < 4; ++i)
          inner.run([&] {
            inner_runs++;
            if (std::this_thread::get_id() != me)
              inner_elsewhere++;
          });
        inner.wait();
      },
      [] {});
  EXPECT_EQ(inner_runs.load(), 4);
  EXPECT_EQ(inner_elsewhere.load(), 0);

  set_num_threads(1);
  const auto me = std::this_thread::get_id();
  std::set<std::thread::id> ids;
  parallel_invoke([&] { ids.insert(std::this_thread::get_id()); }, [&] { ids.insert(std::this_thread::get_id()); });
  EXPECT_EQ(ids, (std::set<std::thread::id>{me}));
  set_num_threads(2);
}

TEST(Executor, DestructorWaitsForTasks) {
  set_num_threads(2);
  std::atomic<int> done{0};
  {
    TaskGroup group;
    for (int i = 0; i < 4; ++i)
      group.run([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        done++;
      });
  }
  EXPECT_EQ(done.load(), 4);
}

TEST(Executor, InteropSwitch) {
  const bool before = interop_enabled();
  set_interop_enabled(true);
  EXPECT_TRUE(interop_enabled());
  set_interop_enabled(false);
  EXPECT_FALSE(interop_enabled());
  set_interop_enabled(before);
}

}  // namespace
}  // namespace loom::runtime
