#pragma once
// loom::Error and the two checking macros used everywhere.
//
// LOOM_CHECK(cond, msg...)  bad input from a user or a file -> ValueError
// LOOM_THROW(Type, msg...)  throw a specific subclass (IOError, IndexError, ...)
// LOOM_ASSERT(cond)         a broken internal invariant -> Error
// All throw with file:line; none aborts.
#include <sstream>
#include <stdexcept>
#include <string>

namespace loom {

class Error : public std::runtime_error {
 public:
  Error(const std::string& message, const char* file = nullptr, int line = 0);
  // The message alone, without the source location.
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

class ValueError : public Error {
  using Error::Error;
};
class IndexError : public Error {
  using Error::Error;
};
class IOError : public Error {
  using Error::Error;
};
class DistributedError : public Error {
  using Error::Error;
};
class NotImplementedError : public Error {
  using Error::Error;
};

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail
}  // namespace loom

#define LOOM_THROW(ErrorType, ...) throw ErrorType(::loom::detail::concat(__VA_ARGS__), __FILE__, __LINE__)

#define LOOM_CHECK(cond, ...)                      \
  do {                                             \
    if (!(cond)) {                                 \
      LOOM_THROW(::loom::ValueError, __VA_ARGS__); \
    }                                              \
  } while (0)

#define LOOM_ASSERT(cond)                                                        \
  do {                                                                           \
    if (!(cond)) {                                                               \
      LOOM_THROW(::loom::Error, "internal error: assertion `" #cond "` failed"); \
    }                                                                            \
  } while (0)
