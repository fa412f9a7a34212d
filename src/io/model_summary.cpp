#include "loom/io/model_summary.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "layer_rules.h"
#include "loom/core/error.h"
#include "loom/nn/graph.h"

namespace loom::io {

namespace {
Shape with_batch(int64_t batch, const Shape& per_sample) {
  Shape out{batch};
  out.insert(out.end(), per_sample.begin(), per_sample.end());
  return out;
}
}  // namespace

// The model is built on the meta device (NOTE [Meta device]) and each node's
// module runs on meta tensors, so the shapes and parameter counts printed are the
// ones the real model has, found with no memory for weights or activations. The
// description's own shape rules must agree (they validated the file).
ModelSummary summarize_model(const ModelDescription& d, int64_t batch) {
  LOOM_CHECK(batch >= 1, "model summary: the batch must be positive, found ", batch);
  ModelSummary s;
  s.name = d.name;
  s.batch = batch;
  std::shared_ptr<nn::Graph> model;
  {
    DefaultDeviceGuard on_meta(Device::meta());
    Generator gen(0);
    model = build_model(d, gen);
  }
  model->eval();
  std::map<std::string, Shape> shapes;
  std::map<std::string, Tensor> values;
  for (const ModelInput& in : d.inputs) {
    shapes[in.name] = in.shape;
    values[in.name] = Tensor::empty(with_batch(batch, in.shape), in.dtype, Device::meta());
  }
  const auto& modules = model->children();
  LOOM_CHECK(modules.size() == d.layers.size(), "model summary: built ", modules.size(), " modules for ",
             d.layers.size(), " layers");
  for (size_t i = 0; i < d.layers.size(); ++i) {
    const LayerSpec& spec = d.layers[i];
    std::vector<Shape> in;
    std::vector<Tensor> inputs;
    for (const std::string& name : spec.inputs) {
      in.push_back(shapes.at(name));
      inputs.push_back(values.at(name));
    }
    const Tensor out = modules[i].second->forward_inputs(inputs);
    LOOM_CHECK(out.shape() == with_batch(batch, spec.output_shape), "model summary: layer \"", spec.name, "\" gives ",
               shape_str(out.shape()), " on the meta device but its rule says ",
               shape_str(with_batch(batch, spec.output_shape)));
    const detail::LayerCost cost = detail::find_layer_rule(spec.type)->cost(spec, in, spec.output_shape);
    LayerSummary l{spec.name,          spec.type, spec.inputs, out.shape(), modules[i].second->num_parameters(),
                   cost.flops * batch, 0};
    l.activation_bytes = shape_numel(l.output_shape) * static_cast<int64_t>(sizeof(float));
    s.parameters += l.parameters;
    s.flops += l.flops;
    s.activation_bytes += l.activation_bytes;
    s.layers.push_back(std::move(l));
    shapes[spec.name] = spec.output_shape;
    values[spec.name] = out;
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
