// `loom info --model M --batch B --json`: per-layer shapes, parameters, FLOPs and
// activation bytes, checked against a count by hand (NOTE [Layer costs]).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_support.h"

namespace loom {
namespace {

using testing::run_command;

struct Expected {
  const char* type;
  Shape shape;  // with the batch axis
  int64_t parameters, flops_per_sample;
};

TEST(InfoModel, CnnLayersMatchAHandCount) {
  auto r = run_command(testing::loom_cli() + " info --model cnn --batch 64 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  // conv: oh*ow*out*(2*in*k*k + 1 for the bias); pools: one op per window element;
  // linear: 2*in*out + out; ReLU: one per element.
  const std::vector<Expected> want = {
      {"conv2d", {64, 32, 28, 28}, 32 * 1 * 9 + 32, 28 * 28 * 32 * (2 * 1 * 9 + 1)},
      {"relu", {64, 32, 28, 28}, 0, 32 * 28 * 28},
      {"maxpool2d", {64, 32, 14, 14}, 0, 32 * 14 * 14 * 4},
      {"conv2d", {64, 64, 14, 14}, 64 * 32 * 9 + 64, 14 * 14 * 64 * (2 * 32 * 9 + 1)},
      {"relu", {64, 64, 14, 14}, 0, 64 * 14 * 14},
      {"maxpool2d", {64, 64, 7, 7}, 0, 64 * 7 * 7 * 4},
      {"flatten", {64, 3136}, 0, 0},
      {"linear", {64, 128}, 3136 * 128 + 128, 2 * 3136 * 128 + 128},
      {"relu", {64, 128}, 0, 128},
      {"linear", {64, 10}, 128 * 10 + 10, 2 * 128 * 10 + 10},
  };
  ASSERT_EQ(j["layers"].size(), want.size());
  int64_t params = 0, flops = 0, bytes = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const auto& l = j["layers"][i];
    EXPECT_EQ(l["name"], std::to_string(i));
    EXPECT_EQ(l["type"], want[i].type) << i;
    EXPECT_EQ(l["output_shape"].get<Shape>(), want[i].shape) << i;
    EXPECT_EQ(l["parameters"].get<int64_t>(), want[i].parameters) << i;
    EXPECT_EQ(l["flops"].get<int64_t>(), 64 * want[i].flops_per_sample) << i;
    EXPECT_EQ(l["activation_bytes"].get<int64_t>(), 4 * shape_numel(want[i].shape)) << i;
    params += want[i].parameters;
    flops += 64 * want[i].flops_per_sample;
    bytes += 4 * shape_numel(want[i].shape);
  }
  EXPECT_EQ(j["parameters"].get<int64_t>(), params);
  EXPECT_EQ(j["parameters"].get<int64_t>(), 421642);  // the reference CNN's size
  EXPECT_EQ(j["flops"].get<int64_t>(), flops);
  EXPECT_EQ(j["activation_bytes"].get<int64_t>(), bytes);
  EXPECT_EQ(j["batch"], 64);
}

TEST(InfoModel, ResidualModelAndTable) {
  auto r = run_command(testing::loom_cli() + " info --model " LOOM_SOURCE_DIR
                                             "/examples/models/resnet_fmnist.json --batch 8 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  bool found = false;
  for (const auto& l : j["layers"]) {
    if (l["name"] == "block2_add") {
      found = true;
      EXPECT_EQ(l["inputs"], (nlohmann::json{"block2_bn2", "block2_proj_bn"}));
      EXPECT_EQ(l["output_shape"].get<Shape>(), (Shape{8, 32, 14, 14}));
      EXPECT_EQ(l["flops"].get<int64_t>(), 8 * 32 * 14 * 14);  // one add per element
    }
  }
  EXPECT_TRUE(found) << r.output;
  auto table = run_command(testing::loom_cli() + " info --model mlp");
  ASSERT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find("total (batch 1)"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("235146"), std::string::npos) << table.output;  // the MLP's parameters
  auto bad = run_command(testing::loom_cli() + " info --model nonexistent.json");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("nonexistent.json"), std::string::npos) << bad.output;
}

// The summary builds the model on the meta device, so a model whose weights alone
// would take 40 GB (two 50,000-wide layers) is sized under a 2 GB address-space
// limit, and its parameter count is the real model's.
TEST(InfoModel, AModelFarLargerThanMemoryIsSizedOnTheMetaDevice) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "huge.json").string();
  testing::write_file(path, R"({"name": "huge", "input_shape": [50000], "layers": [
    {"type": "linear", "in": 50000, "out": 50000}, {"type": "relu"},
    {"type": "linear", "in": 50000, "out": 50000}]})");
  auto r = run_command("bash -c 'ulimit -v 2000000 && " + testing::loom_cli() + " info --json --batch 4 --model " +
                       path + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["parameters"].get<int64_t>(), 2 * (int64_t{50000} * 50000 + 50000));
  EXPECT_EQ(j["layers"][2]["output_shape"].get<Shape>(), (Shape{4, 50000}));
}

}  // namespace
}  // namespace loom
