#pragma once
#include <string>

namespace loom {

enum class DeviceType : uint8_t { CPU, CUDA };

// Where a tensor's storage lives. Only the CPU has kernels today; the CUDA backend
// registers its own kernels per op when it is built (see kernels/registry.h).
struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {}; }
  static Device cuda(int index = 0) { return {DeviceType::CUDA, index}; }
  bool is_cpu() const { return type == DeviceType::CPU; }
  bool operator==(const Device&) const = default;
  std::string str() const { return type == DeviceType::CPU ? "cpu" : "cuda:" + std::to_string(index); }
};

}  // namespace loom
