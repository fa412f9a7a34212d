#pragma once
#include <cstdint>
#include <string>

namespace loom {

enum class DeviceType : uint8_t { CPU, CUDA, Meta };

// Where a tensor's storage lives. Only the CPU has kernels today; the CUDA backend
// registers its own kernels per op when it is built (see kernels/registry.h).
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

}  // namespace loom
