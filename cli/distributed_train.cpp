// `loom train` under mpirun (docs/DISTRIBUTED.md, "Training").
#include "distributed_train.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "loom/autograd.h"
#include "loom/distributed/communicator.h"
#include "loom/distributed/training.h"
#include "loom/io/checkpoint.h"
#include "progress.h"

namespace loom::cli {
namespace {

// The same per-epoch seed as train_epochs (cli/training.cpp), so --dist none and
// DDP see the same dropout masks and data order as a plain run.
uint64_t epoch_seed(uint64_t seed, int64_t epoch) { return seed * 1000003ull + static_cast<uint64_t>(epoch); }

}  // namespace

void add_distributed_flags(CLI::App* t, DistributedFlags& f) {
  t->add_option("--dist", f.dist,
                "Distributed mode under mpirun: none, ddp, ps, localsgd, easgd (default: ddp with > 1 rank)")
      ->check(CLI::IsMember({"auto", "none", "ddp", "ps", "localsgd", "easgd"}))
      ->capture_default_str();
  t->add_option("--allreduce", f.allreduce,
                "Allreduce algorithm: auto, ring, rd (recursive doubling), native, shm (shared memory, "
                "every rank on one node; auto picks it there)")
      ->check(CLI::IsMember({"auto", "ring", "rd", "native", "shm"}))
      ->capture_default_str();
  t->add_option("--bucket-mb", f.bucket_mb, "DDP: gradient bucket size in MB")
      ->check(CLI::Range(0.001, 4096.0))
      ->capture_default_str();
  t->add_option("--sync-every", f.sync_every, "localsgd/easgd: steps between averaging rounds")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40))
      ->capture_default_str();
  t->add_option("--ps-mode", f.ps_mode, "Parameter server: sync, async or ssp (bounded staleness)")
      ->check(CLI::IsMember({"sync", "async", "ssp"}))
      ->capture_default_str();
  t->add_option("--staleness", f.staleness, "ps ssp: steps a worker may run ahead of the slowest")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  t->add_option("--servers", f.servers, "ps: server ranks (the first ones); the rest train")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  t->add_option("--easgd-alpha", f.easgd_alpha, "easgd: moving rate (default 0.9 / ranks)")
      ->check(CLI::Range(0.0, 1.0));
  t->add_option("--compress", f.compress, "Gradient compression: none, topk, qsgd (8-bit), fp16")
      ->check(CLI::IsMember({"none", "topk", "qsgd", "fp16"}))
      ->capture_default_str();
  t->add_option("--topk-ratio", f.topk_ratio, "topk: fraction of entries sent")
      ->check(CLI::Range(1e-6, 1.0))
      ->capture_default_str();
  t->add_option("--comm-timeout", f.comm_timeout, "Seconds any rank waits for another before the job stops")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  t->add_option("--checkpoint-every", f.checkpoint_every,
                "Also write --checkpoint every N steps (rank 0, atomically); --resume continues mid-epoch")
      ->check(CLI::NonNegativeNumber);
}

DistSession::DistSession(const TrainOptions& o) : flags_(o.dist), seed_(o.seed), quiet_(o.quiet) {
  checkpoint_path_ = o.checkpoint_path;
  LOOM_CHECK(flags_.checkpoint_every == 0 || !o.checkpoint_path.empty(),
             "--checkpoint-every needs --checkpoint PATH (where to write the checkpoint)");
  const bool under_mpi = distributed::launched_by_mpi();
  if (!under_mpi) {
    if (flags_.dist != "auto" && flags_.dist != "none" && !o.quiet)
      std::printf("note: --dist %s without mpirun: training in one process\n", flags_.dist.c_str());
    return;
  }
  comm_ = distributed::mpi_world();
  comm_->set_timeout_seconds(flags_.comm_timeout);
  rank_ = comm_->rank();
  world_ = comm_->size();
  mode_name_ = flags_.dist == "auto" ? (world_ > 1 ? "ddp" : "none") : flags_.dist;
}

DistSession::~DistSession() = default;

TrainOptions DistSession::adjusted(const TrainOptions& o) const {
  TrainOptions a = o;
  if (!is_root()) {
    a.quiet = true;
    a.save_path.clear();
    a.metrics_path.clear();
    a.checkpoint_path.clear();
  }
  return a;
}

void DistSession::attach(nn::Module& model, optim::Optimizer& optimizer, const std::string& optimizer_name,
                         const optim::OptimizerOptions& optimizer_options, const std::string& description) {
  description_ = description;
  gradient_bytes_ = model.num_parameters() * 4;
  if (!comm_ || mode_name_ == "none")
    return;
  distributed::DistOptions d;
  d.mode = distributed::parse_dist_mode(mode_name_);
  d.algorithm = distributed::parse_algorithm(flags_.allreduce);
  d.bucket_mb = flags_.bucket_mb;
  d.sync_every = flags_.sync_every;
  d.ps_mode = distributed::parse_ps_mode(flags_.ps_mode);
  d.staleness = flags_.staleness;
  d.servers = flags_.servers;
  d.easgd_alpha = flags_.easgd_alpha;
  d.compress = flags_.compress;
  d.topk_ratio = flags_.topk_ratio;
  d.optimizer = optimizer_name;
  d.optimizer_options = optimizer_options;
  try {
    strategy_ = distributed::make_strategy(d, comm_, model, optimizer);
  } catch (const Error& e) {
    fail(e.message());
  }
  LOOM_CHECK(checkpoint_path_.empty() || strategy_->checkpointable(), "--checkpoint with --dist ", mode_name_,
             " is not supported: the ranks' models (or optimizer states) differ between rounds; use --dist ddp");
  if (is_root() && !quiet_) {
    const std::string extra = strategy_->describe();
    std::printf("distributed: %s over %d ranks%s%s, allreduce %s, compression %s, timeout %gs\n", mode_name_.c_str(),
                world_, extra.empty() ? "" : ", ", extra.c_str(), flags_.allreduce.c_str(), flags_.compress.c_str(),
                flags_.comm_timeout);
  }
}

int64_t DistSession::data_rank() const { return strategy_ ? strategy_->data_rank() : 0; }
int64_t DistSession::data_world() const { return strategy_ ? strategy_->data_world() : 1; }

void DistSession::fail(const std::string& what) {
  const std::string msg = "rank " + std::to_string(rank_) + " of " + std::to_string(world_) + ": " + what;
  std::fprintf(stderr, "loom: error: %s\n", msg.c_str());
  std::fflush(stderr);
  std::fflush(stdout);
  if (comm_ && world_ > 1)
    comm_->abort(msg);
  throw DistributedError(msg);
}

EpochLog DistSession::train(nn::Module& model, optim::Optimizer& optimizer, data::DataLoader& loader,
                            const optim::LRSchedule& schedule, const LoopOptions& o) {
  EpochLog log;
  const int64_t per_epoch = loader.num_batches();
  const int64_t total = o.epochs * per_epoch;
  int64_t step = start_step_ >= 0 ? start_step_ : o.start_epoch * per_epoch;
  const int64_t first_step = step;
  auto save = [&](int64_t global_step) {
    io::CheckpointMeta meta;
    meta.epoch = global_step / per_epoch;
    meta.global_step = global_step;
    meta.seed = seed_;
    meta.extra["model_description"] = description_;
    if (world_ > 1)
      meta.extra["world_size"] = std::to_string(world_);
    io::save_checkpoint(checkpoint_path_, model, &optimizer, meta);
  };
  try {
    if (strategy_)
      strategy_->start();
    if (strategy_ && !strategy_->trains()) {  // a parameter server rank
      const auto t0 = std::chrono::steady_clock::now();
      strategy_->serve(total - step);
      strategy_->finish();
      gather_results(log);
      steps_ = total - first_step;
      return log;
    }
    for (int64_t epoch = step / per_epoch; epoch < o.epochs; ++epoch) {
      manual_seed(epoch_seed(o.seed, epoch));
      loader.set_epoch(epoch, step - epoch * per_epoch);
      model.train();
      Progress progress(epoch + 1, o.epochs, per_epoch, o.quiet);
      const auto t0 = std::chrono::steady_clock::now();
      double loss_sum = 0;
      int64_t correct = 0, samples = 0, b = step - epoch * per_epoch;
      while (auto batch = loader.next()) {
        distributed::maybe_inject_fault(rank_, step);
        if (o.before_step)
          o.before_step(step);
        const auto step_start = std::chrono::steady_clock::now();
        schedule.apply(optimizer, step);
        Tensor output = model(batch->input);
        Tensor loss =
            o.objective == Objective::classify ? cross_entropy(output, batch->target) : mse_loss(output, batch->target);
        optimizer.zero_grad();
        if (strategy_)
          strategy_->before_backward(loss);
        loss.backward();
        if (strategy_)
          strategy_->step(optimizer, step);
        else
          optimizer.step();
        if (o.after_step)
          o.after_step(step, std::chrono::duration<double>(std::chrono::steady_clock::now() - step_start).count());
        ++step;
        tally_batch(loss, output, batch->target, o.objective, loss_sum, correct, samples);
        progress.update(++b, samples, loss_sum, correct);
        if (flags_.checkpoint_every > 0 && step % flags_.checkpoint_every == 0 && step < total &&
            !checkpoint_path_.empty() && is_root())
          save(step);
      }
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      progress.finish(samples, loss_sum, correct, seconds);
      log.add_epoch(seconds, loss_sum, correct, samples, loader.wait_seconds());
      if (o.after_epoch)
        o.after_epoch(epoch + 1);
    }
    if (strategy_) {
      strategy_->finish();
      gather_results(log);
    }
  } catch (const Error& e) {
    if (world_ > 1)
      fail(e.message());
    throw;
  }
  steps_ = step - first_step;
  return log;
}

void DistSession::gather_results(EpochLog& log) {
  const distributed::CompressionReport mine = strategy_->traffic();
  double sums[2] = {static_cast<double>(mine.bytes_sent), static_cast<double>(mine.raw_bytes)};
  comm_->allreduce(sums, 2, DType::f64, distributed::ReduceOp::sum);
  traffic_sent_ = sums[0];
  traffic_raw_ = sums[1];
  // Rank 0 reports the run; where it only served (ps), it takes the first worker's log.
  int first_trainer = strategy_->trains() ? rank_ : world_;
  comm_->allreduce(&first_trainer, 1, DType::i32, distributed::ReduceOp::min);
  if (first_trainer == 0 || first_trainer == world_)
    return;
  int64_t epochs = static_cast<int64_t>(log.losses.size());
  comm_->broadcast(&epochs, sizeof epochs, first_trainer);
  std::vector<double> flat(static_cast<size_t>(3 * epochs + 3));
  if (rank_ == first_trainer) {
    for (int64_t e = 0; e < epochs; ++e) {
      flat[e] = log.seconds[e];
      flat[epochs + e] = log.losses[e];
      flat[2 * epochs + e] = log.accuracy[e];
    }
    flat[3 * epochs] = static_cast<double>(log.samples);
    flat[3 * epochs + 1] = log.train_seconds;
    flat[3 * epochs + 2] = log.wait_seconds;
  }
  comm_->broadcast(flat.data(), flat.size() * sizeof(double), first_trainer);
  log.seconds.assign(flat.begin(), flat.begin() + epochs);
  log.losses.assign(flat.begin() + epochs, flat.begin() + 2 * epochs);
  log.accuracy.assign(flat.begin() + 2 * epochs, flat.begin() + 3 * epochs);
  log.samples = static_cast<int64_t>(flat[3 * epochs]);
  log.train_seconds = flat[3 * epochs + 1];
  log.wait_seconds = flat[3 * epochs + 2];
}

void DistSession::report(nlohmann::json& j, const EpochLog& log) {
  j["world_size"] = world_;
  j["dist"] = strategy_ ? mode_name_ : "none";
  if (!comm_)
    return;
  const uint64_t bytes = comm_->bytes_sent();
  const double per_step = steps_ > 0 ? static_cast<double>(bytes) / static_cast<double>(steps_) : 0.0;
  j["bytes_sent"] = bytes;
  j["bytes_sent_per_step"] = per_step;
  j["gradient_bytes"] = gradient_bytes_;
  j["compress"] = flags_.compress;
  j["allreduce"] = flags_.allreduce;
  // Gradient (or update) traffic per step and training rank, with and without the codec.
  const double per_rank_step = steps_ > 0 ? static_cast<double>(steps_ * data_world()) : 1.0;
  const double sent = traffic_sent_ / per_rank_step, raw = traffic_raw_ / per_rank_step;
  j["grad_bytes_per_step"] = sent;
  j["grad_bytes_per_step_uncompressed"] = raw;
  if (strategy_ && is_root()) {
    std::printf(
        "communication: rank 0 sent %.2f MB, %.1f KB per step (%s, compression %s; f32 gradients are %.1f KB); "
        "gradient traffic per training rank and step %.1f KB, uncompressed %.1f KB (%.1fx)\n",
        static_cast<double>(bytes) / 1e6, per_step / 1e3, mode_name_.c_str(), flags_.compress.c_str(),
        static_cast<double>(gradient_bytes_) / 1e3, sent / 1e3, raw / 1e3, sent > 0 ? raw / sent : 0.0);
  }
}

}  // namespace loom::cli
