#pragma once
// Helpers for the tests that launch `mpirun -np N loom train ...` (dist_cli_test.cpp,
// resume_test.cpp): a learnable toy IDX set and the launcher command.
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "loom/core/generator.h"
#include "test_support.h"

namespace loom::distributed::testing_ {

inline std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// Class k lights up a 6x4 block at a class-specific place (as tests/cli/cli_test.cpp).
inline void write_toy_idx(const std::string& dir, const std::string& prefix, int n, uint64_t seed) {
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
  loom::testing::write_file(dir + "/" + prefix + "-images-idx3-ubyte", images);
  loom::testing::write_file(dir + "/" + prefix + "-labels-idx1-ubyte", labels);
}

// `mpirun -np N loom train <args>` (or plain `loom train` when np == 0), with
// LOOM_NUM_THREADS=1 so ranks do not oversubscribe the cores.
inline loom::testing::CommandResult loom_train(int np, const std::string& args, const std::string& env = "") {
  std::string cmd = "LOOM_NUM_THREADS=1 " + env + " ";
  if (np > 0)
    cmd += std::string(LOOM_MPIRUN) + " -np " + std::to_string(np) + " ";
  return loom::testing::run_command(cmd + loom::testing::loom_cli() + " train " + args + " 2>&1");
}

inline nlohmann::json read_metrics(const std::string& path) {
  std::ifstream f(path);
  return nlohmann::json::parse(f);
}

}  // namespace loom::distributed::testing_
