#include "loom/core/allocator.h"

#include <cstdlib>
#include <new>

#include "loom/core/error.h"

namespace loom {
namespace {

class CpuAllocator final : public Allocator {
 public:
  DataPtr allocate(size_t nbytes) override {
    size_t rounded = (nbytes + kAlignment - 1) / kAlignment * kAlignment;
    if (rounded == 0)
      rounded = kAlignment;
    void* p = std::aligned_alloc(kAlignment, rounded);
    if (p == nullptr)
      LOOM_THROW(Error, "out of memory allocating ", nbytes, " bytes on the CPU");
    return DataPtr(p, [](void* q) { std::free(q); });
  }
  Device device() const override { return Device::cpu(); }
};

}  // namespace

Allocator& allocator_for(Device device) {
  static CpuAllocator cpu;
  if (device.is_cpu())
    return cpu;
  LOOM_THROW(NotImplementedError, "no allocator for device ", device.str(), "; this build has no CUDA backend");
}

}  // namespace loom
