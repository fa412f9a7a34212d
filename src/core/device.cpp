#include "loom/core/device.h"

namespace loom {

namespace {
thread_local Device default_device_now = Device::cpu();  // NOTE [Default device]
}  // namespace

Device default_device() { return default_device_now; }

DefaultDeviceGuard::DefaultDeviceGuard(Device device) : previous_(default_device_now) { default_device_now = device; }
DefaultDeviceGuard::~DefaultDeviceGuard() { default_device_now = previous_; }

}  // namespace loom
