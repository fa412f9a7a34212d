#include "thread_flag.h"

#include <charconv>

#include "loom/runtime/parallel.h"

namespace loom::cli {
namespace {

constexpr const char* kDefaults =
    "default: LOOM_NUM_THREADS, else the cores this process may use, divided by the MPI ranks on this node";

std::optional<int> parse_count(const std::string& s) {
  int n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size() || n < 1 || n > kMaxThreads)
    return std::nullopt;
  return n;
}

CLI::Validator thread_count(bool allow_auto) {
  return CLI::Validator(
      [allow_auto](std::string& s) -> std::string {
        if (parse_count(s) || (allow_auto && s == "auto"))
          return "";
        return "expected a whole number of threads from 1 to " + std::to_string(kMaxThreads) +
               (allow_auto ? " or 'auto'" : "") + ", got '" + s + "'";
      },
      "");
}

}  // namespace

CLI::Option* add_threads_flag(CLI::App* cmd, std::optional<int>& threads) {
  return cmd->add_option("--threads", threads, std::string("Compute threads (") + kDefaults + ")")
      ->check(thread_count(false))
      ->type_name("N");
}

CLI::Option* add_threads_flag(CLI::App* cmd, std::optional<int>& threads, bool& threads_auto) {
  return cmd
      ->add_option_function<std::string>(
          "--threads",
          [&threads, &threads_auto](const std::string& v) {
            if (v == "auto")
              threads_auto = true;
            else
              threads = parse_count(v);
          },
          std::string("Compute threads, or 'auto' to try thread splits on the first steps and keep the fastest (") +
              kDefaults + ")")
      ->check(thread_count(true))
      ->type_name("N|auto");
}

void apply_threads(const std::optional<int>& threads) {
  if (threads)
    runtime::set_num_threads(*threads);
}

}  // namespace loom::cli
