#pragma once
// --threads N, taken by every `loom` command that computes (NOTE [Thread budget] in
// loom/runtime/parallel.h: the flag, then LOOM_NUM_THREADS, then the cores this
// process may use divided by the MPI ranks on this node).
#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace loom::cli {

constexpr int kMaxThreads = 4096;

// Adds --threads N (1..kMaxThreads) to `cmd`; `threads` holds N once parsed. Anything
// else is a parse error naming the flag, the range and what was given.
CLI::Option* add_threads_flag(CLI::App* cmd, std::optional<int>& threads);
// loom train's form, which also takes 'auto' (NOTE [Thread auto-tuning]).
CLI::Option* add_threads_flag(CLI::App* cmd, std::optional<int>& threads, bool& threads_auto);

// Sets the thread budget from --threads, or leaves the documented defaults.
void apply_threads(const std::optional<int>& threads);

}  // namespace loom::cli
