// Trainer: the loop equals a hand-written one, resumes mid-epoch bit for bit, lets
// a strategy own the step, and runs its callbacks.
#include "loom/train/trainer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "loom/autograd.h"
#include "loom/io/model_description.h"
#include "loom/train/callbacks.h"
#include "test_support.h"

namespace loom::train {
namespace {

// Dropout makes every step draw random numbers (NOTE [Step seeding]).
constexpr const char* kDropoutModel = R"({"input_shape": [8], "layers": [
  {"type": "linear", "in": 8, "out": 16}, {"type": "relu"}, {"type": "dropout", "p": 0.25},
  {"type": "linear", "in": 16, "out": 3}]})";
constexpr const char* kPlainModel = R"({"input_shape": [8], "layers": [
  {"type": "linear", "in": 8, "out": 16}, {"type": "relu"}, {"type": "linear", "in": 16, "out": 3}]})";

// 256 samples of 8 features; the class is the largest of three fixed sums.
std::shared_ptr<data::TensorDataset> toy_data() {
  Generator g(11);
  Tensor x = g.normal_tensor({256, 8}, 0, 1);
  auto v = x.to_vector<float>();
  std::vector<int64_t> y(256);
  for (int64_t i = 0; i < 256; ++i) {
    const float* r = &v[i * 8];
    const float s[3] = {r[0] + r[1] - r[2], r[3] - r[4] + r[5], r[6] + r[7] - r[0]};
    y[i] = std::max_element(s, s + 3) - s;
  }
  return std::make_shared<data::TensorDataset>(x, Tensor::from_vector(y, {256}));
}

struct TrainingRun {
  std::shared_ptr<nn::Graph> model;
  std::unique_ptr<optim::Optimizer> optimizer;
  std::unique_ptr<data::DataLoader> loader;
};

// A fresh model (initialised from `init_seed`), optimizer and loader (8 batches an epoch).
TrainingRun make_run(const char* description, const std::string& optimizer, uint64_t init_seed = 3) {
  TrainingRun r;
  manual_seed(init_seed);
  r.model = io::model_from_json_text(description, "test model");
  r.model->pack_parameters();
  r.optimizer = optim::make_optimizer(optimizer, r.model->parameters(), {.lr = 0.05, .momentum = 0.9});
  r.loader = std::make_unique<data::DataLoader>(toy_data(),
                                                data::DataLoaderOptions{.batch_size = 32, .shuffle = true, .seed = 7});
  return r;
}

std::vector<float> weights(const nn::Module& m) {
  std::vector<float> all;
  for (const auto& [name, t] : m.state_dict()) {
    auto v = t.to_vector<float>();
    all.insert(all.end(), v.begin(), v.end());
  }
  return all;
}

class StopAtStep : public Callback {
 public:
  explicit StopAtStep(int64_t step) : step_(step) {}
  void on_step_end(Trainer& t) override {
    if (t.state().global_step == step_)
      t.request_stop();
  }

 private:
  int64_t step_;
};

TEST(Trainer, EqualsTheHandWrittenLoop) {
  TrainingRun a = make_run(kDropoutModel, "sgd");
  TrainerOptions o;
  o.epochs = 2;
  o.seed = 5;
  Trainer trainer(*a.model, *a.optimizer, *a.loader, o);
  TrainLog log = trainer.fit();
  EXPECT_EQ(log.steps, 16);
  EXPECT_EQ(log.samples, 512);
  ASSERT_EQ(log.losses.size(), 2u);
  EXPECT_EQ(trainer.fit().steps, 0);  // a second fit() continues where the first ended: nothing is left

  TrainingRun b = make_run(kDropoutModel, "sgd");
  int64_t step = 0;
  double last_epoch_loss = 0;
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    b.loader->set_epoch(epoch);
    b.model->train();
    double sum = 0;
    while (auto batch = b.loader->next()) {
      manual_seed(step_seed(5, step++));
      Tensor loss = cross_entropy((*b.model)(batch->input), batch->target);
      b.optimizer->zero_grad();
      loss.backward();
      b.optimizer->step();
      sum += loss.item_double() * 32;
    }
    last_epoch_loss = sum / 256;
  }
  EXPECT_EQ(weights(*a.model), weights(*b.model));
  EXPECT_DOUBLE_EQ(log.losses.back(), last_epoch_loss);
  EXPECT_LT(log.losses.back(), log.losses.front());  // it learns
}

// max_steps ends the run mid-epoch at that global step, whatever `epochs` says, and
// equals the epoch run stopped at the same step.
TEST(Trainer, MaxStepsEndsTheRunAtThatStep) {
  TrainingRun a = make_run(kPlainModel, "sgd");
  TrainerOptions o;
  o.epochs = 1;  // ignored
  o.max_steps = 11;
  Trainer trainer(*a.model, *a.optimizer, *a.loader, o);
  TrainLog log = trainer.fit();
  EXPECT_EQ(log.steps, 11);
  EXPECT_EQ(trainer.state().global_step, 11);
  EXPECT_EQ(log.losses.size(), 2u);  // 8 steps of epoch 1, 3 of epoch 2
  EXPECT_FALSE(log.stopped_early);
  EXPECT_EQ(log.positions, log.samples);

  TrainingRun b = make_run(kPlainModel, "sgd");
  TrainerOptions ob;
  ob.epochs = 2;
  Trainer stopped(*b.model, *b.optimizer, *b.loader, ob);
  stopped.add_callback(std::make_shared<StopAtStep>(11));
  EXPECT_EQ(stopped.fit().steps, 11);
  EXPECT_EQ(weights(*a.model), weights(*b.model));
}

TEST(Trainer, ResumedMidEpochEndsWithTheSameWeights) {
  loom::testing::TempDir tmp;
  TrainerOptions o;
  o.epochs = 3;  // 24 steps
  o.seed = 9;
  TrainingRun straight = make_run(kDropoutModel, "adam");
  Trainer(*straight.model, *straight.optimizer, *straight.loader, o).fit();

  // Checkpoints at steps 5 and 10; the run stops after step 13, mid-epoch 2.
  o.checkpoint = {.path = tmp.file("run.ckpt"), .every_steps = 5, .every_epoch = false};
  TrainingRun first = make_run(kDropoutModel, "adam");
  Trainer interrupted(*first.model, *first.optimizer, *first.loader, o);
  interrupted.add_callback(std::make_shared<StopAtStep>(13));
  TrainLog cut = interrupted.fit();
  EXPECT_TRUE(cut.stopped_early);
  EXPECT_EQ(cut.steps, 13);

  TrainingRun second = make_run(kDropoutModel, "adam", /*init_seed=*/99);  // other weights until resume
  Trainer resumed(*second.model, *second.optimizer, *second.loader, o);
  const io::CheckpointMeta meta = resumed.resume(o.checkpoint.path);
  EXPECT_EQ(meta.global_step, 10);
  EXPECT_EQ(meta.epoch, 1);
  TrainLog rest = resumed.fit();
  EXPECT_EQ(rest.steps, 14);
  EXPECT_EQ(weights(*second.model), weights(*straight.model));
}

TEST(Trainer, RefusesACheckpointPastItsEpochsAndBadOptions) {
  loom::testing::TempDir tmp;
  TrainingRun a = make_run(kPlainModel, "sgd");
  TrainerOptions o;
  o.epochs = 2;
  o.checkpoint.path = tmp.file("a.ckpt");
  Trainer(*a.model, *a.optimizer, *a.loader, o).fit();  // ends at step 16
  TrainingRun b = make_run(kPlainModel, "sgd");
  o.epochs = 1;
  Trainer shorter(*b.model, *b.optimizer, *b.loader, o);
  EXPECT_NE(loom::testing::error_message([&] { shorter.resume(o.checkpoint.path); }).find("at step 16"),
            std::string::npos);
  TrainerOptions bad;
  bad.checkpoint.every_steps = 10;
  EXPECT_NE(loom::testing::error_message([&] {
              Trainer(*b.model, *b.optimizer, *b.loader, bad);
            }).find("needs checkpoint.path"),
            std::string::npos);
}

// Gradient accumulation over two half batches: a strategy that runs the forward
// and backward of the step itself.
class TwoMicroBatches final : public distributed::TrainingStrategy {
 public:
  TwoMicroBatches() : TrainingStrategy(nullptr) {}
  distributed::DistMode mode() const override { return distributed::DistMode::none; }
  void step(optim::Optimizer& optimizer, int64_t) override { optimizer.step(); }
  distributed::StepOutput run_step(const distributed::StepInput& in) override {
    const int64_t n = in.input.size(0), half = n / 2;
    in.optimizer.zero_grad();
    std::vector<Tensor> outputs;
    double loss_sum = 0;
    for (auto [begin, end] : {std::pair<int64_t, int64_t>{0, half}, {half, n}}) {
      Tensor out = in.model(slice(in.input, 0, begin, end));
      Tensor loss = in.loss(out, slice(in.target, 0, begin, end)) * (static_cast<double>(end - begin) / n);
      loss.backward();
      loss_sum += loss.item_double();
      outputs.push_back(out.detach());
      ++micro_batches;
    }
    step(in.optimizer, in.global_step);
    return {Tensor::scalar(loss_sum), concat(outputs, 0)};
  }
  int micro_batches = 0;
};

TEST(Trainer, AStrategyMayOwnTheWholeStep) {
  TrainerOptions o;
  o.epochs = 2;
  TrainingRun plain = make_run(kPlainModel, "sgd");
  TrainLog plain_log = Trainer(*plain.model, *plain.optimizer, *plain.loader, o).fit();
  TrainingRun accumulated = make_run(kPlainModel, "sgd");
  Trainer trainer(*accumulated.model, *accumulated.optimizer, *accumulated.loader, o);
  auto strategy = std::make_unique<TwoMicroBatches>();
  TwoMicroBatches* seen = strategy.get();
  trainer.set_strategy(std::move(strategy));
  TrainLog log = trainer.fit();
  EXPECT_EQ(seen->micro_batches, 32);  // 16 steps of 2
  const auto a = weights(*plain.model), b = weights(*accumulated.model);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    ASSERT_NEAR(a[i], b[i], 1e-5) << i;
  EXPECT_NEAR(log.losses.back(), plain_log.losses.back(), 1e-5);
  EXPECT_DOUBLE_EQ(log.accuracy.back(), plain_log.accuracy.back());
}

TEST(Trainer, EarlyStoppingEndsARunThatStopsImproving) {
  TrainingRun r = make_run(kPlainModel, "sgd");
  r.optimizer->set_lr(0.0);  // the validation loss never improves after the first epoch
  TrainerOptions o;
  o.epochs = 10;
  o.validation = toy_data();
  o.schedule = nullptr;
  Trainer trainer(*r.model, *r.optimizer, *r.loader, o);
  auto stop = std::make_shared<EarlyStopping>(2);
  trainer.add_callback(stop);
  TrainLog log = trainer.fit();
  EXPECT_TRUE(log.stopped_early);
  EXPECT_EQ(log.losses.size(), 3u);  // the best epoch, then two without improvement
  ASSERT_EQ(log.validation.size(), 3u);
  EXPECT_EQ(stop->stopped_after_epoch(), 3);
  EXPECT_DOUBLE_EQ(stop->best(), log.validation[0].loss);
  EXPECT_EQ(log.validation[0].samples, 256);
}

TEST(Trainer, MetricsAndProgressCallbacksReportEveryEpoch) {
  loom::testing::TempDir tmp;
  TrainingRun r = make_run(kPlainModel, "sgd");
  TrainerOptions o;
  o.epochs = 2;
  o.validation = toy_data();
  Trainer trainer(*r.model, *r.optimizer, *r.loader, o);
  const std::string metrics = tmp.file("metrics.json"), progress = tmp.file("progress.txt");
  std::FILE* out = std::fopen(progress.c_str(), "w");
  ASSERT_NE(out, nullptr);
  trainer.add_callback(std::make_shared<MetricsLogger>(metrics));
  trainer.add_callback(std::make_shared<ProgressCallback>(out));
  TrainLog log = trainer.fit();
  std::fclose(out);
  std::ifstream f(metrics);
  const auto j = nlohmann::json::parse(f);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[1]["epoch"], 2);
  EXPECT_EQ(j[1]["global_step"], 16);
  EXPECT_DOUBLE_EQ(j[1]["loss"].get<double>(), log.losses[1]);
  EXPECT_DOUBLE_EQ(j[1]["validation_loss"].get<double>(), log.validation[1].loss);
  std::ifstream p(progress);
  const std::string text((std::istreambuf_iterator<char>(p)), {});
  EXPECT_NE(text.find("epoch 1/2 100%"), std::string::npos) << text;
  EXPECT_NE(text.find("epoch 2/2 100%"), std::string::npos) << text;
  EXPECT_NE(text.find("validation loss"), std::string::npos) << text;
}

class Identity final : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
  std::string describe() const override { return "identity"; }
};

TEST(Evaluation, CountsAndLossesMatchAHandCount) {
  Tensor logits = Tensor::from_vector(std::vector<float>{2, 1, 0, 0, 3, 1, 1, 0, 4}, {3, 3});
  Tensor target = Tensor::from_vector(std::vector<int64_t>{0, 1, 1}, {3});
  EXPECT_EQ(count_correct(logits, target), 2);
  auto set = std::make_shared<data::TensorDataset>(logits, target);
  Identity identity;
  const Evaluation ev = evaluate(identity, *set, 2, Objective::classify);
  EXPECT_EQ(ev.samples, 3);
  EXPECT_DOUBLE_EQ(ev.accuracy, 2.0 / 3.0);
  EXPECT_NEAR(ev.loss, cross_entropy(logits, target).item_double(), 1e-6);
  EXPECT_EQ(predict(identity, *set, 2).to_vector<float>(), logits.to_vector<float>());
}

}  // namespace
}  // namespace loom::train
