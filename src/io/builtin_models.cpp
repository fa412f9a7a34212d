// The built-in model descriptions (the reference models of docs/ and the CLI).
#include <array>
#include <utility>

#include "loom/core/error.h"
#include "loom/io/model_description.h"

namespace loom::io {
namespace {

constexpr const char* kMlp = R"({
  "name": "mlp",
  "input_shape": [1, 28, 28],
  "layers": [
    {"type": "flatten"},
    {"type": "linear", "in": 784, "out": 256},
    {"type": "relu"},
    {"type": "linear", "in": 256, "out": 128},
    {"type": "relu"},
    {"type": "linear", "in": 128, "out": 10}
  ],
  "training": {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "batch": 64, "epochs": 3}
}
)";

constexpr const char* kCnn = R"({
  "name": "cnn",
  "input_shape": [1, 28, 28],
  "layers": [
    {"type": "conv2d", "in": 1, "out": 32, "kernel": 3, "padding": 1},
    {"type": "relu"},
    {"type": "maxpool2d", "kernel": 2},
    {"type": "conv2d", "in": 32, "out": 64, "kernel": 3, "padding": 1},
    {"type": "relu"},
    {"type": "maxpool2d", "kernel": 2},
    {"type": "flatten"},
    {"type": "linear", "in": 3136, "out": 128},
    {"type": "relu"},
    {"type": "linear", "in": 128, "out": 10}
  ],
  "training": {"optimizer": "adam", "lr": 0.001, "batch": 64, "epochs": 2}
}
)";

constexpr std::array<std::pair<const char*, const char*>, 2> kBuiltins = {{{"mlp", kMlp}, {"cnn", kCnn}}};

}  // namespace

std::string builtin_model_description(const std::string& name) {
  for (const auto& [n, text] : kBuiltins)
    if (name == n)
      return text;
  LOOM_THROW(ValueError, "unknown built-in model '", name, "'; expected mlp or cnn (or a description file)");
}

std::vector<std::string> builtin_model_names() {
  std::vector<std::string> names;
  for (const auto& [n, text] : kBuiltins)
    names.emplace_back(n);
  return names;
}

}  // namespace loom::io
