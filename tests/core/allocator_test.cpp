#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

#include "loom/core.h"

namespace loom {
namespace {

// Restores caching and the default limit however a test ends.
struct CachingGuard {
  MemoryStats before = memory_stats();
  ~CachingGuard() {
    set_allocator_caching(true);
    set_allocator_cache_limit(before.cache_limit_bytes);
  }
};

DataPtr alloc(size_t n) { return allocator_for(Device::cpu()).allocate(n); }

TEST(Allocator, SizeClassesWasteAtMostAQuarter) {
  EXPECT_EQ(detail::allocation_size_class(0), 64u);
  EXPECT_EQ(detail::allocation_size_class(1), 64u);
  EXPECT_EQ(detail::allocation_size_class(64), 64u);
  EXPECT_EQ(detail::allocation_size_class(65), 128u);
  EXPECT_EQ(detail::allocation_size_class(256), 256u);
  EXPECT_EQ(detail::allocation_size_class(257), 320u);
  EXPECT_EQ(detail::allocation_size_class(512), 512u);
  EXPECT_EQ(detail::allocation_size_class(513), 640u);
  EXPECT_EQ(detail::allocation_size_class(size_t{3} << 20), size_t{3} << 20);
  size_t previous = 0;
  for (size_t n = 1; n < (size_t{1} << 26); n = n * 9 / 8 + 1) {
    const size_t c = detail::allocation_size_class(n);
    ASSERT_GE(c, n);
    ASSERT_EQ(c % kAlignment, 0u) << n;
    ASSERT_LE(c, n <= 256 ? n + 63 : n + n / 4 + 1) << n;
    ASSERT_GE(c, previous) << n;  // monotone
    previous = c;
  }
  EXPECT_EQ(detail::allocation_size_class(size_t{1} << 50), 0u);  // too large to cache
}

TEST(Allocator, BlocksAreAlignedAndWritable) {
  std::vector<DataPtr> blocks;
  for (size_t n : {1u, 63u, 64u, 100u, 1000u, 4097u, 1u << 20})
    blocks.push_back(alloc(n));
  for (size_t i = 0; i < blocks.size(); ++i) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(blocks[i].get()) % kAlignment, 0u);
    static_cast<char*>(blocks[i].get())[0] = 1;
  }
}

TEST(Allocator, FreedBlocksAreReusedWithoutSystemAllocation) {
  CachingGuard guard;
  set_allocator_caching(true);
  void* first = nullptr;
  { first = alloc(10000).get(); }
  const MemoryStats s0 = memory_stats();
  EXPECT_GE(s0.cached_bytes, 10000);
  {
    DataPtr again = alloc(9000);  // the same size class
    EXPECT_EQ(again.get(), first);
    const MemoryStats s1 = memory_stats();
    EXPECT_EQ(s1.system_allocations, s0.system_allocations);
    EXPECT_EQ(s1.allocations, s0.allocations + 1);
    EXPECT_EQ(s1.live_bytes, s0.live_bytes + static_cast<int64_t>(detail::allocation_size_class(10000)));
  }
  // A steady loop of mixed sizes allocates from the system only in its first round.
  auto round = [] {
    std::vector<DataPtr> v;
    for (size_t n : {100u, 3000u, 3000u, 70000u, 1u << 20, 5u << 20})
      v.push_back(alloc(n));
  };
  round();
  const MemoryStats warm = memory_stats();
  for (int i = 0; i < 20; ++i)
    round();
  EXPECT_EQ(memory_stats().system_allocations, warm.system_allocations);
  EXPECT_EQ(memory_stats().allocations, warm.allocations + 20 * 6);
}

TEST(Allocator, PeakTracksTheHighWaterMarkAndResets) {
  reset_peak_memory_stats();
  const int64_t base = memory_stats().live_bytes;
  EXPECT_EQ(memory_stats().peak_live_bytes, base);
  {
    DataPtr a = alloc(1 << 20), b = alloc(1 << 20);
    EXPECT_EQ(memory_stats().live_bytes, base + (2 << 20));
  }
  EXPECT_EQ(memory_stats().live_bytes, base);
  EXPECT_EQ(memory_stats().peak_live_bytes, base + (2 << 20));
  reset_peak_memory_stats();
  EXPECT_EQ(memory_stats().peak_live_bytes, base);
}

TEST(Allocator, CacheLimitAndEmptyCacheReturnMemory) {
  CachingGuard guard;
  set_allocator_caching(true);
  set_allocator_cache_limit(int64_t{3} << 20);
  { DataPtr a = alloc(2 << 20), b = alloc(2 << 20); }  // the second free would exceed 3 MiB: it goes back to the system
  EXPECT_LE(memory_stats().cached_bytes, int64_t{3} << 20);
  const MemoryStats s = memory_stats();
  empty_cache();
  EXPECT_EQ(memory_stats().cached_bytes, 0);
  EXPECT_GT(memory_stats().system_frees, s.system_frees);
}

TEST(Allocator, SystemModeBypassesTheCacheButStillCounts) {
  CachingGuard guard;
  set_allocator_caching(false);
  EXPECT_FALSE(memory_stats().caching);
  EXPECT_EQ(memory_stats().cached_bytes, 0);
  const MemoryStats s0 = memory_stats();
  for (int i = 0; i < 5; ++i)
    DataPtr p = alloc(4096);
  const MemoryStats s1 = memory_stats();
  EXPECT_EQ(s1.system_allocations, s0.system_allocations + 5);
  EXPECT_EQ(s1.system_frees, s0.system_frees + 5);
  EXPECT_EQ(s1.cached_bytes, 0);
  // A block allocated while caching and freed after caching was turned off goes to the system.
  set_allocator_caching(true);
  DataPtr cached = alloc(4096);
  set_allocator_caching(false);
  cached.reset();
  EXPECT_EQ(memory_stats().cached_bytes, 0);
}

TEST(Allocator, ThreadsAllocateAndFreeConcurrently) {
  const MemoryStats s0 = memory_stats();
  std::vector<std::thread> threads;
  std::vector<DataPtr> handoff(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &handoff] {
      for (int i = 0; i < 2000; ++i) {
        DataPtr p = alloc(static_cast<size_t>(64 * (1 + (i + t) % 37)));
        static_cast<char*>(p.get())[0] = static_cast<char>(i);
      }
      handoff[t] = alloc(12345);  // freed later on the main thread
    });
  }
  for (auto& th : threads)
    th.join();
  handoff.clear();
  const MemoryStats s1 = memory_stats();
  EXPECT_EQ(s1.live_bytes, s0.live_bytes);
  EXPECT_EQ(s1.allocations, s0.allocations + 4 * 2001);
}

TEST(Allocator, TensorsDrawFromTheAllocator) {
  const MemoryStats s0 = memory_stats();
  Tensor t = Tensor::zeros({1000});
  const MemoryStats s1 = memory_stats();
  EXPECT_EQ(s1.allocations, s0.allocations + 1);
  EXPECT_EQ(s1.live_bytes, s0.live_bytes + static_cast<int64_t>(detail::allocation_size_class(4000)));
}

}  // namespace
}  // namespace loom
