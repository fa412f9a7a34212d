#pragma once
// loom generate: sample text from a trained byte-level language model (gpt).
#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

namespace loom::cli {

struct GenerateCommandOptions {
  std::string weights_path;
  std::string prompt;
  int64_t tokens = 200;
  double temperature = 1.0;
  int64_t top_k = 0;
  uint64_t seed = 1;
  bool no_cache = false;
  std::string metrics_path;
  std::optional<int> threads;
};

CLI::App* add_generate_command(CLI::App& app, GenerateCommandOptions& options);
int run_generate(const GenerateCommandOptions& options);

}  // namespace loom::cli
