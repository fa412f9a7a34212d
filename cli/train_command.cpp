// loom train: images (IDX) or tables (CSV) through one training loop.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "commands.h"
#include "distributed_train.h"
#include "inputs.h"
#include "linear_train.h"
#include "loom/autograd.h"
#include "loom/data.h"
#include "loom/data/transforms.h"
#include "loom/io.h"
#include "loom/kernels/gemm.h"
#include "loom/optim.h"
#include "loom/runtime/parallel.h"
#include "loom/train.h"
#include "profile_report.h"
#include "stats_report.h"
#include "tabular.h"
#include "thread_tuner.h"

namespace loom::cli {
namespace {

// Resolved settings: flags over the model's training defaults over loom's.
struct Plan {
  std::string description;
  int64_t epochs = 3, batch = 64;
  int64_t steps = 0;  // > 0: optimizer steps instead of epochs
  std::string optimizer = "sgd";
  optim::OptimizerOptions opt;
};

Plan make_plan(const TrainOptions& o, std::string description, const std::string& source) {
  Plan p;
  p.description = std::move(description);
  const io::TrainingDefaults d =
      io::parse_model_description(p.description, source).training.value_or(io::TrainingDefaults{});
  p.optimizer = o.optimizer.value_or(d.optimizer);
  p.opt.lr = o.lr.value_or(d.lr);
  p.opt.momentum = o.momentum.value_or(d.momentum);
  p.opt.weight_decay = o.weight_decay > 0 ? o.weight_decay : d.weight_decay;
  p.opt.beta1 = d.beta1;
  p.opt.beta2 = d.beta2;
  p.opt.max_grad_norm = o.max_grad_norm.value_or(d.max_grad_norm);
  p.batch = o.batch.value_or(d.batch);
  p.epochs = o.epochs.value_or(d.epochs.value_or(3));
  // --epochs given alone overrides the model's steps; --steps always wins.
  p.steps = o.steps.value_or(o.epochs ? 0 : d.steps.value_or(0));
  return p;
}

// Training and held-out data with what the model and the saved weights need.
struct Prepared {
  std::shared_ptr<const data::Dataset> train, held_out;
  std::string held_out_name = "test";
  Objective objective = Objective::classify;
  std::string description;  // the model
  io::BundleInfo bundle;    // saved with the weights (the description is added)
  bool text = false;        // token windows: rates are tokens/s, evaluation batches are small
};

Prepared prepare_images(const TrainOptions& o) {
  Prepared p;
  p.train = take_prefix(open_image_dataset(o.data_dir, true), o.train_samples);
  std::string test = o.test_data;
  if (test.empty()) {
    LOOM_CHECK(!is_shard_manifest(o.data_dir), "training from shards (", o.data_dir,
               ") needs --test-data: a shard manifest or an IDX directory with the test split");
    test = o.data_dir;
  }
  p.held_out = take_prefix(open_image_dataset(test, false), o.test_samples);
  p.description = model_description_text(o.model);
  return p;
}

// A byte-level language model: the text's last tenth is the validation split,
// scored in disjoint windows; training windows start anywhere (NOTE in loom/data/text.h).
Prepared prepare_text(const TrainOptions& o, const io::ModelDescription& model) {
  LOOM_CHECK(!o.augment, "--augment applies to images, not to text (", o.data_dir, ")");
  LOOM_CHECK(model.input_shape.size() == 1, o.model, ": a model of token inputs takes [context] tokens, its input is ",
             shape_str(model.input_shape));
  const int64_t context = model.input_shape[0];
  const std::string path = o.data_dir == kDefaultImageData ? kDefaultTextData : o.data_dir;
  const data::TextCorpus corpus = data::read_text_corpus(path);
  for (const auto& [split, bytes] : {std::pair{"training", corpus.train}, std::pair{"validation", corpus.validation}})
    LOOM_CHECK(bytes.numel() > context, path, ": the ", split, " split has ", bytes.numel(),
               " bytes, fewer than one window of ", context, " tokens and its next token (", context + 1,
               "); the validation split is the last 10% of the text, so give at least ", 10 * (context + 1), " bytes");
  Prepared p;
  p.train = take_prefix(std::make_shared<data::TokenWindows>(corpus.train, context), o.train_samples);
  p.held_out = take_prefix(std::make_shared<data::TokenWindows>(corpus.validation, context, context), o.test_samples);
  p.held_out_name = "validation";
  p.description = model.text;
  p.text = true;
  if (!o.quiet) {
    std::printf("%s: %zu files, %lld bytes (%lld training, %lld validation), windows of %lld tokens\n", path.c_str(),
                corpus.files.size(), static_cast<long long>(corpus.train.numel() + corpus.validation.numel()),
                static_cast<long long>(corpus.train.numel()), static_cast<long long>(corpus.validation.numel()),
                static_cast<long long>(context));
  }
  return p;
}

Prepared prepare_table(const TrainOptions& o) {
  LOOM_CHECK(!o.augment, "--augment applies to images, not to tabular data (", o.data_dir, ")");
  TabularData t = load_tabular(o.data_dir, {o.skip_rows, !o.no_header, o.delimiter[0]}, o.target, o.pipeline, o.task,
                               o.validation, o.seed);
  Prepared p;
  p.train = take_prefix(t.train, o.train_samples);
  p.held_out = t.validation;
  p.held_out_name = "validation";
  p.objective = t.meta.task == Task::classify ? Objective::classify : Objective::regress;
  const int64_t outputs = t.meta.task == Task::classify ? static_cast<int64_t>(t.meta.classes.size()) : 1;
  p.description = o.model == "mlp" ? tabular_mlp_description(t.features, outputs) : model_description_text(o.model);
  add_tabular_info(t.meta, p.bundle);
  if (!o.quiet) {
    std::printf("%s: %lld training and %lld validation rows, %lld features after preprocessing, %s\n",
                o.data_dir.c_str(), static_cast<long long>(p.train->size()),
                static_cast<long long>(p.held_out ? p.held_out->size() : 0), static_cast<long long>(t.features),
                t.meta.task == Task::classify
                    ? ("classification into " + std::to_string(t.meta.classes.size()) + " classes").c_str()
                    : "regression");
  }
  return p;
}

// --threads auto: the tuner times the first steps under each candidate split.
class ThreadTuning : public train::Callback {
 public:
  ThreadTuning(ThreadTuner& tuner, bool quiet) : tuner_(tuner), quiet_(quiet) {}
  void on_step_begin(train::Trainer& t) override { tuner_.before_step(t.state().global_step); }
  void on_step_end(train::Trainer& t) override {
    const bool was_done = tuner_.done();
    tuner_.after_step(t.state().global_step - 1, t.state().last_step_seconds);
    if (!was_done && tuner_.done() && !quiet_)
      std::printf("%s", tuner_.report().c_str());
  }

 private:
  ThreadTuner& tuner_;
  bool quiet_;
};

// --stats: the allocator counters once the first epoch (the warm-up) is done.
class MemoryWarmUp : public train::Callback {
 public:
  explicit MemoryWarmUp(RunMemoryStats& stats) : stats_(stats) {}
  void on_epoch_end(train::Trainer& t) override {
    if (!done_)
      stats_.mark_warm();
    done_ = true;
  }

 private:
  RunMemoryStats& stats_;
  bool done_ = false;
};

void write_json(const std::string& path, const nlohmann::json& j) {
  io::write_text_file_atomically(path, j.dump(2) + "\n");
}

}  // namespace

int run_train(const TrainOptions& options) {
  if (is_linear_model(options.model))
    return run_linear_train(options);  // full-batch gradient descent, not the loop below
  DistSession dist(options);           // under mpirun: rank, world, who prints and writes files
  const TrainOptions o = dist.adjusted(options);
  apply_threads(o.threads);
  // One-time GEMM library set-up (oneDNN's JIT) while the data loads; joined below.
  std::jthread warm_up([] { kernels::warm_up_gemm(); });
  const bool tabular = is_csv_path(o.data_dir);
  Prepared data;
  if (tabular) {
    data = prepare_table(o);
  } else {
    const io::ModelDescription described = io::parse_model_description(model_description_text(o.model), o.model);
    data = described.inputs.front().dtype == DType::i64 ? prepare_text(o, described) : prepare_images(o);
  }
  Plan plan = make_plan(o, data.description, o.model);

  manual_seed(o.seed);
  auto model = io::model_from_json_text(plan.description, o.model);
  model->pack_parameters();
  // AdamW decays the weight matrices only (optim::weight_decay_groups).
  optim::ParamGroups params = plan.optimizer == "adamw"
                                  ? optim::ParamGroups(optim::weight_decay_groups(*model, plan.opt.weight_decay))
                                  : optim::ParamGroups(model->parameters());
  auto optimizer = optim::make_optimizer(plan.optimizer, std::move(params), plan.opt);
  auto strategy = dist.make_strategy(*model, *optimizer, plan.optimizer, plan.opt);

  data::DataLoaderOptions lo;
  lo.batch_size = plan.batch;
  lo.shuffle = true;
  lo.seed = o.seed;
  lo.rank = strategy ? strategy->data_rank() : 0;  // NOTE [Distributed batch semantics]
  lo.world_size = strategy ? strategy->data_world() : 1;
  lo.num_workers = o.workers;
  if (o.augment) {
    lo.transforms = {std::make_shared<data::RandomCrop>(28, 2), std::make_shared<data::RandomHorizontalFlip>()};
  }
  data::DataLoader loader(data.train, lo);

  train::TrainerOptions to;
  to.epochs = plan.epochs;
  to.max_steps = plan.steps;
  const int64_t total_steps = plan.steps > 0 ? plan.steps : plan.epochs * loader.num_batches();
  to.seed = o.seed;
  to.objective = data.objective;
  to.schedule = optim::make_schedule(o.schedule, plan.opt.lr, total_steps, o.warmup_steps);
  to.checkpoint.path = options.checkpoint_path;  // the Trainer writes it on rank 0 only
  to.checkpoint.every_steps = o.dist.checkpoint_every;
  to.checkpoint.extra["model_description"] = plan.description;
  train::Trainer trainer(*model, *optimizer, loader, to);
  if (strategy)
    trainer.set_strategy(std::move(strategy));
  int64_t start_epoch = 0;
  if (!o.resume_path.empty()) {
    const io::CheckpointMeta resumed = trainer.resume(o.resume_path);
    start_epoch = resumed.epoch;
    if (!o.quiet)
      std::printf("resumed from %s at epoch %lld\n", o.resume_path.c_str(), static_cast<long long>(start_epoch));
  }
  if (!o.quiet)
    trainer.add_callback(std::make_shared<train::ProgressCallback>());
  std::unique_ptr<ThreadTuner> tuner;
  if (o.threads_auto) {
    tuner = std::make_unique<ThreadTuner>(runtime::num_threads());
    trainer.add_callback(std::make_shared<ThreadTuning>(*tuner, o.quiet));
  }
  RunMemoryStats memory;
  trainer.add_callback(std::make_shared<MemoryWarmUp>(memory));
  std::shared_ptr<train::ProfilerCallback> profiler;
  if (!o.profile_path.empty()) {
    profiler = std::make_shared<train::ProfilerCallback>(o.profile_path);
    trainer.add_callback(profiler);
  }
  if (!o.quiet) {
    const std::string length =
        plan.steps > 0 ? std::to_string(plan.steps) + " steps" : std::to_string(plan.epochs) + " epochs";
    std::printf("training %s: %lld parameters, %s lr %g, batch %lld, %s, %d threads, %d loader workers, seed %llu\n",
                o.model.c_str(), static_cast<long long>(model->num_parameters()), plan.optimizer.c_str(), plan.opt.lr,
                static_cast<long long>(plan.batch), length.c_str(), runtime::num_threads(), o.workers,
                static_cast<unsigned long long>(o.seed));
  }

  warm_up.join();
  const train::TrainLog log = trainer.fit();
  memory.end_training(std::max<int64_t>(0, plan.epochs - start_epoch - 1) * loader.num_batches());
  if (profiler)
    print_profile(profiler->data(), o.profile_path);
  const double final_loss = log.losses.empty() ? 0.0 : log.losses.back();
  if (!dist.is_root())
    return 0;  // rank 0 evaluates, prints and writes files
  nlohmann::json j;
  dist.report(j, log);
  if (data.text) {
    j["tokens_per_s"] = log.positions_per_s();
    j["steps"] = log.steps;
  }
  if (data.held_out && data.held_out->size() > 0) {
    // A sequence model's logits are [batch, context, vocab]: keep evaluation batches small.
    Evaluation ev = train::evaluate(*model, *data.held_out, data.text ? 64 : 1000, data.objective);
    if (data.text) {
      std::printf(
          "done: validation loss %.4f (%lld windows), next-byte accuracy %.2f%%, final train loss %.4f, %.0f "
          "tokens/s\n",
          ev.loss, static_cast<long long>(ev.samples), 100 * ev.accuracy, final_loss, log.positions_per_s());
      j["val_loss"] = ev.loss;
      j["validation_accuracy"] = ev.accuracy;
    } else if (data.objective == Objective::classify) {
      std::printf("done: %s accuracy %.2f%% (%lld samples), %s loss %.4f, final train loss %.4f, %.0f samples/s\n",
                  data.held_out_name.c_str(), 100 * ev.accuracy, static_cast<long long>(ev.samples),
                  data.held_out_name.c_str(), ev.loss, final_loss, log.samples_per_s());
      j[data.held_out_name + "_accuracy"] = ev.accuracy;
    } else {
      std::printf("done: %s RMSE %.4f, R^2 %.4f (%lld samples), final train loss %.4f, %.0f samples/s\n",
                  data.held_out_name.c_str(), ev.rmse, ev.r2, static_cast<long long>(ev.samples), final_loss,
                  log.samples_per_s());
      j[data.held_out_name + "_rmse"] = ev.rmse;
      j[data.held_out_name + "_r2"] = ev.r2;
    }
    if (!data.text)
      j[data.held_out_name + "_loss"] = ev.loss;
  } else {
    std::printf("done: final train loss %.4f, %.0f samples/s (no held-out data)\n", final_loss, log.samples_per_s());
  }
  if (!o.quiet && log.train_seconds > 0) {
    std::printf("time waiting for data: %.2f s of %.2f s training (%.1f%%)\n", log.wait_seconds, log.train_seconds,
                100 * log.wait_seconds / log.train_seconds);
  }

  if (!o.save_path.empty()) {
    data.bundle.description = plan.description;
    io::save_model_bundle(o.save_path, *model, data.bundle);
  }
  if (o.stats)
    memory.print();
  if (!o.metrics_path.empty()) {
    memory.add_to(j);
    j["final_loss"] = final_loss;
    j["train_samples_per_s"] = log.samples_per_s();
    j["epoch_seconds"] = log.seconds;
    j["epoch_losses"] = log.losses;
    j["data_wait_seconds"] = log.wait_seconds;
    if (data.objective == Objective::classify)
      j["epoch_train_accuracy"] = log.accuracy;
    j["model"] = o.model;
    j["optimizer"] = plan.optimizer;
    j["lr"] = plan.opt.lr;
    j["batch"] = plan.batch;
    j["epochs"] = plan.epochs;
    if (plan.steps > 0)
      j["max_steps"] = plan.steps;
    j["threads"] = runtime::num_threads();
    if (tuner)
      j["threads_auto"] = tuner->chosen().describe();
    j["loader_workers"] = o.workers;
    j["seed"] = o.seed;
    j["train_samples"] = data.train->size();
    write_json(o.metrics_path, j);
  }
  return 0;
}

}  // namespace loom::cli
