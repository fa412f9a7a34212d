#pragma once
// What the commands read: datasets from --data/--test-data and model descriptions
// from --model. Training and evaluation themselves are the library's (loom/train).
#include <memory>
#include <string>

#include "loom/data/dataset.h"
#include "loom/train/evaluation.h"

namespace loom::cli {

using train::Evaluation;
using train::Objective;

// The first `limit` samples (all when limit is 0 or larger than the set).
std::shared_ptr<const data::Dataset> take_prefix(std::shared_ptr<const data::Dataset> dataset, int64_t limit);

// A dataset from --data/--test-data: a shard manifest (*.manifest.json) or an
// IDX directory (its training or test split).
std::shared_ptr<const data::Dataset> open_image_dataset(const std::string& path, bool train);
bool is_shard_manifest(const std::string& path);

// Model description JSON text for --model (a built-in name or a file path).
std::string model_description_text(const std::string& model);

}  // namespace loom::cli
