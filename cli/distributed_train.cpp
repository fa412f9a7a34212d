// `loom train` under mpirun (docs/DISTRIBUTED.md, "Training").
#include "distributed_train.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "loom/autograd.h"
#include "loom/distributed/communicator.h"
#include "loom/distributed/training.h"

namespace loom::cli {

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

DistSession::DistSession(const TrainOptions& o) : flags_(o.dist), quiet_(o.quiet) {
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

std::unique_ptr<distributed::TrainingStrategy> DistSession::make_strategy(
    nn::Module& model, optim::Optimizer& optimizer, const std::string& optimizer_name,
    const optim::OptimizerOptions& optimizer_options) {
  gradient_bytes_ = model.num_parameters() * 4;
  if (!comm_ || mode_name_ == "none")
    return nullptr;
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
  std::unique_ptr<distributed::TrainingStrategy> strategy;
  try {
    strategy = distributed::make_strategy(d, comm_, model, optimizer);
  } catch (const Error& e) {
    fail(e.message());
  }
  has_strategy_ = true;
  data_world_ = strategy->data_world();
  if (is_root() && !quiet_) {
    const std::string extra = strategy->describe();
    std::printf("distributed: %s over %d ranks%s%s, allreduce %s, compression %s, timeout %gs\n", mode_name_.c_str(),
                world_, extra.empty() ? "" : ", ", extra.c_str(), flags_.allreduce.c_str(), flags_.compress.c_str(),
                flags_.comm_timeout);
  }
  return strategy;
}

void DistSession::fail(const std::string& what) {
  const std::string msg = "rank " + std::to_string(rank_) + " of " + std::to_string(world_) + ": " + what;
  std::fprintf(stderr, "loom: error: %s\n", msg.c_str());
  std::fflush(stderr);
  std::fflush(stdout);
  if (comm_ && world_ > 1)
    comm_->abort(msg);
  throw DistributedError(msg);
}

void DistSession::report(nlohmann::json& j, const train::TrainLog& log) const {
  j["world_size"] = world_;
  j["dist"] = has_strategy_ ? mode_name_ : "none";
  if (!comm_)
    return;
  const uint64_t bytes = comm_->bytes_sent();
  const double per_step = log.steps > 0 ? static_cast<double>(bytes) / static_cast<double>(log.steps) : 0.0;
  j["bytes_sent"] = bytes;
  j["bytes_sent_per_step"] = per_step;
  j["gradient_bytes"] = gradient_bytes_;
  j["compress"] = flags_.compress;
  j["allreduce"] = flags_.allreduce;
  // Gradient (or update) traffic per step and training rank, with and without the codec.
  const double per_rank_step = log.steps > 0 ? static_cast<double>(log.steps * data_world_) : 1.0;
  const double sent = log.traffic_bytes / per_rank_step, raw = log.traffic_raw_bytes / per_rank_step;
  j["grad_bytes_per_step"] = sent;
  j["grad_bytes_per_step_uncompressed"] = raw;
  if (has_strategy_ && is_root()) {
    std::printf(
        "communication: rank 0 sent %.2f MB, %.1f KB per step (%s, compression %s; f32 gradients are %.1f KB); "
        "gradient traffic per training rank and step %.1f KB, uncompressed %.1f KB (%.1fx)\n",
        static_cast<double>(bytes) / 1e6, per_step / 1e3, mode_name_.c_str(), flags_.compress.c_str(),
        static_cast<double>(gradient_bytes_) / 1e3, sent / 1e3, raw / 1e3, sent > 0 ? raw / sent : 0.0);
  }
}

}  // namespace loom::cli
