#include "loom/kernels/registry.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace loom::kernels {

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

}  // namespace loom::kernels
