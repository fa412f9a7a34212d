#pragma once
// Model description files: a model as JSON, checked by shape inference before any
// weight is allocated.
//
//   {"name": "mlp", "input_shape": [1, 28, 28],
//    "layers": [{"type": "flatten"}, {"type": "linear", "in": 784, "out": 256},
//               {"type": "relu"}, {"type": "linear", "in": 256, "out": 10}],
//    "training": {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "batch": 64}}
//
// Layer types and their fields (optional ones with their default):
//   linear      in, out, bias=true, init_std=0 (0: nn.Linear's; else N(0, init_std), bias 0)
//   conv2d      in, out, kernel, stride=1, padding=0, bias=true
//   maxpool2d   kernel, stride=kernel, padding=0      (avgpool2d the same)
//   batchnorm1d features, eps=1e-5, momentum=0.1      (batchnorm2d the same)
//   layernorm   shape (an array, or one integer), eps=1e-5
//   dropout     p=0.5
//   flatten     start=1, end=-1  (axes of the batched tensor, as nn.Flatten)
//   embedding   num, dim, init_std=0 (0: N(0, 1) as nn.Embedding; else N(0, init_std))
//   position_embedding  context, dim, init_std=0.02  (adds learned positions to [time, dim])
//   attention   width, heads, causal=true, bias=true, init_std=0  (multi-head self-attention
//               over [time, width], fused; init_std > 0: weights N(0, init_std), biases 0)
//   relu, gelu, tanh, sigmoid
//   add, mul    (two or more inputs, broadcast)
//   concat      axis=1 (of the batched tensor, as torch.cat's dim; two or more inputs)
// A model reading token indices says "input_dtype": "i64" (or "dtype" per listed input).
// Every layer may also have a "name" (default: its index, so "layer 3" owns
// "3.weight") and "inputs", the names of the values it reads (default: the
// previous layer's output, or the model's first input). A model whose layers
// name their inputs, or that lists "inputs" ([{"name": "x", "shape": [...]}],
// instead of "input_shape") or "outputs" (names), is a graph (nn::Graph);
// otherwise it is a chain (nn::Sequential). Unknown types or fields, missing or
// ill-typed fields, unknown or later names and shapes that do not flow from one
// layer to the next are errors that name the source, the layer and the shapes.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loom/core/generator.h"
#include "loom/core/shape.h"
#include "loom/nn/graph.h"

namespace loom::io {

// The reference training settings a description carries ("training" block).
struct TrainingDefaults {
  std::string optimizer = "sgd";  // sgd, adam, adamw or rmsprop
  double lr = 0.01;
  double momentum = 0.0;
  double weight_decay = 0.0;
  double beta1 = 0.9, beta2 = 0.999;  // adam, adamw
  double max_grad_norm = 0.0;         // > 0: clip the gradients' global norm
  int64_t batch = 64;
  std::optional<int64_t> epochs;
  std::optional<int64_t> steps;  // optimizer steps instead of epochs
};

struct LayerSpec {
  std::string type;
  std::string name;                 // given, or the layer's index
  std::vector<std::string> inputs;  // the values read (filled in when defaulted)
  // Numeric and boolean fields, defaults filled in ("in", "out", "kernel", "p", "bias" as 0/1, ...).
  std::map<std::string, double> params;
  Shape shape;         // layernorm's normalized shape
  Shape output_shape;  // inferred, for one sample (no batch axis)
  // params.at(key) as an integer.
  int64_t get(const std::string& key) const;
};

struct ModelInput {
  std::string name;
  Shape shape;               // one sample, no batch axis
  DType dtype = DType::f32;  // f32, or i64 for token indices
};

struct ModelDescription {
  std::string name;
  std::string source;                // the file, or "builtin:<name>"
  std::string text;                  // the JSON it was parsed from (what checkpoints store)
  Shape input_shape;                 // the first input's: one sample, no batch axis
  Shape output_shape;                // the first output's, inferred
  std::vector<ModelInput> inputs;    // "input" with input_shape, unless listed
  std::vector<std::string> outputs;  // the last layer's name, unless listed
  std::vector<LayerSpec> layers;
  std::optional<TrainingDefaults> training;
  bool graph = false;  // built as an nn::Graph rather than an nn::Sequential
};

// Parses and checks a description; `source_name` prefixes every error (ValueError).
ModelDescription parse_model_description(const std::string& text, const std::string& source_name);
// Reads a file (IOError when it cannot be read) and parses it.
ModelDescription read_model_description(const std::string& path);

// A fresh model for the description, weights initialised from `gen` (dropout
// masks use the process-wide generator, which outlives any model).
// An nn::Sequential for a chain, an nn::Graph for a graph (description.graph).
std::shared_ptr<nn::Graph> build_model(const ModelDescription& description, Generator& gen = default_generator());

// parse + build, and read + build.
std::shared_ptr<nn::Graph> model_from_json_text(const std::string& text, const std::string& source_name);
std::shared_ptr<nn::Graph> load_model_description(const std::string& path);

// The JSON of a built-in model: "mlp" (784-256-128-10 with ReLU, SGD momentum 0.9,
// lr 0.05, batch 64) or "cnn" (two conv-relu-maxpool blocks, 32 and 64 channels,
// then 3136-128-10; Adam lr 1e-3, batch 64). Both take [N, 1, 28, 28] and give
// [N, 10]. ValueError listing the names otherwise.
std::string builtin_model_description(const std::string& name);
std::vector<std::string> builtin_model_names();

}  // namespace loom::io
