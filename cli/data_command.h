#pragma once
// loom data inspect | pack | preprocess
#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace loom::cli {

struct DataOptions {
  std::string action;  // which subcommand ran
  std::string input, output, pipeline, target, split = "train";
  int64_t shard_samples = 8192;
  std::string save_pipeline;
  int64_t skip_rows = 0;  // CSV layout, as for loom train
  bool no_header = false;
  std::string delimiter = ",";  // one character
  std::optional<int> threads;   // --threads, as for every computing command (thread_flag.h)
};

CLI::App* add_data_command(CLI::App& app, DataOptions& options);
// Accepts a single character (CSV delimiters).
extern const CLI::Validator one_character;
int run_data(const DataOptions& options);

}  // namespace loom::cli
