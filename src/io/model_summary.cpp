#include "loom/io/model_summary.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "layer_rules.h"
#include "loom/core/error.h"

namespace loom::io {

ModelSummary summarize_model(const ModelDescription& d, int64_t batch) {
  LOOM_CHECK(batch >= 1, "model summary: the batch must be positive, found ", batch);
  ModelSummary s;
  s.name = d.name;
  s.batch = batch;
  std::map<std::string, Shape> shapes;
  for (const ModelInput& in : d.inputs)
    shapes[in.name] = in.shape;
  for (const LayerSpec& spec : d.layers) {
    std::vector<Shape> in;
    for (const std::string& name : spec.inputs)
      in.push_back(shapes.at(name));
    const detail::LayerCost cost = detail::find_layer_rule(spec.type)->cost(spec, in, spec.output_shape);
    LayerSummary l{spec.name, spec.type, spec.inputs, {batch}, cost.parameters, cost.flops * batch, 0};
    l.output_shape.insert(l.output_shape.end(), spec.output_shape.begin(), spec.output_shape.end());
    l.activation_bytes = shape_numel(l.output_shape) * static_cast<int64_t>(sizeof(float));
    s.parameters += l.parameters;
    s.flops += l.flops;
    s.activation_bytes += l.activation_bytes;
    s.layers.push_back(std::move(l));
    shapes[spec.name] = spec.output_shape;
  }
  return s;
}

std::string summary_json(const ModelSummary& s) {
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerSummary& l : s.layers) {
    layers.push_back({{"name", l.name},
                      {"type", l.type},
                      {"inputs", l.inputs},
                      {"output_shape", l.output_shape},
                      {"parameters", l.parameters},
                      {"flops", l.flops},
                      {"activation_bytes", l.activation_bytes}});
  }
  nlohmann::json j = {{"model", s.name},  {"batch", s.batch},
                      {"layers", layers}, {"parameters", s.parameters},
                      {"flops", s.flops}, {"activation_bytes", s.activation_bytes}};
  return j.dump(2);
}

std::string summary_table(const ModelSummary& s) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-16s %-12s %-20s %12s %14s %14s\n", "layer", "type", "output", "parameters",
                "flops", "activations");
  out += line;
  for (const LayerSummary& l : s.layers) {
    std::snprintf(line, sizeof line, "%-16s %-12s %-20s %12lld %14lld %12.2f MB\n", l.name.c_str(), l.type.c_str(),
                  shape_str(l.output_shape).c_str(), static_cast<long long>(l.parameters),
                  static_cast<long long>(l.flops), static_cast<double>(l.activation_bytes) / 1e6);
    out += line;
  }
  std::snprintf(line, sizeof line, "%-50s %12lld %14lld %12.2f MB\n",
                ("total (batch " + std::to_string(s.batch) + ")").c_str(), static_cast<long long>(s.parameters),
                static_cast<long long>(s.flops), static_cast<double>(s.activation_bytes) / 1e6);
  return out + line;
}

}  // namespace loom::io
