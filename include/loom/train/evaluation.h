#pragma once
// Model quality and predictions over a dataset, without recording gradients.
#include <cstdint>

#include "loom/data/dataset.h"
#include "loom/nn/module.h"

namespace loom::train {

enum class Objective { classify, regress };  // cross-entropy with accuracy, or MSE

// The objective's mean loss of `output` against `target` (the training loss).
Tensor objective_loss(const Tensor& output, const Tensor& target, Objective objective);

struct Evaluation {
  double accuracy = 0;      // a fraction of the positions (samples, or a sequence's tokens)
  double loss = 0;          // mean cross-entropy, or mean squared error
  double rmse = 0, r2 = 0;  // regression
  int64_t samples = 0;
};

// Positions whose argmax over logits [..., C] equals target [...] (samples of
// [N, C] logits, or every token of [N, T, C] sequence logits).
int64_t count_correct(const Tensor& logits, const Tensor& target);

// Model quality on `dataset` in batches of `batch`, in eval mode (the model's
// training flag is restored afterwards).
Evaluation evaluate(nn::Module& model, const data::Dataset& dataset, int64_t batch, Objective objective);

// The model's outputs for every sample, in order, concatenated along dim 0.
Tensor predict(nn::Module& model, const data::Dataset& dataset, int64_t batch);

}  // namespace loom::train
