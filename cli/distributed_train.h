#pragma once
// `loom train` under mpirun: the --dist flags, the per-rank session (who prints,
// who writes files, which data shard) and the training loop that calls the
// distributed strategy (loom/distributed/training.h). Also runs single-process
// training when --checkpoint-every asks for checkpoints inside an epoch.
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "distributed_flags.h"
#include "training.h"

namespace loom::distributed {
class Communicator;
class TrainingStrategy;
}  // namespace loom::distributed

namespace loom::cli {

struct TrainOptions;

class DistSession {
 public:
  explicit DistSession(const TrainOptions& options);
  ~DistSession();
  // The options this rank acts on: ranks other than 0 are quiet and write no files.
  TrainOptions adjusted(const TrainOptions& options) const;
  bool is_root() const { return rank_ == 0; }
  int world_size() const { return world_; }
  // Builds the strategy for the packed model and its optimizer.
  void attach(nn::Module& model, optim::Optimizer& optimizer, const std::string& optimizer_name,
              const optim::OptimizerOptions& optimizer_options, const std::string& description);
  int64_t data_rank() const;
  int64_t data_world() const;
  // Where a --resume checkpoint left off (its global_step).
  void resume_at(int64_t global_step) { start_step_ = global_step; }
  // True when train() must run instead of train_epochs().
  bool own_loop() const { return strategy_ != nullptr || flags_.checkpoint_every > 0 || start_step_ >= 0; }
  EpochLog train(nn::Module& model, optim::Optimizer& optimizer, data::DataLoader& loader,
                 const optim::LRSchedule& schedule, const LoopOptions& loop);
  // Rank 0: prints the communication summary and adds it to the metrics.
  void report(nlohmann::json& metrics, const EpochLog& log);

 private:
  [[noreturn]] void fail(const std::string& what);
  // Every rank, after training: sums the strategies' traffic (compressed and raw
  // bytes) over ranks, and gives a rank 0 that did not train (a parameter server)
  // the first training rank's log, so it reports losses and throughput.
  void gather_results(EpochLog& log);
  DistributedFlags flags_;
  std::string mode_name_ = "none";
  std::shared_ptr<distributed::Communicator> comm_;
  std::unique_ptr<distributed::TrainingStrategy> strategy_;
  int rank_ = 0, world_ = 1;
  int64_t start_step_ = -1, steps_ = 0, gradient_bytes_ = 0;
  std::string checkpoint_path_, description_;
  uint64_t seed_ = 1;
  bool quiet_ = false;
  double traffic_sent_ = 0, traffic_raw_ = 0;  // all ranks, after train()
};

}  // namespace loom::cli
