// Trainer::fit: the one training loop (NOTE [Step seeding] in trainer.h).
#include "loom/train/trainer.h"

#include <chrono>
#include <cstdio>

#include "loom/autograd.h"
#include "loom/core/generator.h"
#include "loom/distributed/communicator.h"

namespace loom::train {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// One process: the optimizer's own step.
class SingleProcess final : public distributed::TrainingStrategy {
 public:
  SingleProcess() : TrainingStrategy(nullptr) {}
  distributed::DistMode mode() const override { return distributed::DistMode::none; }
  void step(optim::Optimizer& optimizer, int64_t) override { optimizer.step(); }
  bool checkpointable() const override { return true; }
};

}  // namespace

uint64_t step_seed(uint64_t seed, int64_t global_step) {
  return seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(global_step);
}

Trainer::Trainer(nn::Module& model, optim::Optimizer& optimizer, data::DataLoader& loader, TrainerOptions options)
    : model_(model),
      optimizer_(optimizer),
      loader_(loader),
      options_(std::move(options)),
      strategy_(std::make_unique<SingleProcess>()) {
  LOOM_CHECK(options_.epochs >= 0, "Trainer: epochs must be >= 0, got ", options_.epochs);
  LOOM_CHECK(options_.checkpoint.every_steps >= 0, "Trainer: checkpoint.every_steps must be >= 0, got ",
             options_.checkpoint.every_steps);
  LOOM_CHECK(options_.checkpoint.every_steps == 0 || !options_.checkpoint.path.empty(),
             "Trainer: checkpoint.every_steps needs checkpoint.path (where to write the checkpoint)");
  LOOM_CHECK(options_.validation_batch > 0, "Trainer: validation_batch must be positive, got ",
             options_.validation_batch);
  loss_ = [objective = options_.objective](const Tensor& out, const Tensor& y) {
    return objective_loss(out, y, objective);
  };
}

Trainer::~Trainer() = default;

void Trainer::set_strategy(std::unique_ptr<distributed::TrainingStrategy> strategy) {
  LOOM_CHECK(strategy != nullptr, "Trainer::set_strategy: the strategy is null");
  strategy_ = std::move(strategy);
}

void Trainer::add_callback(std::shared_ptr<Callback> callback) {
  LOOM_CHECK(callback != nullptr, "Trainer::add_callback: the callback is null");
  callbacks_.push_back(std::move(callback));
}

int Trainer::rank() const { return strategy_->communicator() ? strategy_->communicator()->rank() : 0; }
int Trainer::world_size() const { return strategy_->communicator() ? strategy_->communicator()->size() : 1; }

template <class Fn>
void Trainer::each_callback(Fn&& fn) {
  for (auto& c : callbacks_)
    fn(*c);
}

io::CheckpointMeta Trainer::resume(const std::string& checkpoint_path) {
  const io::CheckpointMeta meta = io::load_checkpoint(checkpoint_path, model_, &optimizer_);
  const int64_t per_epoch = loader_.num_batches();
  LOOM_CHECK(meta.global_step >= 0, checkpoint_path, ": negative global step ", meta.global_step);
  if (meta.global_step > total_steps()) {
    LOOM_THROW(ValueError, "resume: ", checkpoint_path, " is at step ", meta.global_step, " (epoch ", meta.epoch,
               ") but this run ends after ",
               options_.max_steps > 0
                   ? std::to_string(options_.max_steps) + " steps"
                   : std::to_string(options_.epochs) + " epochs of " + std::to_string(per_epoch) + " steps");
  }
  start_step_ = meta.global_step;
  return meta;
}

int64_t Trainer::total_steps() const {
  return options_.max_steps > 0 ? options_.max_steps : options_.epochs * loader_.num_batches();
}

int64_t Trainer::total_epochs() const {
  const int64_t per_epoch = loader_.num_batches();
  if (options_.max_steps <= 0 || per_epoch == 0)
    return options_.epochs;
  return (options_.max_steps + per_epoch - 1) / per_epoch;
}

TrainLog Trainer::fit() {
  log_ = {};
  stop_requested_ = false;
  const int64_t per_epoch = loader_.num_batches();
  const auto& lo = loader_.options();
  if (lo.rank != strategy_->data_rank() || lo.world_size != strategy_->data_world()) {
    LOOM_THROW(ValueError, "Trainer: the loader reads shard ", lo.rank, " of ", lo.world_size,
               " but the strategy trains as ", strategy_->data_rank(), " of ", strategy_->data_world(),
               "; build the DataLoader with rank = data_rank() and world_size = data_world()");
  }
  if (!options_.checkpoint.path.empty() && !strategy_->checkpointable()) {
    LOOM_THROW(ValueError, "checkpoints with --dist ", distributed::dist_mode_name(strategy_->mode()),
               " are not supported: the ranks' models (or optimizer states) differ between rounds; use ddp");
  }
  LOOM_CHECK(per_epoch > 0 || total_epochs() == 0, "Trainer: the loader gives no batches (", loader_.dataset().size(),
             " samples, batch ", lo.batch_size, ")");
  state_ = {};
  state_.epochs = total_epochs();
  state_.batches_per_epoch = per_epoch;
  state_.global_step = start_step_;
  try {
    strategy_->start();
    each_callback([&](Callback& c) { c.on_train_begin(*this); });
    if (strategy_->trains())
      run_epochs();
    else
      serve();
    strategy_->finish();
    if (strategy_->communicator())
      gather_results();
  } catch (const Error& e) {
    if (world_size() > 1)
      abort_job(e.message());
    throw;
  }
  start_step_ = state_.global_step;  // a later fit() continues from here
  each_callback([&](Callback& c) { c.on_train_end(*this); });
  return log_;
}

void Trainer::serve() {  // a parameter-server rank answers every worker's steps
  const int64_t steps = total_steps() - start_step_;
  strategy_->serve(steps);
  log_.steps = steps;
}

void Trainer::run_epochs() {
  const int64_t per_epoch = state_.batches_per_epoch;
  if (per_epoch == 0)
    return;  // epochs == 0 (fit() refuses an empty loader otherwise)
  const CheckpointPolicy& ckpt = options_.checkpoint;
  const int64_t last_step = total_steps(), epochs = total_epochs();
  for (int64_t epoch = start_step_ / per_epoch; epoch < epochs && state_.global_step < last_step; ++epoch) {
    const int64_t first_batch = state_.global_step - epoch * per_epoch;
    loader_.set_epoch(epoch, first_batch);
    model_.train();
    state_.epoch = epoch;
    state_.batch = first_batch;
    state_.loss_sum = 0;
    state_.correct = state_.samples = state_.positions = 0;
    state_.validation.reset();
    each_callback([&](Callback& c) { c.on_epoch_begin(*this); });
    const auto t0 = Clock::now();
    while (auto batch = loader_.next()) {
      distributed::maybe_inject_fault(rank(), state_.global_step);
      each_callback([&](Callback& c) { c.on_step_begin(*this); });
      run_one_step(*batch);
      each_callback([&](Callback& c) { c.on_step_end(*this); });
      const int64_t step = state_.global_step;
      const bool epoch_checkpoint_here = ckpt.every_epoch && step % per_epoch == 0;
      if (ckpt.every_steps > 0 && step % ckpt.every_steps == 0 && !epoch_checkpoint_here)
        save_checkpoint(step);
      if (stop_requested_ && world_size() == 1)
        break;
      if (step >= last_step)
        break;  // max_steps: this epoch ends here
    }
    state_.epoch_seconds = seconds_since(t0);
    log_.seconds.push_back(state_.epoch_seconds);
    log_.losses.push_back(state_.epoch_loss());
    log_.accuracy.push_back(state_.epoch_accuracy());
    log_.samples += state_.samples;
    log_.positions += state_.positions;
    log_.train_seconds += state_.epoch_seconds;
    log_.wait_seconds += loader_.wait_seconds();
    if (ckpt.every_epoch)
      save_checkpoint(state_.global_step);
    if (options_.validation) {
      state_.validation = evaluate(model_, *options_.validation, options_.validation_batch, options_.objective);
      log_.validation.push_back(*state_.validation);
    }
    each_callback([&](Callback& c) { c.on_epoch_end(*this); });
    if (agree_to_stop()) {
      log_.stopped_early = state_.global_step < last_step;
      break;
    }
  }
}

void Trainer::run_one_step(const data::Batch& batch) {
  const int64_t step = state_.global_step;
  manual_seed(step_seed(options_.seed, step));
  const auto t0 = Clock::now();
  if (options_.schedule)
    options_.schedule->apply(optimizer_, step);
  distributed::StepOutput out = strategy_->run_step({model_, optimizer_, batch.input, batch.target, loss_, step});
  state_.last_step_seconds = seconds_since(t0);
  const int64_t n = out.output.size(0);
  state_.last_loss = out.loss.item_double();
  state_.loss_sum += state_.last_loss * static_cast<double>(n);
  if (options_.objective == Objective::classify) {
    state_.correct += count_correct(out.output, batch.target);
    state_.positions += batch.target.numel();
  }
  state_.samples += n;
  ++state_.batch;
  ++state_.global_step;
  ++log_.steps;
}

void Trainer::save_checkpoint(int64_t global_step) {
  if (options_.checkpoint.path.empty() || !is_root())
    return;
  io::CheckpointMeta meta;
  meta.epoch = global_step / state_.batches_per_epoch;
  meta.global_step = global_step;
  meta.seed = options_.seed;
  meta.extra = options_.checkpoint.extra;
  if (world_size() > 1)
    meta.extra["world_size"] = std::to_string(world_size());
  io::save_checkpoint(options_.checkpoint.path, model_, &optimizer_, meta);
}

bool Trainer::agree_to_stop() {
  if (world_size() == 1)
    return stop_requested_;
  // Only where every rank trains (not with parameter servers, which are not in this loop).
  if (strategy_->data_world() != world_size())
    return false;
  int stop = stop_requested_ ? 1 : 0;
  strategy_->communicator()->allreduce(&stop, 1, DType::i32, distributed::ReduceOp::max);
  return stop != 0;
}

void Trainer::gather_results() {
  auto& comm = *strategy_->communicator();
  const distributed::CompressionReport mine = strategy_->traffic();
  double sums[2] = {static_cast<double>(mine.bytes_sent), static_cast<double>(mine.raw_bytes)};
  comm.allreduce(sums, 2, DType::f64, distributed::ReduceOp::sum);
  log_.traffic_bytes = sums[0];
  log_.traffic_raw_bytes = sums[1];
  // Rank 0 reports the run; where it only served (ps), it takes the first worker's log.
  int first_trainer = strategy_->trains() ? rank() : world_size();
  comm.allreduce(&first_trainer, 1, DType::i32, distributed::ReduceOp::min);
  if (first_trainer == 0 || first_trainer == world_size())
    return;
  int64_t epochs = static_cast<int64_t>(log_.losses.size());
  comm.broadcast(&epochs, sizeof epochs, first_trainer);
  std::vector<double> flat(static_cast<size_t>(3 * epochs + 4));
  if (rank() == first_trainer) {
    for (int64_t e = 0; e < epochs; ++e) {
      flat[e] = log_.seconds[e];
      flat[epochs + e] = log_.losses[e];
      flat[2 * epochs + e] = log_.accuracy[e];
    }
    flat[3 * epochs] = static_cast<double>(log_.samples);
    flat[3 * epochs + 1] = log_.train_seconds;
    flat[3 * epochs + 2] = log_.wait_seconds;
    flat[3 * epochs + 3] = static_cast<double>(log_.positions);
  }
  comm.broadcast(flat.data(), flat.size() * sizeof(double), first_trainer);
  log_.seconds.assign(flat.begin(), flat.begin() + epochs);
  log_.losses.assign(flat.begin() + epochs, flat.begin() + 2 * epochs);
  log_.accuracy.assign(flat.begin() + 2 * epochs, flat.begin() + 3 * epochs);
  log_.samples = static_cast<int64_t>(flat[3 * epochs]);
  log_.train_seconds = flat[3 * epochs + 1];
  log_.wait_seconds = flat[3 * epochs + 2];
  log_.positions = static_cast<int64_t>(flat[3 * epochs + 3]);
}

void Trainer::abort_job(const std::string& what) {
  const std::string msg = "rank " + std::to_string(rank()) + " of " + std::to_string(world_size()) + ": " + what;
  std::fprintf(stderr, "loom: error: %s\n", msg.c_str());
  std::fflush(stderr);
  std::fflush(stdout);
  if (strategy_->communicator())
    strategy_->communicator()->abort(msg);
  throw DistributedError(msg);  // (abort does not return)
}

}  // namespace loom::train
