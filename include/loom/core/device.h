#pragma once
#include <cstdint>
#include <string>

namespace loom {

enum class DeviceType : uint8_t { CPU, CUDA, Meta };

// Where a tensor's storage lives. The CPU and meta backends are built in; a CUDA
// backend would register an allocator and its kernel entries (NOTE [Kernel lists]
// in loom/core/kernel_list.h).
// NOTE [Meta device]
// A tensor on `meta` has a shape and a dtype and no storage (as PyTorch's). Every
// op given meta inputs runs only its shape rule (NOTE [Op schema]) and returns a
// meta output, so a model's shapes can be followed with no memory and no compute;
// reading a meta tensor's data is an error.
struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {}; }
  static Device cuda(int index = 0) { return {DeviceType::CUDA, index}; }
  static Device meta() { return {DeviceType::Meta, 0}; }
  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_meta() const { return type == DeviceType::Meta; }
  bool operator==(const Device&) const = default;
  std::string str() const {
    switch (type) {
      case DeviceType::CPU:
        return "cpu";
      case DeviceType::Meta:
        return "meta";
      default:
        return "cuda:" + std::to_string(index);
    }
  }
};

// NOTE [Default device]
// The device factories use when none is given: the CPU, unless a
// DefaultDeviceGuard on this thread names another (torch.set_default_device, as a
// scope). Building a model under DefaultDeviceGuard(Device::meta()) gives every
// parameter a shape and no memory (`loom info` sizes a model this way).
Device default_device();

class DefaultDeviceGuard {
 public:
  explicit DefaultDeviceGuard(Device device);
  ~DefaultDeviceGuard();
  DefaultDeviceGuard(const DefaultDeviceGuard&) = delete;
  DefaultDeviceGuard& operator=(const DefaultDeviceGuard&) = delete;

 private:
  Device previous_;
};

}  // namespace loom
