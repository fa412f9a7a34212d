#include "test_support.h"

#include <cstdlib>

#include "loom/core/error.h"
#include "loom/core/generator.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

namespace loom::testing {

std::string error_message(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.message();
  }
  return "(no error)";
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "loom_test_XXXXXX").string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  char* made = mkdtemp(buf.data());
  if (made == nullptr)
    throw std::runtime_error("mkdtemp failed");
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

CommandResult run_command(const std::string& command) {
  CommandResult r;
  std::string full = command + " 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr)
    return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0)
    r.output.append(buf.data(), n);
  int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::string python_with_torch() {
  // LOOM_TORCH_PYTHON picks another interpreter (a PyTorch 2.x virtual environment).
  if (const char* chosen = std::getenv("LOOM_TORCH_PYTHON"); chosen && *chosen)
    return chosen;
  for (const char* py : {"/usr/bin/python3", "python3"}) {
    auto r = run_command(std::string(py) + " -c 'import torch' ");
    if (r.exit_code == 0)
      return py;
  }
  return "";
}

std::string loom_cli() { return LOOM_CLI_PATH; }

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

namespace {
std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}
}  // namespace

void write_toy_idx(const std::string& dir, const std::string& prefix, int n, uint64_t seed) {
  Generator g(seed);
  std::string images = std::string("\0\0\x08\x03", 4) + be32(n) + be32(28) + be32(28);
  std::string labels = std::string("\0\0\x08\x01", 4) + be32(n);
  for (int i = 0; i < n; ++i) {
    const int k = static_cast<int>(g.below(10));
    labels.push_back(static_cast<char>(k));
    const int r0 = (k / 5) * 12 + 4, c0 = (k % 5) * 5 + 1;
    for (int r = 0; r < 28; ++r)
      for (int c = 0; c < 28; ++c) {
        int v = static_cast<int>(g.below(60));
        if (r >= r0 && r < r0 + 6 && c >= c0 && c < c0 + 4)
          v += 160;
        images.push_back(static_cast<char>(v));
      }
  }
  write_file(dir + "/" + prefix + "-images-idx3-ubyte", images);
  write_file(dir + "/" + prefix + "-labels-idx1-ubyte", labels);
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape())
    return INFINITY;
  auto va = a.to_vector<double>(), vb = b.to_vector<double>();
  double m = 0;
  for (size_t i = 0; i < va.size(); ++i)
    m = std::max(m, std::abs(va[i] - vb[i]));
  return m;
}

}  // namespace loom::testing
