#pragma once
// What a model description costs for a batch, layer by layer: output shape,
// parameters, forward FLOPs and activation bytes. The model is built and run on
// the meta device (shapes, no data), so nothing the size of a weight is allocated. `loom info --model M --batch B
// [--json]` prints it.
#include <cstdint>
#include <string>
#include <vector>

#include "loom/io/model_description.h"

namespace loom::io {

struct LayerSummary {
  std::string name, type;
  std::vector<std::string> inputs;
  Shape output_shape;  // with the batch axis
  int64_t parameters = 0;
  int64_t flops = 0;             // forward, for the batch (NOTE [Layer costs] in src/io/layer_rules.cpp)
  int64_t activation_bytes = 0;  // the output, f32
};

struct ModelSummary {
  std::string name;
  int64_t batch = 1;
  std::vector<LayerSummary> layers;
  int64_t parameters = 0, flops = 0, activation_bytes = 0;  // totals
};

ModelSummary summarize_model(const ModelDescription& description, int64_t batch);
// {"model", "batch", "layers": [{"name", "type", "inputs", "output_shape",
// "parameters", "flops", "activation_bytes"}, ...], "parameters", "flops",
// "activation_bytes"}
std::string summary_json(const ModelSummary& summary);
// A table, one layer a line, then the totals.
std::string summary_table(const ModelSummary& summary);

}  // namespace loom::io
