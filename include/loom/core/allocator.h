#pragma once
// Device memory for tensors, and the CPU caching allocator's counters.
//
//   loom::reset_peak_memory_stats();
//   train_one_epoch();
//   loom::MemoryStats s = loom::memory_stats();
//   std::printf("peak %lld bytes, %lld system allocations\n", (long long)s.peak_live_bytes,
//               (long long)s.system_allocations);
#include <cstddef>
#include <cstdint>
#include <memory>

#include "loom/core/device.h"

namespace loom {

// Owning pointer to device memory; the deleter returns it to the allocator.
using DataPtr = std::shared_ptr<void>;

constexpr size_t kAlignment = 64;  // one cache line, and the widest SIMD load

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual DataPtr allocate(size_t nbytes) = 0;
  virtual Device device() const = 0;
};

// The allocator tensors on `device` draw from: one per device type. The CPU's and
// the meta device's are built in; a backend registers its own.
Allocator& allocator_for(Device device);
void register_allocator(DeviceType type, Allocator& allocator);

// NOTE [Caching allocator]
// CPU tensors draw from a caching allocator: a request is rounded up to a size
// class (multiples of 64 bytes up to 256, then four classes per power of two, so
// at most 25% is wasted) and a freed block goes onto its class's free list instead
// of back to the system. Training allocates the same sizes every step, so after
// the first epoch every request is served from a free list and the step makes no
// system allocation (tests/optim/steady_state_alloc_test.cpp checks this).
// - No size cut-off: a block of any size is cached as long as the cached (free)
//   bytes stay under the limit; a freed block that would push them over goes
//   back to the system. Large buffers (im2col, activations) are the ones whose
//   system allocation costs most (mmap plus page faults), so they are cached too.
// - The limit is LOOM_ALLOCATOR_CACHE_MB (default 1024); empty_cache() releases
//   every cached block now.
// - LOOM_ALLOCATOR=system bypasses the cache (every block comes from and goes to
//   aligned_alloc/free), for AddressSanitizer runs; the counters still count.
// - Each size class has its own lock (a sharded lock): threads allocating
//   different sizes never contend, and a block freed on another thread than the
//   one that allocated it (loader workers) needs no hand-off.
struct MemoryStats {
  int64_t live_bytes = 0;          // in blocks handed out and not yet freed (size-class bytes)
  int64_t peak_live_bytes = 0;     // the most live_bytes since start or reset_peak_memory_stats()
  int64_t cached_bytes = 0;        // in free blocks kept for reuse
  int64_t allocations = 0;         // requests served, from the cache or the system
  int64_t system_allocations = 0;  // blocks obtained from the system (aligned_alloc)
  int64_t system_frees = 0;        // blocks returned to the system
  int64_t cache_limit_bytes = 0;   // cached_bytes never exceeds this
  bool caching = true;             // false under LOOM_ALLOCATOR=system
};

// The CPU allocator's counters now.
MemoryStats memory_stats();
// Sets peak_live_bytes to the current live_bytes.
void reset_peak_memory_stats();
// Returns every cached free block to the system.
void empty_cache();
// Turns caching on or off for later allocations (blocks already handed out go
// back the way they came). Starts as LOOM_ALLOCATOR says.
void set_allocator_caching(bool enabled);
// Sets the cached-bytes limit (evicting cached blocks over it now).
void set_allocator_cache_limit(int64_t bytes);

namespace detail {
// The size class a request of `nbytes` is served from (its rounded size), or 0
// when the request is too large to be cached.
size_t allocation_size_class(size_t nbytes);
}  // namespace detail

}  // namespace loom
