#pragma once
// `--profile trace.json`: a Chrome trace of the run and a table of the costliest ops.
#include <string>

#include "loom/runtime/profiler.h"

namespace loom::cli {

class RunProfile {
 public:
  // Starts the profiler when `trace_path` is not empty.
  explicit RunProfile(std::string trace_path);
  // Stops a running profile (without writing) if finish() was not called.
  ~RunProfile();
  RunProfile(const RunProfile&) = delete;
  RunProfile& operator=(const RunProfile&) = delete;
  // Stops the profiler, writes the trace atomically and prints the top ops.
  void finish(size_t top = 15);

 private:
  std::string path_;
  bool running_ = false;
};

// The costliest ops of a profile (written to `trace_path`), on stdout.
void print_profile(const runtime::ProfileData& data, const std::string& trace_path, size_t top = 15);

}  // namespace loom::cli
