#pragma once
// Helpers for the tests that launch `mpirun -np N loom train ...` (dist_cli_test.cpp,
// resume_test.cpp): the launcher command and the metrics file.
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "test_support.h"

namespace loom::distributed::testing_ {

// The toy IDX set of tests/cli (loom::testing::write_toy_idx): learnable in an epoch.
using loom::testing::write_toy_idx;

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
