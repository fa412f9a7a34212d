#include "loom/core/kernel_list.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace loom {

bool verbose_kernels() {
  static const bool verbose = [] {
    const char* v = std::getenv("LOOM_VERBOSE_KERNELS");
    return v != nullptr && std::strcmp(v, "0") != 0 && *v != '\0';
  }();
  return verbose;
}

void log_kernel_choice(const char* family, const std::string& entry, const std::string& reason) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  if (reason.empty()) {
    std::fprintf(stderr, "loom kernels: %s -> %s\n", family, entry.c_str());
  } else {
    std::fprintf(stderr, "loom kernels: %s: %s declined: %s\n", family, entry.c_str(), reason.c_str());
  }
}

namespace {
// Per thread, per device type: the stream a StreamGuard set (NOTE [Streams]).
thread_local std::array<Stream, kDeviceTypes> current_streams;
}  // namespace

Stream current_stream(Device device) {
  const Stream& s = current_streams[device_index(device.type)];
  return s.device == device ? s : Stream{device, nullptr};
}

StreamGuard::StreamGuard(Stream stream) : type_(stream.device.type), previous_(current_streams[device_index(type_)]) {
  current_streams[device_index(type_)] = stream;
}

StreamGuard::~StreamGuard() { current_streams[device_index(type_)] = previous_; }

}  // namespace loom
