#include "training.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "loom/autograd.h"

namespace loom::cli {

Evaluation evaluate(nn::Module& model, const data::TensorDataset& dataset, int64_t batch) {
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  Evaluation ev;
  double loss_sum = 0;
  int64_t correct = 0;
  const int64_t n = dataset.size();
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t end = std::min(n, start + batch);
    std::vector<int64_t> idx;
    for (int64_t i = start; i < end; ++i)
      idx.push_back(i);
    data::Batch b = dataset.batch(idx);
    Tensor logits = model(b.input);
    loss_sum += cross_entropy(logits, b.target).item_double() * static_cast<double>(end - start);
    auto pred = argmax(logits, 1).to_vector<int64_t>();
    auto truth = b.target.to_vector<int64_t>();
    for (size_t i = 0; i < pred.size(); ++i)
      correct += pred[i] == truth[i];
  }
  model.train(was_training);
  ev.samples = n;
  ev.accuracy = n ? static_cast<double>(correct) / static_cast<double>(n) : 0.0;
  ev.loss = n ? loss_sum / static_cast<double>(n) : 0.0;
  return ev;
}

std::shared_ptr<data::TensorDataset> take_prefix(const std::shared_ptr<data::TensorDataset>& dataset, int64_t limit) {
  if (limit <= 0 || limit >= dataset->size())
    return dataset;
  return std::make_shared<data::TensorDataset>(slice(dataset->inputs(), 0, 0, limit).contiguous(),
                                               slice(dataset->targets(), 0, 0, limit).contiguous());
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
