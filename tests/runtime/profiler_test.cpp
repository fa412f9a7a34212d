#include "loom/runtime/profiler.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "loom/autograd.h"
#include "loom/core.h"

namespace loom::runtime {
namespace {

int64_t count_named(const ProfileData& d, const std::string& name) {
  int64_t n = 0;
  for (const ProfileSpan& s : d.spans)
    n += name == s.name;
  return n;
}

TEST(Profiler, RecordsNothingWhenOff) {
  profiler_start();
  profiler_stop();
  { LOOM_PROFILE_SCOPE("while_off"); }
  EXPECT_FALSE(profiler_enabled());
  EXPECT_EQ(count_named(profiler_collect(), "while_off"), 0);
}

TEST(Profiler, ScopesNestAndThreadsKeepTheirOwnSpans) {
  profiler_start();
  {
    LOOM_PROFILE_SCOPE("outer");
    LOOM_PROFILE_SCOPE("inner");
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([t] {
      set_profiler_thread_name("worker " + std::to_string(t));
      for (int i = 0; i < 5000; ++i) {  // more than one buffer chunk
        LOOM_PROFILE_SCOPE("work");
      }
    });
  }
  for (auto& th : threads)
    th.join();
  profiler_stop();
  ProfileData d = profiler_collect();
  EXPECT_EQ(count_named(d, "outer"), 1);
  EXPECT_EQ(count_named(d, "inner"), 1);
  EXPECT_EQ(count_named(d, "work"), 15000);
  std::set<int> work_tids;
  for (const ProfileSpan& s : d.spans) {
    EXPECT_GE(s.dur_ns, 0);
    EXPECT_GE(s.start_ns, 0);
    EXPECT_LE(s.start_ns + s.dur_ns, d.wall_ns);
    if (std::string(s.name) == "work")
      work_tids.insert(s.tid);
  }
  EXPECT_EQ(work_tids.size(), 3u);
  std::set<std::string> names;
  for (const ProfileThread& t : d.threads)
    names.insert(t.name);
  EXPECT_TRUE(names.count("main"));
  EXPECT_TRUE(names.count("worker 2"));

  // The summary: inner is nested in outer, so outer's self time excludes it.
  auto rows = profile_summary(d);
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0].name, "work");  // 15000 spans outweigh two
  for (size_t i = 1; i < rows.size(); ++i)
    EXPECT_GE(rows[i - 1].total_ms, rows[i].total_ms);
  for (const auto& r : rows) {
    EXPECT_LE(r.self_ms, r.total_ms + 1e-9);
    if (r.name == "work")
      EXPECT_EQ(r.calls, 15000);
  }
  const std::string table = format_profile_summary(rows, 15, &d);
  EXPECT_NE(table.find("outer"), std::string::npos);
  EXPECT_NE(table.find("mean us"), std::string::npos);
}

TEST(Profiler, ANewSessionDropsTheOldSpans) {
  profiler_start();
  { LOOM_PROFILE_SCOPE("first_session"); }
  profiler_stop();
  profiler_start();
  { LOOM_PROFILE_SCOPE("second_session"); }
  profiler_stop();
  ProfileData d = profiler_collect();
  EXPECT_EQ(count_named(d, "first_session"), 0);
  EXPECT_EQ(count_named(d, "second_session"), 1);
}

TEST(Profiler, ChromeTraceIsValidJson) {
  profiler_start();
  set_profiler_thread_name("main \"quoted\"");
  { LOOM_PROFILE_SCOPE("a span"); }
  profiler_stop();
  nlohmann::json j = nlohmann::json::parse(chrome_trace_json(profiler_collect()));
  ASSERT_TRUE(j.contains("traceEvents"));
  bool saw_span = false, saw_thread = false;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] == "X" && e["name"] == "a span") {
      saw_span = true;
      EXPECT_GE(e["dur"].get<double>(), 0.0);
      EXPECT_TRUE(e.contains("ts") && e.contains("pid") && e.contains("tid"));
    }
    if (e["ph"] == "M" && e["name"] == "thread_name" && e["args"]["name"] == "main \"quoted\"")
      saw_thread = true;
  }
  EXPECT_TRUE(saw_span);
  EXPECT_TRUE(saw_thread);
  set_profiler_thread_name("main");
}

TEST(Profiler, OpsGiveForwardAndBackwardSpans) {
  Tensor x = Tensor::full({8, 16}, 0.5);
  Tensor w = Tensor::full({4, 16}, 0.1);
  w.set_requires_grad(true);
  profiler_start();
  Tensor loss = sum(relu(linear(x, w, Tensor())));
  loss.backward();
  profiler_stop();
  ProfileData d = profiler_collect();
  for (const char* name : {"linear", "relu", "sum", "linear_backward", "relu_backward", "sum_backward"})
    EXPECT_GE(count_named(d, name), 1) << name;
  // linear's forward span covers its GEMM: it starts at the input check, not at record().
  for (const ProfileSpan& s : d.spans)
    if (std::string(s.name) == "linear")
      EXPECT_GT(s.dur_ns, 0);
}

}  // namespace
}  // namespace loom::runtime
