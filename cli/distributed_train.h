#pragma once
// `loom train` under mpirun: the --dist flags, the per-rank session (who prints,
// who writes files) and the strategy it hands to the Trainer
// (loom/distributed/training.h, loom/train/trainer.h).
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "distributed_flags.h"
#include "loom/train/trainer.h"

namespace loom::distributed {
class Communicator;
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
  // The strategy for the packed model and its optimizer, or null without mpirun
  // or with --dist none. Prints the start line on rank 0.
  std::unique_ptr<distributed::TrainingStrategy> make_strategy(nn::Module& model, optim::Optimizer& optimizer,
                                                               const std::string& optimizer_name,
                                                               const optim::OptimizerOptions& optimizer_options);
  // Rank 0: prints the communication summary and adds it to the metrics.
  void report(nlohmann::json& metrics, const train::TrainLog& log) const;

 private:
  [[noreturn]] void fail(const std::string& what);
  DistributedFlags flags_;
  std::string mode_name_ = "none";
  std::shared_ptr<distributed::Communicator> comm_;
  int rank_ = 0, world_ = 1;
  int64_t gradient_bytes_ = 0, data_world_ = 1;
  bool has_strategy_ = false, quiet_ = false;
};

}  // namespace loom::cli
