#pragma once
// A low-overhead span profiler with Chrome trace output.
//
//   loom::runtime::profiler_start();
//   { LOOM_PROFILE_SCOPE("my_step"); step(); }
//   loom::runtime::profiler_stop();
//   auto data = loom::runtime::profiler_collect();
//   loom::runtime::write_chrome_trace(data, file);  // chrome://tracing, ui.perfetto.dev
//   std::fputs(loom::runtime::format_profile_summary(loom::runtime::profile_summary(data), 15).c_str(), stdout);
//
// NOTE [Profiler]
// Each thread appends its spans to its own buffer (chunks that are only ever
// appended to, published with one release store), so recording a span takes no
// lock. LOOM_PROFILE_SCOPE costs one relaxed atomic load when the profiler is
// off. Span names must have static storage (string literals, op names): only the
// pointer is stored. Collect between profiler_stop() and the next
// profiler_start(); spans recorded while collecting may be left out.
// What produces spans: every autograd op's forward and backward (NOTE [Op
// spans] in src/autograd/node.cpp), "optimizer_step", "next_batch", and
// "parallel_for" chunks on pool threads.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace loom::runtime {

namespace detail {
extern std::atomic<bool> g_profiler_on;
}

inline bool profiler_enabled() { return detail::g_profiler_on.load(std::memory_order_relaxed); }

// Starts a session: drops spans from the last one and turns recording on.
void profiler_start();
// Turns recording off; the session's spans stay until the next start.
void profiler_stop();

// Counts sessions: changes at every profiler_start(), so per-thread state kept
// for the profiler can tell it is from an earlier session.
uint64_t profiler_session();
// Nanoseconds since the session started (monotonic).
int64_t profiler_now_ns();
// Records a span [start_ns, end_ns) named `name` on the calling thread (when on).
void profiler_record(const char* name, int64_t start_ns, int64_t end_ns);
// Names the calling thread in traces ("main", "loom-worker-2"). The thread that
// calls profiler_start() is "main" unless named; others default to "thread <id>".
void set_profiler_thread_name(const std::string& name);

struct ProfileSpan {
  const char* name;
  int tid;
  int64_t start_ns, dur_ns;
};
struct ProfileThread {
  int tid;
  std::string name;
};
struct ProfileData {
  std::vector<ProfileSpan> spans;  // by thread, then in the order they ended
  std::vector<ProfileThread> threads;
  int64_t wall_ns = 0;  // the session's length (to stop, or to now while running)
  int64_t dropped = 0;  // spans not kept because a thread's buffer was full
};
ProfileData profiler_collect();

// The Chrome trace event format: {"traceEvents": [...]} with one "ph":"X"
// event per span (ts and dur in microseconds) and "thread_name" metadata.
void write_chrome_trace(const ProfileData& data, std::FILE* out);
std::string chrome_trace_json(const ProfileData& data);

struct ProfileSummaryRow {
  std::string name;
  int64_t calls = 0;
  double total_ms = 0;  // inclusive of nested spans
  double self_ms = 0;   // less the nested spans on the same thread
  double percent = 0;   // total_ms as a share of the session's wall time
  double mean_us = 0;
};
// One row per span name, most total time first.
std::vector<ProfileSummaryRow> profile_summary(const ProfileData& data);
// A table of the first `top` rows, with a header line saying what % means.
std::string format_profile_summary(const std::vector<ProfileSummaryRow>& rows, size_t top,
                                   const ProfileData* data = nullptr);

// Records a span over its lifetime when the profiler is on at construction.
class ProfileScope {
 public:
  explicit ProfileScope(const char* name) {
    if (profiler_enabled()) {
      name_ = name;
      start_ = profiler_now_ns();
    }
  }
  ~ProfileScope() {
    if (name_ != nullptr)
      profiler_record(name_, start_, profiler_now_ns());
  }
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;

 private:
  const char* name_ = nullptr;
  int64_t start_ = 0;
};

}  // namespace loom::runtime

#define LOOM_PROFILE_CONCAT_INNER(a, b) a##b
#define LOOM_PROFILE_CONCAT(a, b) LOOM_PROFILE_CONCAT_INNER(a, b)
// A span named `name` (a string with static storage) over the enclosing scope.
#define LOOM_PROFILE_SCOPE(name) ::loom::runtime::ProfileScope LOOM_PROFILE_CONCAT(loom_profile_scope_, __LINE__)(name)
