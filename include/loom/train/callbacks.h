#pragma once
// The callbacks loom ships: progress lines, a per-epoch metrics file, a profile of
// the run, and early stopping.
#include <chrono>
#include <cstdio>
#include <limits>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "loom/runtime/profiler.h"
#include "loom/train/callback.h"

namespace loom::train {

// Rank 0 prints each epoch's progress: a live bar on a terminal, lines at 25%, 50%
// and 75% otherwise (logs stay readable in a file or a pipe), and the epoch's loss,
// accuracy, throughput and, when there is one, its validation.
class ProgressCallback : public Callback {
 public:
  explicit ProgressCallback(std::FILE* out = stdout);
  void on_epoch_begin(Trainer& trainer) override;
  void on_step_end(Trainer& trainer) override;
  void on_epoch_end(Trainer& trainer) override;

 private:
  // Where the bar is: batches of the epoch, or steps of a max_steps run.
  struct Position {
    int64_t done, total;
  };
  Position position(const Trainer& t) const;
  std::string line(const TrainState& s, Position at, double seconds) const;
  std::FILE* out_;
  bool tty_;
  bool by_steps_ = false;  // TrainerOptions::max_steps is set
  int64_t next_plain_report_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// Rank 0 rewrites `path` atomically after every epoch: a JSON array with one object
// per epoch so far ("epoch", "global_step", "loss", "accuracy", "seconds" and, with
// validation, "validation_loss", "validation_accuracy").
class MetricsLogger : public Callback {
 public:
  explicit MetricsLogger(std::string path);
  void on_train_begin(Trainer& trainer) override;
  void on_epoch_end(Trainer& trainer) override;

 private:
  std::string path_;
  std::shared_ptr<nlohmann::json> epochs_;  // one object per epoch so far
};

// Profiles fit() (NOTE [Profiler] in runtime/profiler.h) and writes a Chrome trace
// atomically at the end of training (rank 0; every rank profiles itself).
class ProfilerCallback : public Callback {
 public:
  explicit ProfilerCallback(std::string trace_path);
  ~ProfilerCallback() override;
  void on_train_begin(Trainer& trainer) override;
  void on_train_end(Trainer& trainer) override;
  // The profile, after training.
  const runtime::ProfileData& data() const { return data_; }

 private:
  std::string path_;
  bool running_ = false;
  runtime::ProfileData data_;
};

// Stops training when the watched loss (the validation loss when the trainer has
// validation data, else the epoch's training loss) has not improved by more than
// `min_delta` for `patience` epochs in a row.
class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(int64_t patience, double min_delta = 0.0);
  void on_train_begin(Trainer& trainer) override;
  void on_epoch_end(Trainer& trainer) override;
  double best() const { return best_; }
  int64_t stopped_after_epoch() const { return stopped_after_; }  // -1: did not stop

 private:
  int64_t patience_;
  double min_delta_;
  double best_ = std::numeric_limits<double>::infinity();
  int64_t waited_ = 0, stopped_after_ = -1;
};

}  // namespace loom::train
