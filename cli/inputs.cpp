#include "inputs.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "loom/autograd.h"
#include "loom/data/mnist.h"
#include "loom/data/sampling.h"
#include "loom/data/shards.h"
#include "loom/io/model_description.h"

namespace loom::cli {
namespace {

std::vector<int64_t> range(int64_t begin, int64_t end) {
  std::vector<int64_t> idx;
  for (int64_t i = begin; i < end; ++i)
    idx.push_back(i);
  return idx;
}

}  // namespace

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
  if (model == "mlp" || model == "cnn" || model == "gpt")
    return io::builtin_model_description(model);
  if (!std::filesystem::exists(model)) {
    LOOM_THROW(ValueError, "--model '", model, "' is neither a built-in model (mlp, cnn, gpt) nor an existing file");
  }
  std::ifstream f(model);
  LOOM_CHECK(f.good(), "cannot read model description '", model, "'");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace loom::cli
