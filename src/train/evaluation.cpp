#include "loom/train/evaluation.h"

#include <cmath>

#include "loom/autograd.h"

namespace loom::train {

Tensor objective_loss(const Tensor& output, const Tensor& target, Objective objective) {
  return objective == Objective::classify ? cross_entropy(output, target) : mse_loss(output, target);
}

int64_t count_correct(const Tensor& logits, const Tensor& target) {
  auto pred = argmax(logits.detach(), -1).to_vector<int64_t>();
  auto truth = target.to_vector<int64_t>();
  int64_t correct = 0;
  for (size_t i = 0; i < pred.size(); ++i)
    correct += pred[i] == truth[i];
  return correct;
}

Tensor predict(nn::Module& model, const data::Dataset& dataset, int64_t batch) {
  LOOM_CHECK(batch > 0, "predict: the batch size must be positive, got ", batch);
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
  LOOM_CHECK(batch > 0, "evaluate: the batch size must be positive, got ", batch);
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  Evaluation ev;
  double loss_sum = 0, sq_sum = 0, y_sum = 0, y_sq_sum = 0;
  int64_t correct = 0, positions = 0;
  const int64_t n = dataset.size();
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t end = std::min(n, start + batch);
    data::Batch b = dataset.batch_range(start, end);
    Tensor out = model(b.input);
    loss_sum += objective_loss(out, b.target, objective).item_double() * static_cast<double>(end - start);
    if (objective == Objective::classify) {
      correct += count_correct(out, b.target);
      positions += b.target.numel();
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
    ev.accuracy = positions ? static_cast<double>(correct) / static_cast<double>(positions) : 0.0;
    ev.loss = loss_sum / static_cast<double>(n);
    ev.rmse = std::sqrt(sq_sum / static_cast<double>(n));
    const double variance = y_sq_sum / n - (y_sum / n) * (y_sum / n);
    ev.r2 = variance > 0 ? 1.0 - (sq_sum / n) / variance : 0.0;
  }
  return ev;
}

}  // namespace loom::train
