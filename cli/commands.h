#pragma once
// The `loom` subcommands. Each takes parsed options and returns an exit code;
// errors are thrown as loom::Error and reported by main().
#include <cstdint>
#include <optional>
#include <string>

#include "distributed_flags.h"
#include "thread_flag.h"

namespace loom::cli {

// The reference data sets (Debian packages dataset-fashion-mnist and fortunes).
inline constexpr const char* kDefaultImageData = "/usr/share/datasets/fashion-mnist";
inline constexpr const char* kDefaultTextData = "/usr/share/games/fortunes";

struct TrainOptions {
  std::string model = "mlp";  // built-in name or a JSON description file
  std::string data_dir = kDefaultImageData;
  std::string test_data;  // held-out images when --data is a shard manifest (manifest or IDX dir)
  std::optional<int64_t> epochs, batch;
  std::optional<int64_t> steps;         // optimizer steps instead of epochs
  std::optional<double> max_grad_norm;  // clip the gradients' global norm (0: off)
  std::optional<std::string> optimizer;
  std::optional<double> lr, momentum;
  double weight_decay = 0.0;
  std::string schedule = "constant";
  int64_t warmup_steps = 0;
  uint64_t seed = 1;
  std::optional<int> threads;
  bool threads_auto = false;  // --threads auto: tune the split on the first steps (NOTE [Thread auto-tuning])
  std::string save_path, checkpoint_path, resume_path, metrics_path;
  int64_t train_samples = 0;  // 0 = all; a prefix of the training set, for quick runs
  int64_t test_samples = 0;
  bool quiet = false;
  int workers = 0;       // loader worker threads (0 = load on the training thread)
  bool augment = false;  // random crop (padding 2) and horizontal flip, images only
  // Tabular data (--data FILE.csv).
  std::string target, pipeline, task = "auto";
  double validation = 0.2;
  int64_t skip_rows = 0;
  bool no_header = false;
  std::string delimiter = ",";  // one character
  std::string profile_path;     // --profile: Chrome trace of the run
  bool stats = false;           // --stats: allocator counters at the end
  DistributedFlags dist;        // under mpirun (distributed_flags.h)
};

struct EvalOptions {
  std::string model;  // optional when the weights file carries the description
  std::string weights_path;
  std::string output_path;  // infer: where predictions go (CSV)
  std::string data_dir = kDefaultImageData;
  int64_t batch = 1000;
  int64_t test_samples = 0;
  std::optional<int> threads;
  std::string metrics_path;
  std::string profile_path;  // eval --profile: Chrome trace of the timed pass
  bool stats = false;        // --stats: allocator counters at the end
};

int run_train(const TrainOptions& options);
int run_eval(const EvalOptions& options);
int run_infer(const EvalOptions& options);
struct InfoOptions {
  std::string model;  // --model: summarise this model instead of the machine
  int64_t batch = 1;
  bool json = false;
  std::optional<int> threads;
};

int run_info(const InfoOptions& options);

}  // namespace loom::cli
