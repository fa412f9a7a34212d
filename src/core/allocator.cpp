// The CPU caching allocator (NOTE [Caching allocator] in loom/core/allocator.h).
#include "loom/core/allocator.h"

#include <array>
#include <atomic>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "loom/core/error.h"

namespace loom {
namespace {

constexpr size_t kSmallLimit = 256;                  // classes of 64 bytes up to here
constexpr int kMaxLog2 = 44;                         // 16 TiB: larger requests are not cached
constexpr int kNumClasses = 4 + (kMaxLog2 - 8) * 4;  // 4 small classes, then 4 per power of two
constexpr int kSystemBlock = -1;                     // the deleter's tag for a block the cache does not own
constexpr int64_t kDefaultCacheLimitMb = 1024;

// The class index for `nbytes`, or -1 when it is too large to cache.
int class_index(size_t nbytes) {
  if (nbytes <= kSmallLimit)
    return nbytes == 0 ? 0 : static_cast<int>((nbytes - 1) / 64);
  const int k = std::bit_width(nbytes - 1) - 1;  // 2^k < nbytes <= 2^(k+1), k >= 8
  if (k >= kMaxLog2)
    return -1;
  const size_t step = size_t{1} << (k - 2);
  const size_t m = (nbytes - (size_t{1} << k) + step - 1) / step;  // 1..4
  return 4 + (k - 8) * 4 + static_cast<int>(m) - 1;
}

size_t class_size(int index) {
  if (index < 4)
    return static_cast<size_t>(index + 1) * 64;
  const int k = 8 + (index - 4) / 4;
  const size_t m = static_cast<size_t>((index - 4) % 4) + 1;
  return (size_t{1} << k) + m * (size_t{1} << (k - 2));
}

// One size class's free list, on its own cache line so classes never share a lock line.
struct alignas(64) FreeList {
  std::mutex mutex;
  std::vector<void*> blocks;
};

int64_t env_cache_limit() {
  const char* env = std::getenv("LOOM_ALLOCATOR_CACHE_MB");
  if (env == nullptr || *env == '\0')
    return kDefaultCacheLimitMb << 20;
  char* end = nullptr;
  const long long mb = std::strtoll(env, &end, 10);
  LOOM_CHECK(end != nullptr && *end == '\0' && mb >= 0, "LOOM_ALLOCATOR_CACHE_MB='", env,
             "' is not a size in MiB (expected an integer >= 0)");
  return static_cast<int64_t>(mb) << 20;
}

bool env_caching() {
  const char* env = std::getenv("LOOM_ALLOCATOR");
  if (env == nullptr || *env == '\0' || std::strcmp(env, "caching") == 0)
    return true;
  LOOM_CHECK(std::strcmp(env, "system") == 0, "LOOM_ALLOCATOR='", env,
             "' is not an allocator (expected 'caching' or 'system'; 'system' bypasses the cache, e.g. for ASan)");
  return false;
}

class CpuAllocator final : public Allocator {
 public:
  CpuAllocator() : caching_(env_caching()), limit_(env_cache_limit()) {}

  DataPtr allocate(size_t nbytes) override {
    const int index = caching_.load(std::memory_order_relaxed) ? class_index(nbytes) : kSystemBlock;
    const size_t size = index >= 0 ? class_size(index) : round_up(nbytes);
    void* p = index >= 0 ? take_cached(index, size) : nullptr;
    if (p == nullptr)
      p = system_alloc(size, nbytes);
    allocations_.fetch_add(1, std::memory_order_relaxed);
    const int64_t bytes = static_cast<int64_t>(size);
    const int64_t live = live_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
    int64_t peak = peak_.load(std::memory_order_relaxed);
    while (live > peak && !peak_.compare_exchange_weak(peak, live, std::memory_order_relaxed)) {
    }
    return DataPtr(p, [this, index, size](void* q) { release(q, index, size); });
  }
  Device device() const override { return Device::cpu(); }

  MemoryStats stats() const {
    MemoryStats s;
    s.live_bytes = live_.load(std::memory_order_relaxed);
    s.peak_live_bytes = peak_.load(std::memory_order_relaxed);
    s.cached_bytes = cached_.load(std::memory_order_relaxed);
    s.allocations = allocations_.load(std::memory_order_relaxed);
    s.system_allocations = system_allocs_.load(std::memory_order_relaxed);
    s.system_frees = system_frees_.load(std::memory_order_relaxed);
    s.cache_limit_bytes = limit_.load(std::memory_order_relaxed);
    s.caching = caching_.load(std::memory_order_relaxed);
    return s;
  }
  void reset_peak() { peak_.store(live_.load(std::memory_order_relaxed), std::memory_order_relaxed); }
  void set_caching(bool on) {
    caching_.store(on, std::memory_order_relaxed);
    if (!on)
      trim(0);
  }
  void set_limit(int64_t bytes) {
    limit_.store(bytes, std::memory_order_relaxed);
    trim(bytes);
  }

  // Frees cached blocks, largest classes first, until at most `target` bytes stay cached.
  void trim(int64_t target) {
    for (int i = kNumClasses - 1; i >= 0 && cached_.load(std::memory_order_relaxed) > target; --i) {
      std::vector<void*> drop;
      {
        std::lock_guard<std::mutex> lock(lists_[i].mutex);
        while (!lists_[i].blocks.empty() && cached_.load(std::memory_order_relaxed) > target) {
          drop.push_back(lists_[i].blocks.back());
          lists_[i].blocks.pop_back();
          cached_.fetch_sub(static_cast<int64_t>(class_size(i)), std::memory_order_relaxed);
        }
      }
      for (void* p : drop)
        system_free(p);
    }
  }

 private:
  static size_t round_up(size_t nbytes) {
    const size_t r = (nbytes + kAlignment - 1) / kAlignment * kAlignment;
    return r == 0 ? kAlignment : r;
  }

  void* take_cached(int index, size_t size) {
    FreeList& list = lists_[index];
    std::lock_guard<std::mutex> lock(list.mutex);
    if (list.blocks.empty())
      return nullptr;
    void* p = list.blocks.back();
    list.blocks.pop_back();
    cached_.fetch_sub(static_cast<int64_t>(size), std::memory_order_relaxed);
    return p;
  }

  void* system_alloc(size_t size, size_t requested) {
    void* p = std::aligned_alloc(kAlignment, size);
    if (p == nullptr && cached_.load(std::memory_order_relaxed) > 0) {
      trim(0);  // the cache may hold what the system is missing
      p = std::aligned_alloc(kAlignment, size);
    }
    if (p == nullptr)
      LOOM_THROW(Error, "out of memory allocating ", requested, " bytes on the CPU (",
                 live_.load(std::memory_order_relaxed), " bytes in use by tensors)");
    system_allocs_.fetch_add(1, std::memory_order_relaxed);
    return p;
  }

  void system_free(void* p) {
    std::free(p);
    system_frees_.fetch_add(1, std::memory_order_relaxed);
  }

  void release(void* p, int index, size_t size) {
    live_.fetch_sub(static_cast<int64_t>(size), std::memory_order_relaxed);
    if (index >= 0 && caching_.load(std::memory_order_relaxed)) {
      const int64_t s = static_cast<int64_t>(size);
      if (cached_.fetch_add(s, std::memory_order_relaxed) + s <= limit_.load(std::memory_order_relaxed)) {
        FreeList& list = lists_[index];
        std::lock_guard<std::mutex> lock(list.mutex);
        list.blocks.push_back(p);
        return;
      }
      cached_.fetch_sub(s, std::memory_order_relaxed);
    }
    system_free(p);
  }

  std::atomic<bool> caching_;
  std::atomic<int64_t> limit_;
  std::atomic<int64_t> live_{0}, peak_{0}, cached_{0}, allocations_{0}, system_allocs_{0}, system_frees_{0};
  FreeList lists_[kNumClasses];
};

// Never destroyed: tensors in static storage may be freed after main returns.
CpuAllocator& cpu_allocator() {
  static CpuAllocator* cpu = new CpuAllocator();
  return *cpu;
}

}  // namespace

// NOTE [Meta device]: storage with a size and no memory.
class MetaAllocator final : public Allocator {
 public:
  DataPtr allocate(size_t) override { return nullptr; }
  Device device() const override { return Device::meta(); }
};

namespace {
// One allocator per device type: the CPU's and the meta device's are built in, a
// backend registers its own (register_allocator).
struct AllocatorTable {
  std::array<std::atomic<Allocator*>, 3> by_type{};
  AllocatorTable() {
    static MetaAllocator meta;
    by_type[static_cast<size_t>(DeviceType::CPU)] = &cpu_allocator();
    by_type[static_cast<size_t>(DeviceType::Meta)] = &meta;
  }
};
std::array<std::atomic<Allocator*>, 3>& allocators() {
  static AllocatorTable table;
  return table.by_type;
}
}  // namespace

void register_allocator(DeviceType type, Allocator& allocator) {
  allocators()[static_cast<size_t>(type)].store(&allocator, std::memory_order_release);
}

Allocator& allocator_for(Device device) {
  if (device.is_cpu()) [[likely]]
    return cpu_allocator();
  Allocator* a = allocators()[static_cast<size_t>(device.type)].load(std::memory_order_acquire);
  if (a == nullptr)
    LOOM_THROW(NotImplementedError, "no allocator for device ", device.str(),
               "; this build has no backend for it (only cpu and meta)");
  return *a;
}

MemoryStats memory_stats() { return cpu_allocator().stats(); }
void reset_peak_memory_stats() { cpu_allocator().reset_peak(); }
void empty_cache() { cpu_allocator().trim(0); }
void set_allocator_caching(bool enabled) { cpu_allocator().set_caching(enabled); }
void set_allocator_cache_limit(int64_t bytes) {
  LOOM_CHECK(bytes >= 0, "allocator cache limit must be >= 0 bytes, got ", bytes);
  cpu_allocator().set_limit(bytes);
}

namespace detail {
size_t allocation_size_class(size_t nbytes) {
  const int index = class_index(nbytes);
  return index >= 0 ? class_size(index) : 0;
}
}  // namespace detail

}  // namespace loom
