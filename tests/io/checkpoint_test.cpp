#include "loom/io/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "loom/io/model_description.h"
#include "loom/io/safetensors.h"
#include "loom/nn/activation.h"
#include "loom/nn/linear.h"
#include "loom/nn/normalization.h"
#include "loom/nn/sequential.h"
#include "support/test_support.h"

namespace loom::io {
namespace {

using loom::testing::max_abs_diff;
using loom::testing::read_file;
using loom::testing::TempDir;

std::shared_ptr<nn::Sequential> small_model(uint64_t seed) {
  Generator gen(seed);
  auto model = std::make_shared<nn::Sequential>();
  model->add(std::make_shared<nn::Linear>(4, 8, true, gen));
  model->add(std::make_shared<nn::BatchNorm1d>(8));
  model->add(std::make_shared<nn::ReLU>());
  model->add(std::make_shared<nn::Linear>(8, 3, true, gen));
  return model;
}

// A few optimizer steps so the model, its running statistics and the optimizer state are all non-trivial.
void train_steps(nn::Module& model, optim::Optimizer& opt, int steps) {
  Generator gen(99);
  for (int i = 0; i < steps; ++i) {
    Tensor x = gen.normal_tensor({6, 4}, 0, 1);
    Tensor target = Tensor::from_vector<int64_t>({0, 1, 2, 0, 1, 2}, {6});
    opt.zero_grad();
    Tensor loss = cross_entropy(model.forward(x), target);
    loss.backward();
    opt.step();
  }
}

void expect_same_state(const nn::NamedTensors& a, const nn::NamedTensors& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_EQ(max_abs_diff(a[i].second, b[i].second), 0.0) << a[i].first;
  }
}

TEST(Checkpoint, RoundTripRestoresModelAndOptimizer) {
  TempDir dir;
  auto model = small_model(1);
  auto opt = optim::make_optimizer("adam", model->parameters(), {.lr = 0.01});
  train_steps(*model, *opt, 3);
  CheckpointMeta meta{.epoch = 2,
                      .global_step = 3,
                      .seed = 12345678901234567890ull,
                      .extra = {{"model_description", "{\"x\": 1}"}, {"note", "hi"}}};
  save_checkpoint(dir.file("c.safetensors"), *model, opt.get(), meta);

  auto restored = small_model(2);  // different initial weights
  auto restored_opt = optim::make_optimizer("adam", restored->parameters(), {.lr = 0.01});
  CheckpointMeta back = load_checkpoint(dir.file("c.safetensors"), *restored, restored_opt.get());
  EXPECT_EQ(back.epoch, 2);
  EXPECT_EQ(back.global_step, 3);
  EXPECT_EQ(back.seed, 12345678901234567890ull);
  EXPECT_EQ(back.extra, meta.extra);
  expect_same_state(model->state_dict(), restored->state_dict());
  expect_same_state(opt->state_dict(), restored_opt->state_dict());
  EXPECT_EQ(restored_opt->steps(), 3);

  // Training on from either gives the same bits.
  train_steps(*model, *opt, 2);
  train_steps(*restored, *restored_opt, 2);
  expect_same_state(model->state_dict(), restored->state_dict());

  EXPECT_EQ(read_checkpoint_meta(dir.file("c.safetensors")).extra.at("note"), "hi");
}

TEST(Checkpoint, FileIsPlainSafetensorsWithPrefixes) {
  TempDir dir;
  auto model = small_model(1);
  auto opt = optim::make_optimizer("sgd", model->parameters(), {.lr = 0.1, .momentum = 0.9});
  train_steps(*model, *opt, 1);
  save_checkpoint(dir.file("c"), *model, opt.get(), {});
  std::map<std::string, std::string> meta;
  auto tensors = load_safetensors(dir.file("c"), &meta);
  EXPECT_EQ(tensors.front().first, "model.0.weight");
  EXPECT_EQ(tensors.back().first.rfind("optim.", 0), 0u);
  EXPECT_EQ(meta.at("loom.optimizer"), "sgd");
  EXPECT_EQ(meta.at("loom.epoch"), "0");
}

TEST(Checkpoint, ModelOnly) {
  TempDir dir;
  auto model = small_model(1);
  save_checkpoint(dir.file("c"), *model, nullptr, {.epoch = 1});
  auto other = small_model(5);
  EXPECT_EQ(load_checkpoint(dir.file("c"), *other, nullptr).epoch, 1);
  expect_same_state(model->state_dict(), other->state_dict());
  auto opt = optim::make_optimizer("sgd", other->parameters(), {});
  EXPECT_THROW(load_checkpoint(dir.file("c"), *other, opt.get()), IOError);
}

TEST(Checkpoint, MismatchesLeaveEverythingUnchanged) {
  TempDir dir;
  auto model = small_model(1);
  auto opt = optim::make_optimizer("adam", model->parameters(), {});
  train_steps(*model, *opt, 1);
  save_checkpoint(dir.file("c"), *model, opt.get(), {});

  auto target = small_model(7);
  auto before = target->state_dict();
  nn::NamedTensors before_copy;
  for (auto& [n, t] : before)
    before_copy.emplace_back(n, t.clone());

  auto sgd = optim::make_optimizer("sgd", target->parameters(), {});
  try {
    load_checkpoint(dir.file("c"), *target, sgd.get());
    FAIL() << "no error";
  } catch (const IOError& e) {
    EXPECT_NE(e.message().find("adam state but the optimizer is sgd"), std::string::npos) << e.message();
  }
  expect_same_state(before_copy, target->state_dict());

  auto bigger = std::make_shared<nn::Sequential>();
  bigger->add(std::make_shared<nn::Linear>(4, 9));
  try {
    load_checkpoint(dir.file("c"), *bigger, nullptr);
    FAIL() << "no error";
  } catch (const IOError& e) {
    EXPECT_NE(e.message().find(dir.file("c")), std::string::npos) << e.message();
  }
}

TEST(Checkpoint, RejectsReservedKeysAndPlainFiles) {
  TempDir dir;
  auto model = small_model(1);
  EXPECT_THROW(save_checkpoint(dir.file("c"), *model, nullptr, {.extra = {{"loom.epoch", "3"}}}), ValueError);
  save_safetensors(dir.file("plain"), model->state_dict());
  try {
    load_checkpoint(dir.file("plain"), *model, nullptr);
    FAIL() << "no error";
  } catch (const IOError& e) {
    EXPECT_NE(e.message().find("not a loom checkpoint"), std::string::npos) << e.message();
  }
}

TEST(Checkpoint, FailedSaveKeepsThePreviousCheckpoint) {
  TempDir dir;
  auto model = small_model(1);
  save_checkpoint(dir.file("c"), *model, nullptr, {.epoch = 1});
  const std::string before = read_file(dir.file("c"));
  // A reserved metadata key makes the save fail; the old file must survive it.
  EXPECT_THROW(save_checkpoint(dir.file("c"), *model, nullptr, {.extra = {{"loom.x", ""}}}), ValueError);
  EXPECT_EQ(read_file(dir.file("c")), before);
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path()))
    ++files;
  EXPECT_EQ(files, 1u);
}

TEST(Checkpoint, BuiltinCnnRoundTrip) {
  TempDir dir;
  const std::string text = builtin_model_description("cnn");
  auto model = model_from_json_text(text, "cnn");
  save_checkpoint(dir.file("cnn.ckpt"), *model, nullptr, {.extra = {{"model_description", text}}});
  CheckpointMeta meta = read_checkpoint_meta(dir.file("cnn.ckpt"));
  auto rebuilt = model_from_json_text(meta.extra.at("model_description"), "checkpoint");
  load_checkpoint(dir.file("cnn.ckpt"), *rebuilt, nullptr);
  expect_same_state(model->state_dict(), rebuilt->state_dict());
}

}  // namespace
}  // namespace loom::io
