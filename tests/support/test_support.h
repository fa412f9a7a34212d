#pragma once
// Helpers shared by the test suites.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "loom/core/tensor.h"

namespace loom::testing {

// A fresh temporary directory, removed when the object goes out of scope.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// The message of the loom::Error that fn throws, or "(no error)".
std::string error_message(const std::function<void()>& fn);

// Result of running a shell command.
struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
CommandResult run_command(const std::string& command);

// The python3 that has torch (Debian's /usr/bin/python3), or "" when none has it.
std::string python_with_torch();

// Path of the built `loom` executable.
std::string loom_cli();

// Writes bytes to a file.
void write_file(const std::string& path, const std::string& bytes);
std::string read_file(const std::string& path);

// A learnable toy Fashion-MNIST-shaped IDX pair <dir>/<prefix>-{images-idx3,labels-idx1}-ubyte
// of n samples: class k lights up a 6x4 block at a class-specific place over noise.
void write_toy_idx(const std::string& dir, const std::string& prefix, int n, uint64_t seed);

// Max |a - b| over all elements; shapes must match.
double max_abs_diff(const Tensor& a, const Tensor& b);

}  // namespace loom::testing
