#include "loom/core/error.h"

#include <cstring>

namespace loom {
namespace {
std::string with_location(const std::string& message, const char* file, int line) {
  if (file == nullptr)
    return message;
  // Keep the path short: from the last "src/" or "include/" on.
  const char* shown = file;
  for (const char* marker : {"src/", "include/"}) {
    if (const char* p = std::strstr(file, marker)) {
      shown = p;
      break;
    }
  }
  return message + " [" + shown + ":" + std::to_string(line) + "]";
}
}  // namespace

Error::Error(const std::string& message, const char* file, int line)
    : std::runtime_error(with_location(message, file, line)), message_(message) {}

}  // namespace loom
