#pragma once
// The training loop: one for a single process and for every distributed strategy.
//
//   loom::train::TrainerOptions o;
//   o.epochs = 3;
//   o.checkpoint = {.path = "run.ckpt", .every_steps = 100};
//   loom::train::Trainer trainer(*model, *optimizer, loader, o);
//   trainer.set_strategy(loom::distributed::make_strategy(d, comm, *model, *optimizer));  // optional
//   trainer.add_callback(std::make_shared<loom::train::ProgressCallback>());
//   if (resuming) trainer.resume("run.ckpt");  // continues mid-epoch, at the saved step
//   loom::train::TrainLog log = trainer.fit();
//
// NOTE [Step seeding]
// Before every step the process-wide generator is seeded from (seed, global
// step), so what a step draws (dropout masks, random layers) depends only on the
// run's seed and the step's index, not on what ran before it in this process. A
// checkpoint at step N (model, optimizer, N) is then the whole state: a run resumed
// there draws what the uninterrupted run drew and ends with the same weights, bit
// for bit, on the same thread count. The data order is the loader's (seeded by
// epoch), and DataLoader::set_epoch(epoch, first_batch) skips the batches done.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "loom/data/data_loader.h"
#include "loom/distributed/training.h"
#include "loom/io/checkpoint.h"
#include "loom/nn/module.h"
#include "loom/optim/optimizer.h"
#include "loom/optim/schedule.h"
#include "loom/train/callback.h"
#include "loom/train/evaluation.h"

namespace loom::train {

// When fit() writes a checkpoint (io/checkpoint.h: model, optimizer, epoch, step,
// seed), always atomically and, in a distributed run, from rank 0 only.
struct CheckpointPolicy {
  std::string path;                          // empty: no checkpoints
  int64_t every_steps = 0;                   // > 0: also every N global steps, inside epochs
  bool every_epoch = true;                   // after each epoch
  std::map<std::string, std::string> extra;  // saved in its metadata, e.g. "model_description"
};

struct TrainerOptions {
  int64_t epochs = 1;
  // > 0: train this many optimizer steps (global), however many epochs that takes;
  // the epoch in which the last step falls ends there (its checkpoint and
  // validation run as at any epoch's end). `epochs` is then ignored.
  int64_t max_steps = 0;
  uint64_t seed = 1;  // NOTE [Step seeding]
  Objective objective = Objective::classify;
  std::shared_ptr<const optim::LRSchedule> schedule;  // null: the optimizer's learning rate throughout
  CheckpointPolicy checkpoint;
  // Evaluated after every epoch (TrainState::validation; EarlyStopping watches it).
  std::shared_ptr<const data::Dataset> validation;
  int64_t validation_batch = 1000;
};

struct TrainLog {
  // Per epoch run by this call (a resumed run starts at its checkpoint's epoch).
  std::vector<double> seconds, losses, accuracy;
  std::vector<Evaluation> validation;          // when TrainerOptions::validation is set
  int64_t samples = 0;                         // samples trained on
  int64_t positions = 0;                       // targets scored: samples, or a sequence model's tokens
  int64_t steps = 0;                           // steps this call ran
  double train_seconds = 0, wait_seconds = 0;  // wall time in epochs; of it, waiting for data
  bool stopped_early = false;                  // a callback's request_stop() ended the run
  // Distributed runs: every rank's gradient (or update) traffic, summed over ranks:
  // bytes sent through the codec, and what uncompressed f32 would have sent.
  double traffic_bytes = 0, traffic_raw_bytes = 0;
  double samples_per_s() const { return train_seconds > 0 ? samples / train_seconds : 0.0; }
  double positions_per_s() const { return train_seconds > 0 ? positions / train_seconds : 0.0; }
};

class Trainer {
 public:
  // The model must be packed (Module::pack_parameters) when a distributed strategy
  // is set; the optimizer must update its parameters. All three must outlive fit().
  Trainer(nn::Module& model, optim::Optimizer& optimizer, data::DataLoader& loader, TrainerOptions options = {});
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // The distributed strategy that runs each step (default: one process, a plain
  // optimizer step). The loader must shard by its data_rank()/data_world().
  void set_strategy(std::unique_ptr<distributed::TrainingStrategy> strategy);
  distributed::TrainingStrategy& strategy() { return *strategy_; }
  void add_callback(std::shared_ptr<Callback> callback);

  // Restores model and optimizer from a checkpoint written by fit() and continues
  // from its global step, inside an epoch if it was written there. Throws IOError
  // (io/checkpoint.h) or ValueError when the checkpoint is past options().epochs.
  io::CheckpointMeta resume(const std::string& checkpoint_path);

  // Trains from the step resume() or the last fit() left off until options().epochs
  // are done or a callback asks to stop. On an error
  // in a run over several ranks, prints it, naming the rank, and aborts the job so
  // no rank waits forever on a peer that stopped.
  TrainLog fit();

  // Ends fit() early. In one process it takes effect after the current step; over
  // several ranks after the current epoch, once every rank has seen any rank ask.
  void request_stop() { stop_requested_ = true; }

  const TrainState& state() const { return state_; }
  const TrainLog& log() const { return log_; }
  const TrainerOptions& options() const { return options_; }
  nn::Module& model() { return model_; }
  optim::Optimizer& optimizer() { return optimizer_; }
  int rank() const;
  int world_size() const;
  bool is_root() const { return rank() == 0; }

 private:
  void run_epochs();
  int64_t total_steps() const;  // steps this run ends after
  int64_t total_epochs() const;
  void serve();
  void run_one_step(const data::Batch& batch);
  void save_checkpoint(int64_t global_step);
  bool agree_to_stop();
  void gather_results();
  template <class Fn>
  void each_callback(Fn&& fn);
  [[noreturn]] void abort_job(const std::string& what);

  nn::Module& model_;
  optim::Optimizer& optimizer_;
  data::DataLoader& loader_;
  TrainerOptions options_;
  std::unique_ptr<distributed::TrainingStrategy> strategy_;
  std::vector<std::shared_ptr<Callback>> callbacks_;
  int64_t start_step_ = 0;
  std::function<Tensor(const Tensor&, const Tensor&)> loss_;  // the objective's loss, for run_step
  TrainState state_;
  TrainLog log_;
  bool stop_requested_ = false;
};

// The seed of step `global_step` of a run seeded with `seed` (NOTE [Step seeding]).
uint64_t step_seed(uint64_t seed, int64_t global_step);

}  // namespace loom::train
