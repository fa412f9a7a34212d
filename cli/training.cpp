#include "training.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "loom/autograd.h"
#include "loom/data/mnist.h"
#include "loom/data/sampling.h"
#include "loom/data/shards.h"
#include "loom/io/model_description.h"
#include "progress.h"

namespace loom::cli {
namespace {

std::vector<int64_t> range(int64_t begin, int64_t end) {
  std::vector<int64_t> idx;
  for (int64_t i = begin; i < end; ++i)
    idx.push_back(i);
  return idx;
}

Tensor objective_loss(const Tensor& output, const Tensor& target, Objective objective) {
  return objective == Objective::classify ? cross_entropy(output, target) : mse_loss(output, target);
}

// Same seed, epoch and thread count give the same dropout masks and order,
// also after --resume.
uint64_t epoch_seed(uint64_t seed, int64_t epoch) { return seed * 1000003ull + static_cast<uint64_t>(epoch); }

}  // namespace

int64_t count_correct(const Tensor& logits, const Tensor& target) {
  auto pred = argmax(logits.detach(), 1).to_vector<int64_t>();
  auto truth = target.to_vector<int64_t>();
  int64_t correct = 0;
  for (size_t i = 0; i < pred.size(); ++i)
    correct += pred[i] == truth[i];
  return correct;
}

Tensor predict(nn::Module& model, const data::Dataset& dataset, int64_t batch) {
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  std::vector<Tensor> parts;
  for (int64_t start = 0; start < dataset.size(); start += batch) {
    data::Batch b = dataset.batch_range(start, std::min(dataset.size(), start + batch));
    parts.push_back(model(b.input));
  }
  model.train(was_training);
  LOOM_CHECK(!parts.empty(), "predict: the dataset is empty");
  return concat(parts, 0);
}

Evaluation evaluate(nn::Module& model, const data::Dataset& dataset, int64_t batch, Objective objective) {
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  Evaluation ev;
  double loss_sum = 0, sq_sum = 0, y_sum = 0, y_sq_sum = 0;
  int64_t correct = 0;
  const int64_t n = dataset.size();
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t end = std::min(n, start + batch);
    data::Batch b = dataset.batch_range(start, end);
    Tensor out = model(b.input);
    loss_sum += objective_loss(out, b.target, objective).item_double() * static_cast<double>(end - start);
    if (objective == Objective::classify) {
      correct += count_correct(out, b.target);
    } else {
      auto p = out.to_vector<double>(), y = b.target.to_vector<double>();
      for (size_t i = 0; i < y.size(); ++i) {
        sq_sum += (p[i] - y[i]) * (p[i] - y[i]);
        y_sum += y[i];
        y_sq_sum += y[i] * y[i];
      }
    }
  }
  model.train(was_training);
  ev.samples = n;
  if (n > 0) {
    ev.accuracy = static_cast<double>(correct) / static_cast<double>(n);
    ev.loss = loss_sum / static_cast<double>(n);
    ev.rmse = std::sqrt(sq_sum / static_cast<double>(n));
    const double variance = y_sq_sum / n - (y_sum / n) * (y_sum / n);
    ev.r2 = variance > 0 ? 1.0 - (sq_sum / n) / variance : 0.0;
  }
  return ev;
}

void tally_batch(const Tensor& loss, const Tensor& output, const Tensor& target, Objective objective, double& loss_sum,
                 int64_t& correct, int64_t& samples) {
  const int64_t n = output.size(0);
  loss_sum += loss.item_double() * static_cast<double>(n);
  if (objective == Objective::classify)
    correct += count_correct(output, target);
  samples += n;
}

void EpochLog::add_epoch(double epoch_seconds, double loss_sum, int64_t correct, int64_t epoch_samples, double wait) {
  seconds.push_back(epoch_seconds);
  losses.push_back(epoch_samples ? loss_sum / epoch_samples : 0.0);
  accuracy.push_back(epoch_samples ? static_cast<double>(correct) / epoch_samples : 0.0);
  samples += epoch_samples;
  train_seconds += epoch_seconds;
  wait_seconds += wait;
}

EpochLog train_epochs(nn::Module& model, optim::Optimizer& optimizer, data::DataLoader& loader,
                      const optim::LRSchedule& schedule, const LoopOptions& o) {
  EpochLog log;
  const int64_t steps_per_epoch = loader.num_batches();
  for (int64_t epoch = o.start_epoch; epoch < o.epochs; ++epoch) {
    manual_seed(epoch_seed(o.seed, epoch));
    loader.set_epoch(epoch);
    model.train();
    Progress progress(epoch + 1, o.epochs, steps_per_epoch, o.quiet);
    const auto t0 = std::chrono::steady_clock::now();
    double loss_sum = 0;
    int64_t correct = 0, samples = 0, b = 0;
    while (auto batch = loader.next()) {
      const int64_t step = epoch * steps_per_epoch + b;
      if (o.before_step)
        o.before_step(step);
      const auto step_start = std::chrono::steady_clock::now();
      schedule.apply(optimizer, step);
      Tensor output = model(batch->input);
      Tensor loss = objective_loss(output, batch->target, o.objective);
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      if (o.after_step)
        o.after_step(step, std::chrono::duration<double>(std::chrono::steady_clock::now() - step_start).count());
      tally_batch(loss, output, batch->target, o.objective, loss_sum, correct, samples);
      progress.update(++b, samples, loss_sum, correct);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    progress.finish(samples, loss_sum, correct, seconds);
    log.add_epoch(seconds, loss_sum, correct, samples, loader.wait_seconds());
    if (o.after_epoch)
      o.after_epoch(epoch + 1);
  }
  return log;
}

std::shared_ptr<const data::Dataset> take_prefix(std::shared_ptr<const data::Dataset> dataset, int64_t limit) {
  if (limit <= 0 || limit >= dataset->size())
    return dataset;
  if (auto t = std::dynamic_pointer_cast<const data::TensorDataset>(dataset)) {
    return std::make_shared<data::TensorDataset>(slice(t->inputs(), 0, 0, limit).contiguous(),
                                                 slice(t->targets(), 0, 0, limit).contiguous(), t->stored_inputs());
  }
  return std::make_shared<data::SubsetDataset>(dataset, range(0, limit));
}

bool is_shard_manifest(const std::string& path) {
  const std::string suffix = ".manifest.json";
  return path.size() >= suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::shared_ptr<const data::Dataset> open_image_dataset(const std::string& path, bool train) {
  if (is_shard_manifest(path))
    return data::ShardDataset::open(path);
  return data::load_fashion_mnist_bytes(path, train);
}

std::string model_description_text(const std::string& model) {
  if (model == "mlp" || model == "cnn")
    return io::builtin_model_description(model);
  if (!std::filesystem::exists(model)) {
    LOOM_THROW(ValueError, "--model '", model, "' is neither a built-in model (mlp, cnn) nor an existing file");
  }
  std::ifstream f(model);
  LOOM_CHECK(f.good(), "cannot read model description '", model, "'");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace loom::cli
