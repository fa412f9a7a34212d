// Model bundles: description, weights, pipeline and metadata in one file.
#include "loom/io/model_bundle.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "loom/autograd.h"
#include "loom/io/model_description.h"
#include "loom/io/safetensors.h"
#include "test_support.h"

namespace loom::io {
namespace {

using loom::testing::error_message;

TEST(ModelBundle, RoundTripGivesTheSameOutputsAndInfo) {
  loom::testing::TempDir tmp;
  manual_seed(4);
  const std::string description = builtin_model_description("cnn");
  auto model = model_from_json_text(description, "cnn");
  BundleInfo info{description, R"({"steps": []})", {{"owner", "tests"}}};
  save_model_bundle(tmp.file("m.safetensors"), *model, info);
  ModelBundle loaded = load_model_bundle(tmp.file("m.safetensors"));
  EXPECT_EQ(loaded.info.description, description);
  EXPECT_EQ(loaded.info.pipeline, info.pipeline);
  EXPECT_EQ(loaded.info.metadata, info.metadata);  // the bundle's own keys are not repeated here
  model->eval();
  loaded.model->eval();
  Tensor x = Generator(5).normal_tensor({3, 1, 28, 28}, 0, 1);
  EXPECT_EQ((*loaded.model)(x).to_vector<float>(), (*model)(x).to_vector<float>());
  // Any safetensors reader sees the format key.
  std::map<std::string, std::string> raw;
  load_safetensors(tmp.file("m.safetensors"), &raw);
  EXPECT_EQ(raw.at("loom.format"), "weights");
}

TEST(ModelBundle, BadInputIsNamed) {
  loom::testing::TempDir tmp;
  const std::string mlp = builtin_model_description("mlp");
  auto model = model_from_json_text(mlp, "mlp");
  EXPECT_NE(error_message([&] {
              save_model_bundle(tmp.file("a"), *model, {mlp, "", {{"loom.format", "x"}}});
            }).find("written by the bundle itself"),
            std::string::npos);
  EXPECT_NE(error_message([&] { save_model_bundle(tmp.file("a"), *model, {}); }).find("description is empty"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(tmp.file("a")));
  // Weights without a description need one given.
  save_safetensors(tmp.file("bare"), model->state_dict(), {});
  EXPECT_NE(error_message([&] { load_model_bundle(tmp.file("bare")); }).find("does not say which model"),
            std::string::npos);
  EXPECT_NO_THROW(load_model_bundle(tmp.file("bare"), mlp, "--model mlp"));
  // Weights of another model.
  EXPECT_NE(error_message([&] {
              load_model_bundle(tmp.file("bare"), builtin_model_description("cnn"));
            }).find("do not fit the model"),
            std::string::npos);
  // A truncated file.
  save_model_bundle(tmp.file("b"), *model, {mlp, "", {}});
  std::filesystem::resize_file(tmp.file("b"), std::filesystem::file_size(tmp.file("b")) / 2);
  EXPECT_NE(error_message([&] { load_model_bundle(tmp.file("b")); }).find(tmp.file("b")), std::string::npos);
}

}  // namespace
}  // namespace loom::io
