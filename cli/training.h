#pragma once
// The training loop and evaluation shared by `loom train`, `loom eval` and the
// image and tabular paths.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "loom/data/data_loader.h"
#include "loom/data/dataset.h"
#include "loom/nn/module.h"
#include "loom/optim/optimizer.h"
#include "loom/optim/schedule.h"

namespace loom::cli {

enum class Objective { classify, regress };  // cross-entropy with accuracy, or MSE

struct Evaluation {
  double accuracy = 0;      // a fraction (classification)
  double loss = 0;          // mean cross-entropy, or mean squared error
  double rmse = 0, r2 = 0;  // regression
  int64_t samples = 0;
};

// Samples whose argmax over logits [N, C] equals target [N].
int64_t count_correct(const Tensor& logits, const Tensor& target);
// Adds a batch (its mean loss, outputs [N, ...] and targets) to an epoch's running
// totals: the loss summed over samples, correct predictions (classification), samples.
void tally_batch(const Tensor& loss, const Tensor& output, const Tensor& target, Objective objective, double& loss_sum,
                 int64_t& correct, int64_t& samples);

// Model quality on `dataset`, without recording gradients, in eval mode.
Evaluation evaluate(nn::Module& model, const data::Dataset& dataset, int64_t batch, Objective objective);
// The model's outputs for every sample, in order.
Tensor predict(nn::Module& model, const data::Dataset& dataset, int64_t batch);

struct EpochLog {
  std::vector<double> seconds, losses, accuracy;
  int64_t samples = 0;
  double train_seconds = 0, wait_seconds = 0;
  double samples_per_s() const { return train_seconds > 0 ? samples / train_seconds : 0.0; }
  // Records a finished epoch (both training loops: train_epochs and DistSession::train).
  void add_epoch(double seconds, double loss_sum, int64_t correct, int64_t epoch_samples, double wait);
};

struct LoopOptions {
  int64_t start_epoch = 0, epochs = 1;
  uint64_t seed = 1;
  bool quiet = false;
  Objective objective = Objective::classify;
  // Called after each epoch with the number of epochs completed (checkpoints).
  std::function<void(int64_t)> after_epoch;
  // Called around every step with the global step index; after_step also gets the
  // step's wall time (forward, backward and optimizer; `--threads auto` uses it).
  std::function<void(int64_t)> before_step;
  std::function<void(int64_t, double)> after_step;
};

EpochLog train_epochs(nn::Module& model, optim::Optimizer& optimizer, data::DataLoader& loader,
                      const optim::LRSchedule& schedule, const LoopOptions& options);

// The first `limit` samples (all when limit is 0 or larger than the set).
std::shared_ptr<const data::Dataset> take_prefix(std::shared_ptr<const data::Dataset> dataset, int64_t limit);

// A dataset from --data/--test-data: a shard manifest (*.manifest.json) or an
// IDX directory (its training or test split).
std::shared_ptr<const data::Dataset> open_image_dataset(const std::string& path, bool train);
bool is_shard_manifest(const std::string& path);

// Model description JSON text for --model (a built-in name or a file path).
std::string model_description_text(const std::string& model);

}  // namespace loom::cli
