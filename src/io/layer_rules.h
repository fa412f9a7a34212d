#pragma once
// One rule per layer type of a model description: its fields, its shape rule and
// how to build it. Adding a layer type is adding one entry to the table in
// layer_rules.cpp.
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "loom/io/model_description.h"
#include "loom/nn/module.h"

namespace loom::io::detail {

enum class FieldKind { integer, real, boolean, shape };

struct FieldRule {
  const char* name;
  FieldKind kind;
  bool required;
  double default_value = 0;
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
};

// Where a layer sits, for error messages.
struct LayerContext {
  std::string source;
  size_t index;
  std::string type;
  std::string previous;  // "input_shape gives" or "layer 2 (flatten) produces", for the first input
};

// What a layer costs for one sample: its parameters, and its forward FLOPs
// (NOTE [Layer costs] in layer_rules.cpp).
struct LayerCost {
  int64_t parameters = 0;
  int64_t flops = 0;
};

struct LayerRule {
  const char* type;
  std::vector<FieldRule> fields;
  // The output shape of one sample from the inputs' ones (as many as min_inputs..
  // max_inputs, checked before); ValueError naming the layer otherwise.
  Shape (*infer)(const LayerSpec& spec, const std::vector<Shape>& in, const LayerContext& ctx);
  std::shared_ptr<nn::Module> (*build)(const LayerSpec& spec, Generator& gen);
  size_t min_inputs = 1, max_inputs = 1;
  // Parameters and FLOPs for one sample, from the inferred shapes.
  LayerCost (*cost)(const LayerSpec& spec, const std::vector<Shape>& in, const Shape& out) = nullptr;
};

// nullptr for an unknown type.
const LayerRule* find_layer_rule(const std::string& type);
// "linear, conv2d, ...", for messages.
std::string layer_type_list();

}  // namespace loom::io::detail
