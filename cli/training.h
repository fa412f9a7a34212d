#pragma once
// Pieces of the training loop shared by `loom train` and `loom eval`.
#include <memory>
#include <string>

#include "loom/data/dataset.h"
#include "loom/io/model_description.h"
#include "loom/nn/module.h"

namespace loom::cli {

struct Evaluation {
  double accuracy = 0;  // a fraction
  double loss = 0;      // mean cross-entropy
  int64_t samples = 0;
};

// Model and test-set accuracy without recording gradients, in eval mode.
Evaluation evaluate(nn::Module& model, const data::TensorDataset& dataset, int64_t batch);

// The first `limit` samples (all when limit is 0 or larger than the set).
std::shared_ptr<data::TensorDataset> take_prefix(const std::shared_ptr<data::TensorDataset>& dataset, int64_t limit);

// Model description JSON text for --model (a built-in name or a file path).
std::string model_description_text(const std::string& model);

}  // namespace loom::cli
