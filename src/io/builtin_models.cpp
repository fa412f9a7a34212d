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

// The reference GPT (ARCHITECTURE.md): blocks of pre-LayerNorm attention and a 4x
// GELU MLP, both residual; weights N(0, 0.02), biases 0 (GPT-2's initialisation).
std::string gpt_text() {
  const int layers = 4, heads = 4, width = 128, context = 64, vocab = 256;
  auto w = std::to_string(width);
  std::string s = R"({
  "name": "gpt",
  "description": "byte-level GPT: 4 pre-LayerNorm blocks, width 128, 4 heads, context 64",
  "input_shape": [)" +
                  std::to_string(context) +
                  R"(],
  "input_dtype": "i64",
  "layers": [
    {"name": "tok_emb", "type": "embedding", "num": )" +
                  std::to_string(vocab) + ", \"dim\": " + w + R"(, "init_std": 0.02},
    {"name": "pos_emb", "type": "position_embedding", "context": )" +
                  std::to_string(context) + ", \"dim\": " + w + "},\n";
  std::string residual = "pos_emb";
  for (int i = 0; i < layers; ++i) {
    const std::string b = "b" + std::to_string(i) + "_";
    s += "    {\"name\": \"" + b + "ln1\", \"type\": \"layernorm\", \"shape\": [" + w + "], \"inputs\": [\"" +
         residual + "\"]},\n";
    s += "    {\"name\": \"" + b + "attn\", \"type\": \"attention\", \"width\": " + w +
         ", \"heads\": " + std::to_string(heads) + ", \"init_std\": 0.02},\n";
    s += "    {\"name\": \"" + b + "res1\", \"type\": \"add\", \"inputs\": [\"" + residual + "\", \"" + b +
         "attn\"]},\n";
    s += "    {\"name\": \"" + b + "ln2\", \"type\": \"layernorm\", \"shape\": [" + w + "]},\n";
    s += "    {\"name\": \"" + b + "fc\", \"type\": \"linear\", \"in\": " + w +
         ", \"out\": " + std::to_string(4 * width) + ", \"init_std\": 0.02},\n";
    s += "    {\"name\": \"" + b + "gelu\", \"type\": \"gelu\"},\n";
    s += "    {\"name\": \"" + b + "proj\", \"type\": \"linear\", \"in\": " + std::to_string(4 * width) +
         ", \"out\": " + w + ", \"init_std\": 0.02},\n";
    s += "    {\"name\": \"" + b + "res2\", \"type\": \"add\", \"inputs\": [\"" + b + "res1\", \"" + b + "proj\"]},\n";
    residual = b + "res2";
  }
  s += "    {\"name\": \"ln_f\", \"type\": \"layernorm\", \"shape\": [" + w + "]},\n";
  s += "    {\"name\": \"head\", \"type\": \"linear\", \"in\": " + w + ", \"out\": " + std::to_string(vocab) +
       ", \"bias\": false, \"init_std\": 0.02}\n  ],\n";
  s += R"(  "training": {"optimizer": "adamw", "lr": 0.001, "beta1": 0.9, "beta2": 0.95, "weight_decay": 0.1,
               "max_grad_norm": 1.0, "batch": 32, "steps": 300}
}
)";
  return s;
}

constexpr std::array<std::pair<const char*, const char*>, 2> kBuiltins = {{{"mlp", kMlp}, {"cnn", kCnn}}};

}  // namespace

std::string builtin_model_description(const std::string& name) {
  if (name == "gpt")
    return gpt_text();
  for (const auto& [n, text] : kBuiltins)
    if (name == n)
      return text;
  LOOM_THROW(ValueError, "unknown built-in model '", name, "'; expected mlp, cnn or gpt (or a description file)");
}

std::vector<std::string> builtin_model_names() {
  std::vector<std::string> names;
  for (const auto& [n, text] : kBuiltins)
    names.emplace_back(n);
  names.emplace_back("gpt");
  return names;
}

}  // namespace loom::io
