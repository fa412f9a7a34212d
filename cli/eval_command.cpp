// loom eval: test-set accuracy of saved weights.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "loom/data.h"
#include "loom/io.h"
#include "training.h"

namespace loom::cli {

int run_eval(const EvalOptions& o) {
  apply_threads(o.threads);
  std::map<std::string, std::string> metadata;
  nn::NamedTensors weights = io::load_safetensors(o.weights_path, &metadata);
  std::string description;
  if (!o.model.empty()) {
    description = model_description_text(o.model);
  } else {
    auto it = metadata.find("loom.model_description");
    LOOM_CHECK(it != metadata.end(), o.weights_path,
               " does not say which model it holds; pass --model (mlp, cnn or a description file)");
    description = it->second;
  }
  auto model = io::model_from_json_text(description, o.model.empty() ? o.weights_path : o.model);
  model->load_state_dict(weights);
  auto test_set = take_prefix(data::load_fashion_mnist(o.data_dir, false), o.test_samples);
  Evaluation ev = evaluate(*model, *test_set, o.batch);
  std::printf("test accuracy %.2f%% (%lld samples), test loss %.4f\n", 100 * ev.accuracy,
              static_cast<long long>(ev.samples), ev.loss);
  if (!o.metrics_path.empty()) {
    nlohmann::json j{{"test_accuracy", ev.accuracy}, {"test_loss", ev.loss}, {"samples", ev.samples}};
    const std::string text = j.dump(2) + "\n";
    io::write_file_atomically(o.metrics_path, [&](std::FILE* f) { std::fwrite(text.data(), 1, text.size(), f); });
  }
  return 0;
}

}  // namespace loom::cli
