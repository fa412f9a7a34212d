#pragma once
#include <cstddef>
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

// The allocator tensors on `device` draw from.
Allocator& allocator_for(Device device);

}  // namespace loom
