#include "loom/runtime/task_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "loom/core/error.h"
#include "loom/runtime/parallel.h"

namespace loom::runtime {
namespace {

TEST(TaskPool, ReturnsResultsThroughFutures) {
  TaskPool pool(2);
  EXPECT_EQ(pool.size(), 2);
  std::vector<std::future<int>> results;
  for (int i = 0; i < 100; ++i)
    results.push_back(pool.submit([i] { return i * i; }));
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(results[static_cast<size_t>(i)].get(), i * i);
}

TEST(TaskPool, PropagatesExceptionsToTheConsumer) {
  TaskPool pool(2);
  auto bad = pool.submit([]() -> int { LOOM_THROW(IOError, "disk on fire"); });
  auto good = pool.submit([] { return 7; });
  try {
    bad.get();
    FAIL() << "the task's exception should surface from get()";
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find("disk on fire"), std::string::npos);
  }
  EXPECT_EQ(good.get(), 7) << "a failing task must not take the pool down";
}

TEST(TaskPool, RunsTasksConcurrentlyOnItsWorkers) {
  TaskPool pool(3);
  std::mutex m;
  std::set<std::thread::id> ids;
  std::atomic<int> arrived{0};
  std::vector<std::future<void>> done;
  for (int i = 0; i < 3; ++i) {
    done.push_back(pool.submit([&] {
      {
        std::lock_guard<std::mutex> lock(m);
        ids.insert(std::this_thread::get_id());
      }
      // All three tasks must be running at once to get past this point.
      ++arrived;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (arrived.load() < 3 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
      EXPECT_EQ(arrived.load(), 3);
      EXPECT_TRUE(pool.on_worker_thread());
    }));
  }
  for (auto& f : done)
    f.get();
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids.count(std::this_thread::get_id()), 0u);
  EXPECT_FALSE(pool.on_worker_thread());
}

TEST(TaskPool, WaitAndShutdownFinishQueuedTasks) {
  std::atomic<int> ran{0};
  {
    TaskPool pool(1);
    for (int i = 0; i < 50; ++i)
      pool.submit([&] {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
        ++ran;
      });
    pool.wait();
    EXPECT_EQ(ran.load(), 50);
    for (int i = 0; i < 50; ++i)
      pool.submit([&] { ++ran; });
  }  // the destructor drains the queue
  EXPECT_EQ(ran.load(), 100);

  TaskPool pool(1);
  pool.shutdown();
  pool.shutdown();  // idempotent
  EXPECT_THROW(pool.submit([] {}), Error);
}

TEST(TaskPool, LoaderPoolIsSharedPerSizeAndLeavesTheThreadBudgetAlone) {
  set_num_threads(2);
  auto a = loader_pool(2), b = loader_pool(2), c = loader_pool(1);
  EXPECT_EQ(a.get(), b.get());
  EXPECT_NE(a.get(), c.get());
  EXPECT_EQ(a->size(), 2);
  EXPECT_EQ(c->size(), 1);
  EXPECT_EQ(num_threads(), 2) << "NOTE [Loader workers]: loader threads are counted separately";
  EXPECT_EQ(std::string(num_threads_source()), "flag");
  EXPECT_THROW(loader_pool(0), ValueError);
  EXPECT_THROW(TaskPool(0), ValueError);
}

}  // namespace
}  // namespace loom::runtime
