#include "profile_report.h"

#include <cstdio>

#include "loom/io/atomic_file.h"
#include "loom/runtime/profiler.h"

namespace loom::cli {

RunProfile::RunProfile(std::string trace_path) : path_(std::move(trace_path)) {
  if (path_.empty())
    return;
  runtime::profiler_start();
  running_ = true;
}

RunProfile::~RunProfile() {
  if (running_)
    runtime::profiler_stop();
}

void RunProfile::finish(size_t top) {
  if (!running_)
    return;
  runtime::profiler_stop();
  running_ = false;
  const runtime::ProfileData data = runtime::profiler_collect();
  io::write_file_atomically(path_, [&](std::FILE* f) { runtime::write_chrome_trace(data, f); });
  print_profile(data, path_, top);
}

void print_profile(const runtime::ProfileData& data, const std::string& trace_path, size_t top) {
  std::fputs(runtime::format_profile_summary(runtime::profile_summary(data), top, &data).c_str(), stdout);
  std::printf("wrote the trace to %s (open in chrome://tracing or https://ui.perfetto.dev)\n", trace_path.c_str());
}

}  // namespace loom::cli
