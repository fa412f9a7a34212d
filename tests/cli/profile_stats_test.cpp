// `loom train --profile` writes a valid Chrome trace and prints the costliest
// ops; `--stats` prints the allocator's counters and `--metrics` records them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "test_support.h"

namespace loom {
namespace {

using testing::CommandResult;
using testing::run_command;
using testing::TempDir;

class ProfileStatsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::write_toy_idx(tmp_.path().string(), "train", 300, 1);
    testing::write_toy_idx(tmp_.path().string(), "t10k", 50, 2);
  }
  CommandResult loom(const std::string& args) { return run_command(testing::loom_cli() + " " + args); }
  std::string data() const { return " --data " + tmp_.path().string() + " "; }
  static nlohmann::json read_json(const std::string& path) {
    std::ifstream f(path);
    return nlohmann::json::parse(f);
  }
  TempDir tmp_;
};

TEST_F(ProfileStatsCli, ProfileWritesAChromeTraceAndPrintsTheTopOps) {
  const std::string trace = tmp_.file("trace.json");
  auto r = loom("train --model mlp --epochs 1 --batch 50 --threads 2" + data() + "--profile " + trace);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The summary table, before the final line.
  EXPECT_NE(r.output.find("ops by total time"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("mean us"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("linear_backward"), std::string::npos) << r.output;

  nlohmann::json j = read_json(trace);
  ASSERT_TRUE(j.contains("traceEvents"));
  std::set<std::string> names;
  std::set<int> span_tids, named_tids;
  for (const auto& e : j["traceEvents"]) {
    ASSERT_TRUE(e.contains("ph") && e.contains("pid") && e.contains("tid") && e.contains("name")) << e.dump();
    if (e["ph"] == "X") {
      EXPECT_GE(e["dur"].get<double>(), 0.0) << e.dump();
      EXPECT_GE(e["ts"].get<double>(), 0.0) << e.dump();
      names.insert(e["name"].get<std::string>());
      span_tids.insert(e["tid"].get<int>());
    } else if (e["ph"] == "M" && e["name"] == "thread_name") {
      EXPECT_FALSE(e["args"]["name"].get<std::string>().empty());
      named_tids.insert(e["tid"].get<int>());
    }
  }
  // The MLP's hidden Linear+ReLU pairs run fused (linear_act); the last Linear alone.
  for (const char* op : {"linear", "linear_act", "cross_entropy", "linear_backward", "linear_act_backward",
                         "cross_entropy_backward", "optimizer_step", "next_batch"}) {
    EXPECT_TRUE(names.count(op)) << "no span named " << op;
  }
  for (int tid : span_tids)
    EXPECT_TRUE(named_tids.count(tid)) << "thread " << tid << " has spans but no name";
}

TEST_F(ProfileStatsCli, EvalProfileTracesTheTimedPassOnly) {
  const std::string weights = tmp_.file("w.safetensors"), trace = tmp_.file("eval.json");
  ASSERT_EQ(loom("train --model mlp --epochs 1 --batch 50 --quiet" + data() + "--save " + weights).exit_code, 0);
  auto r = loom("eval --weights " + weights + " --batch 20 --threads 1" + data() + "--profile " + trace);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("ops by total time"), std::string::npos) << r.output;
  std::map<std::string, int> calls;
  const nlohmann::json j = read_json(trace);
  for (const auto& e : j["traceEvents"])
    if (e["ph"] == "X")
      ++calls[e["name"].get<std::string>()];
  // 50 test samples at batch 20: three forward passes; the untimed warm-up pass and
  // training are not in the trace, and inference records no backward.
  EXPECT_EQ(calls["linear"], 3) << r.output;
  EXPECT_EQ(calls["linear_act"], 6);
  EXPECT_EQ(calls.count("linear_backward"), 0u);
}

TEST_F(ProfileStatsCli, StatsPrintsCountersAndMetricsRecordThem) {
  if (const char* a = std::getenv("LOOM_ALLOCATOR"); a != nullptr && std::string(a) == "system")
    GTEST_SKIP() << "LOOM_ALLOCATOR=system: the cache is bypassed, so every step allocates from the system";
  const std::string m = tmp_.file("m.json");
  auto r = loom("train --model mlp --epochs 3 --batch 50 --threads 1 --stats" + data() + "--metrics " + m);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("memory: peak"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("system allocations per step after the first epoch"), std::string::npos) << r.output;
  nlohmann::json j = read_json(m);
  for (const char* key : {"peak_bytes", "live_bytes", "cached_bytes", "allocations", "system_allocs", "system_frees"})
    ASSERT_TRUE(j.contains(key)) << key;
  EXPECT_GT(j["peak_bytes"].get<int64_t>(), 0);
  EXPECT_GT(j["allocations"].get<int64_t>(), j["system_allocs"].get<int64_t>());  // the cache served most
  // 6 steps per epoch, 12 after the warm-up epoch, none of which allocates from the system.
  ASSERT_TRUE(j["system_allocs_per_step_after_first_epoch"].is_number());
  EXPECT_EQ(j["system_allocs_per_step_after_first_epoch"].get<double>(), 0.0);
}

TEST_F(ProfileStatsCli, SystemAllocatorModeStillReports) {
  const std::string m = tmp_.file("m.json");
  auto r = run_command("LOOM_ALLOCATOR=system " + testing::loom_cli() + " train --model mlp --epochs 2 --batch 50 " +
                       "--threads 1 --stats --quiet" + data() + "--metrics " + m);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("caching is off"), std::string::npos) << r.output;
  nlohmann::json j = read_json(m);
  EXPECT_EQ(j["allocator"], "system");
  EXPECT_EQ(j["allocations"], j["system_allocs"]);
  EXPECT_GT(j["system_allocs_per_step_after_first_epoch"].get<double>(), 0.0);
}

TEST_F(ProfileStatsCli, BadAllocatorSettingIsAClearError) {
  auto r =
      run_command("LOOM_ALLOCATOR=bogus " + testing::loom_cli() + " train --model mlp --epochs 1 --quiet" + data());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("LOOM_ALLOCATOR"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace loom
