// loom train: the training loop behind the command line.
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "loom/autograd.h"
#include "loom/data.h"
#include "loom/io.h"
#include "loom/optim.h"
#include "loom/runtime/parallel.h"
#include "progress.h"
#include "training.h"

namespace loom::cli {
namespace {

// Resolved settings: flags over the model's training defaults over loom's.
struct Plan {
  std::string description;
  int64_t epochs = 3, batch = 64;
  std::string optimizer = "sgd";
  optim::OptimizerOptions opt;
};

Plan make_plan(const TrainOptions& o) {
  Plan p;
  p.description = model_description_text(o.model);
  const io::TrainingDefaults d =
      io::parse_model_description(p.description, o.model).training.value_or(io::TrainingDefaults{});
  p.optimizer = o.optimizer.value_or(d.optimizer);
  p.opt.lr = o.lr.value_or(d.lr);
  p.opt.momentum = o.momentum.value_or(d.momentum);
  p.opt.weight_decay = o.weight_decay > 0 ? o.weight_decay : d.weight_decay;
  p.batch = o.batch.value_or(d.batch);
  p.epochs = o.epochs.value_or(d.epochs.value_or(3));
  return p;
}

// Same seed, epoch and thread count give the same dropout masks and order,
// also after --resume.
uint64_t epoch_seed(uint64_t seed, int64_t epoch) { return seed * 1000003ull + static_cast<uint64_t>(epoch); }

void write_metrics(const std::string& path, const nlohmann::json& j) {
  const std::string text = j.dump(2) + "\n";
  io::write_file_atomically(path, [&](std::FILE* f) {
    if (std::fwrite(text.data(), 1, text.size(), f) != text.size())
      LOOM_THROW(IOError, "short write");
  });
}

}  // namespace

int run_train(const TrainOptions& o) {
  apply_threads(o.threads);
  Plan plan = make_plan(o);
  auto train_set = take_prefix(data::load_fashion_mnist(o.data_dir, true), o.train_samples);
  auto test_set = take_prefix(data::load_fashion_mnist(o.data_dir, false), o.test_samples);

  manual_seed(o.seed);
  auto model = io::model_from_json_text(plan.description, o.model);
  model->pack_parameters();
  auto optimizer = optim::make_optimizer(plan.optimizer, model->parameters(), plan.opt);

  data::DataLoaderOptions lo;
  lo.batch_size = plan.batch;
  lo.shuffle = true;
  lo.drop_last = false;
  lo.seed = o.seed;
  data::DataLoader loader(train_set, lo);
  const int64_t steps_per_epoch = loader.num_batches();
  auto schedule = optim::make_schedule(o.schedule, plan.opt.lr, plan.epochs * steps_per_epoch, o.warmup_steps);

  int64_t start_epoch = 0;
  if (!o.resume_path.empty()) {
    io::CheckpointMeta meta = io::load_checkpoint(o.resume_path, *model, optimizer.get());
    start_epoch = meta.epoch;
    LOOM_CHECK(start_epoch <= plan.epochs, "--resume: the checkpoint is at epoch ", start_epoch, " but --epochs is ",
               plan.epochs);
    if (!o.quiet)
      std::printf("resumed from %s at epoch %lld\n", o.resume_path.c_str(), static_cast<long long>(start_epoch));
  }
  if (!o.quiet) {
    std::printf("training %s: %lld parameters, %s lr %g, batch %lld, %lld epochs, %d threads, seed %llu\n",
                o.model.c_str(), static_cast<long long>(model->num_parameters()), plan.optimizer.c_str(), plan.opt.lr,
                static_cast<long long>(plan.batch), static_cast<long long>(plan.epochs), runtime::num_threads(),
                static_cast<unsigned long long>(o.seed));
  }

  std::vector<double> epoch_seconds, epoch_losses, epoch_accuracy;
  int64_t trained_samples = 0;
  double train_seconds = 0, final_loss = 0;
  for (int64_t epoch = start_epoch; epoch < plan.epochs; ++epoch) {
    manual_seed(epoch_seed(o.seed, epoch));
    loader.set_epoch(epoch);
    model->train();
    Progress progress(epoch + 1, plan.epochs, steps_per_epoch, o.quiet);
    const auto t0 = std::chrono::steady_clock::now();
    double loss_sum = 0;
    int64_t correct = 0, samples = 0, b = 0;
    while (auto batch = loader.next()) {
      optimizer->set_lr(schedule->lr_at(epoch * steps_per_epoch + b));
      Tensor logits = (*model)(batch->input);
      Tensor loss = cross_entropy(logits, batch->target);
      optimizer->zero_grad();
      loss.backward();
      optimizer->step();
      const int64_t n = batch->target.numel();
      loss_sum += loss.item_double() * static_cast<double>(n);
      auto pred = argmax(logits.detach(), 1).to_vector<int64_t>();
      auto truth = batch->target.to_vector<int64_t>();
      for (size_t i = 0; i < pred.size(); ++i)
        correct += pred[i] == truth[i];
      samples += n;
      progress.update(++b, samples, loss_sum, correct);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    progress.finish(samples, loss_sum, correct, seconds);
    epoch_seconds.push_back(seconds);
    epoch_losses.push_back(samples ? loss_sum / samples : 0.0);
    epoch_accuracy.push_back(samples ? static_cast<double>(correct) / samples : 0.0);
    final_loss = epoch_losses.back();
    trained_samples += samples;
    train_seconds += seconds;
    if (!o.checkpoint_path.empty()) {
      io::CheckpointMeta meta;
      meta.epoch = epoch + 1;
      meta.global_step = (epoch + 1) * steps_per_epoch;
      meta.seed = o.seed;
      meta.extra["model_description"] = plan.description;
      meta.extra["optimizer"] = plan.optimizer;
      io::save_checkpoint(o.checkpoint_path, *model, optimizer.get(), meta);
    }
  }

  Evaluation test = evaluate(*model, *test_set, 1000);
  const double samples_per_s = train_seconds > 0 ? trained_samples / train_seconds : 0.0;
  std::printf("done: test accuracy %.2f%% (%lld samples), test loss %.4f, final train loss %.4f, %.0f samples/s\n",
              100 * test.accuracy, static_cast<long long>(test.samples), test.loss, final_loss, samples_per_s);

  if (!o.save_path.empty()) {
    io::save_safetensors(o.save_path, model->state_dict(),
                         {{"loom.model_description", plan.description}, {"loom.format", "weights"}});
  }
  if (!o.metrics_path.empty()) {
    nlohmann::json j;
    j["test_accuracy"] = test.accuracy;
    j["test_loss"] = test.loss;
    j["final_loss"] = final_loss;
    j["train_samples_per_s"] = samples_per_s;
    j["epoch_seconds"] = epoch_seconds;
    j["epoch_losses"] = epoch_losses;
    j["epoch_train_accuracy"] = epoch_accuracy;
    j["model"] = o.model;
    j["optimizer"] = plan.optimizer;
    j["lr"] = plan.opt.lr;
    j["batch"] = plan.batch;
    j["epochs"] = plan.epochs;
    j["threads"] = runtime::num_threads();
    j["seed"] = o.seed;
    j["train_samples"] = train_set->size();
    write_metrics(o.metrics_path, j);
  }
  return 0;
}

}  // namespace loom::cli
