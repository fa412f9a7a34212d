#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "loom/core/error.h"
#include "loom/runtime/parallel.h"

namespace loom::runtime {
namespace {

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
  auto chunks = [] {
    std::mutex m;
    std::set<std::pair<int64_t, int64_t>> out;
    parallel_for(0, 1001, 1, [&](int64_t lo, int64_t hi) {
      std::lock_guard<std::mutex> l(m);
      out.insert({lo, hi});
    });
    return out;
  };
  auto first = chunks();
  EXPECT_EQ(first, chunks());
  EXPECT_EQ(first.size(), 2u);
}

TEST(ParallelFor, NestedCallsRunInline) {
  set_num_threads(2);
  std::atomic<int> inner_threads{0};
  parallel_for(0, 2, 1, [&](int64_t, int64_t) {
    EXPECT_TRUE(in_parallel_region());
    std::thread::id me = std::this_thread::get_id();
    parallel_for(0, 100, 1, [&](int64_t, int64_t) {
      if (std::this_thread::get_id() != me)
        inner_threads++;
    });
  });
  EXPECT_EQ(inner_threads.load(), 0);
  EXPECT_FALSE(in_parallel_region());
}

TEST(ParallelFor, RethrowsAWorkersExceptionOnTheCaller) {
  set_num_threads(2);
  EXPECT_THROW(parallel_for(0, 100, 1,
                            [&](int64_t lo, int64_t) {
                              if (lo > 0)
                                LOOM_THROW(ValueError, "boom in worker");
                            }),
               ValueError);
  // The pool still works afterwards.
  std::atomic<int64_t> total{0};
  parallel_for(0, 100, 1, [&](int64_t lo, int64_t hi) { total += hi - lo; });
  EXPECT_EQ(total.load(), 100);
}

TEST(ThreadBudget, FlagOverridesAndIsReported) {
  set_num_threads(1);
  EXPECT_EQ(num_threads(), 1);
  EXPECT_STREQ(num_threads_source(), "flag");
  EXPECT_THROW(set_num_threads(0), ValueError);
  set_num_threads(2);
  EXPECT_GE(hardware_threads(), 1);
}

}  // namespace
}  // namespace loom::runtime
