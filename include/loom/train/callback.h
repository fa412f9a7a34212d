#pragma once
// Trainer callbacks: code that runs at fixed points of Trainer::fit (progress,
// metrics, profiling, early stopping, thread tuning, memory counters).
//
// Every rank of a distributed run calls its callbacks; a callback that prints or
// writes files checks trainer.is_root(). A callback may call
// trainer.request_stop() (see Trainer::request_stop for when it takes effect).
#include <cstdint>
#include <optional>

#include "loom/train/evaluation.h"

namespace loom::train {

class Trainer;

// Where fit() is, as callbacks see it.
struct TrainState {
  int64_t epoch = 0;              // the current epoch, from 0
  int64_t epochs = 0;             // epochs the run ends after
  int64_t global_step = 0;        // steps completed over the run (a resumed run continues the count)
  int64_t batch = 0;              // batches completed in this epoch
  int64_t batches_per_epoch = 0;  // this rank's batches per epoch
  // This rank's running totals over the current epoch (from its first batch, or
  // from the batch a resumed run started at).
  double loss_sum = 0;  // per-sample losses summed
  int64_t correct = 0, samples = 0;
  int64_t positions = 0;                 // targets scored: samples, or tokens for a sequence model
  double last_loss = 0;                  // the last step's mean loss
  double last_step_seconds = 0;          // the last step's wall time: forward, backward, update
  double epoch_seconds = 0;              // at on_epoch_end: the epoch's wall time
  std::optional<Evaluation> validation;  // at on_epoch_end, when TrainerOptions::validation is set
  double epoch_loss() const { return samples ? loss_sum / static_cast<double>(samples) : 0.0; }
  double epoch_accuracy() const {
    return positions ? static_cast<double>(correct) / static_cast<double>(positions) : 0.0;
  }
};

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(Trainer& trainer) {}
  virtual void on_epoch_begin(Trainer& trainer) {}
  virtual void on_step_begin(Trainer& trainer) {}  // before the step's learning rate is set
  virtual void on_step_end(Trainer& trainer) {}
  virtual void on_epoch_end(Trainer& trainer) {}  // after the epoch's checkpoint, with its validation
  virtual void on_train_end(Trainer& trainer) {}  // also after a stop request; not after an error
};

}  // namespace loom::train
