#include "loom/io/model_description.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "layer_rules.h"
#include "loom/core/error.h"
#include "loom/nn/sequential.h"

namespace loom::io {
namespace {

using Json = nlohmann::json;
using detail::FieldKind;
using detail::FieldRule;
using detail::LayerRule;

constexpr const char* kOptimizers[] = {"sgd", "adam", "adamw", "rmsprop"};

template <typename... Args>
[[noreturn]] void fail(const std::string& source, const Args&... args) {
  LOOM_THROW(ValueError, source, ": ", args...);
}

void check_known_fields(const Json& object, const std::set<std::string>& known, const std::string& source,
                        const std::string& where) {
  for (const auto& [key, value] : object.items()) {
    if (known.count(key) == 0) {
      std::string list;
      for (const auto& k : known)
        list += (list.empty() ? "" : ", ") + k;
      fail(source, where, " has an unknown field \"", key, "\"; expected ", list.empty() ? "none" : list);
    }
  }
}

int64_t get_int(const Json& v, const std::string& source, const std::string& what, double min, double max) {
  if (!v.is_number_integer())
    fail(source, what, " must be an integer, found ", v.dump());
  const auto value = v.get<int64_t>();
  if (static_cast<double>(value) < min || static_cast<double>(value) > max) {
    if (min == 1 && std::isinf(max))
      fail(source, what, " must be positive, found ", value);
    fail(source, what, " must be between ", min, " and ", max, ", found ", value);
  }
  return value;
}

double get_real(const Json& v, const std::string& source, const std::string& what, double min, double max) {
  if (!v.is_number())
    fail(source, what, " must be a number, found ", v.dump());
  const auto value = v.get<double>();
  if (!(value >= min && value <= max))
    fail(source, what, " must be in [", min, ", ", max, "], found ", value);
  return value;
}

Shape get_shape(const Json& v, const std::string& source, const std::string& what) {
  Shape shape;
  if (v.is_number_integer()) {
    shape.push_back(get_int(v, source, what, 1, INFINITY));
  } else if (v.is_array() && !v.empty()) {
    for (size_t i = 0; i < v.size(); ++i) {
      shape.push_back(get_int(v[i], source, what + "[" + std::to_string(i) + "]", 1, INFINITY));
    }
  } else {
    fail(source, what, " must be a non-empty array of positive integers, found ", v.dump());
  }
  return shape;
}

LayerSpec parse_layer(const Json& v, size_t index, const std::string& source) {
  const std::string where = "layer " + std::to_string(index);
  if (!v.is_object())
    fail(source, where, " must be an object like {\"type\": \"relu\"}, found ", v.dump());
  if (!v.contains("type") || !v["type"].is_string()) {
    fail(source, where, " needs a \"type\" string (one of ", detail::layer_type_list(), ")");
  }
  LayerSpec spec;
  spec.type = v["type"].get<std::string>();
  const LayerRule* rule = detail::find_layer_rule(spec.type);
  if (rule == nullptr) {
    fail(source, where, " has unknown type \"", spec.type, "\"; expected one of ", detail::layer_type_list());
  }
  const std::string named = where + " (" + spec.type + ")";
  std::set<std::string> known = {"type", "name", "inputs"};
  for (const FieldRule& f : rule->fields)
    known.insert(f.name);
  check_known_fields(v, known, source, named);

  for (const FieldRule& f : rule->fields) {
    const std::string what = named + " field \"" + f.name + "\"";
    if (!v.contains(f.name)) {
      if (f.required)
        fail(source, named, " is missing the field \"", f.name, "\"");
      if (f.kind != FieldKind::shape)
        spec.params[f.name] = f.default_value;
      continue;
    }
    const Json& value = v[f.name];
    switch (f.kind) {
      case FieldKind::integer:
        spec.params[f.name] = static_cast<double>(get_int(value, source, what, f.min, f.max));
        break;
      case FieldKind::real:
        spec.params[f.name] = get_real(value, source, what, f.min, f.max);
        break;
      case FieldKind::boolean:
        if (!value.is_boolean())
          fail(source, what, " must be true or false, found ", value.dump());
        spec.params[f.name] = value.get<bool>() ? 1 : 0;
        break;
      case FieldKind::shape:
        spec.shape = get_shape(value, source, what);
        break;
    }
  }
  spec.name = std::to_string(index);
  if (v.contains("name")) {
    if (!v["name"].is_string() || v["name"].get<std::string>().empty())
      fail(source, named, " field \"name\" must be a non-empty string, found ", v["name"].dump());
    spec.name = v["name"].get<std::string>();
    if (spec.name.find('.') != std::string::npos)
      fail(source, named, " is named \"", spec.name, "\"; a layer name cannot contain '.'");
  }
  if (v.contains("inputs")) {
    const Json& in = v["inputs"];
    const bool ok = in.is_string() || (in.is_array() && !in.empty() &&
                                       std::all_of(in.begin(), in.end(), [](const Json& e) { return e.is_string(); }));
    if (!ok)
      fail(source, named, " field \"inputs\" must be a name or a non-empty array of names, found ", in.dump());
    if (in.is_string())
      spec.inputs.push_back(in.get<std::string>());
    else
      for (const Json& e : in)
        spec.inputs.push_back(e.get<std::string>());
  }
  // A pool's stride defaults to its kernel, as in PyTorch.
  if ((spec.type == "maxpool2d" || spec.type == "avgpool2d") && spec.params["stride"] == 0) {
    spec.params["stride"] = spec.params["kernel"];
  }
  return spec;
}

DType get_input_dtype(const Json& v, const std::string& source, const std::string& where) {
  if (v == "f32")
    return DType::f32;
  if (v == "i64")
    return DType::i64;
  fail(source, where, " dtype must be \"f32\" (features) or \"i64\" (token indices), found ", v.dump());
}

TrainingDefaults parse_training(const Json& v, const std::string& source) {
  if (!v.is_object())
    fail(source, "\"training\" must be an object, found ", v.dump());
  check_known_fields(
      v, {"optimizer", "lr", "momentum", "weight_decay", "beta1", "beta2", "max_grad_norm", "batch", "epochs", "steps"},
      source, "\"training\"");
  TrainingDefaults t;
  if (!v.contains("optimizer") || !v["optimizer"].is_string()) {
    fail(source, "\"training\" needs an \"optimizer\" string (sgd, adam, adamw or rmsprop)");
  }
  t.optimizer = v["optimizer"].get<std::string>();
  if (std::find(std::begin(kOptimizers), std::end(kOptimizers), t.optimizer) == std::end(kOptimizers)) {
    fail(source, "\"training\" has unknown optimizer \"", t.optimizer, "\"; expected sgd, adam, adamw or rmsprop");
  }
  if (!v.contains("lr"))
    fail(source, "\"training\" is missing the field \"lr\"");
  t.lr = get_real(v["lr"], source, "training field \"lr\"", 0, INFINITY);
  if (t.lr <= 0)
    fail(source, "training field \"lr\" must be positive, found ", t.lr);
  if (v.contains("momentum"))
    t.momentum = get_real(v["momentum"], source, "training field \"momentum\"", 0, 1);
  if (v.contains("weight_decay")) {
    t.weight_decay = get_real(v["weight_decay"], source, "training field \"weight_decay\"", 0, INFINITY);
  }
  if (v.contains("batch"))
    t.batch = get_int(v["batch"], source, "training field \"batch\"", 1, INFINITY);
  if (v.contains("epochs"))
    t.epochs = get_int(v["epochs"], source, "training field \"epochs\"", 1, INFINITY);
  if (v.contains("steps"))
    t.steps = get_int(v["steps"], source, "training field \"steps\"", 1, INFINITY);
  for (auto [key, field] : {std::pair{"beta1", &t.beta1}, std::pair{"beta2", &t.beta2}}) {
    if (v.contains(key)) {
      *field = get_real(v[key], source, std::string("training field \"") + key + "\"", 0, 1);
      if (*field >= 1)
        fail(source, "training field \"", key, "\" must be below 1, found ", *field);
    }
  }
  if (v.contains("max_grad_norm"))
    t.max_grad_norm = get_real(v["max_grad_norm"], source, "training field \"max_grad_norm\"", 0, INFINITY);
  return t;
}

Json parse_json(const std::string& text, const std::string& source) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {  // parse_error, or out_of_range for a number too large (found by fuzzing)
    // Drop nlohmann's "[json.exception.parse_error.101] " tag; keep "parse error at line L, column C: ...".
    std::string what = e.what();
    if (auto pos = what.find("] "); what.rfind("[json.exception", 0) == 0 && pos != std::string::npos) {
      what = what.substr(pos + 2);
    }
    fail(source, "invalid JSON: ", what);
  }
}

std::vector<ModelInput> parse_inputs(const Json& v, const std::string& source) {
  if (!v.is_array() || v.empty())
    fail(source, "\"inputs\" must be a non-empty array like [{\"name\": \"x\", \"shape\": [1, 28, 28]}]");
  std::vector<ModelInput> out;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string where = "input " + std::to_string(i);
    if (!v[i].is_object())
      fail(source, where, " must be an object like {\"name\": \"x\", \"shape\": [1, 28, 28]}, found ", v[i].dump());
    check_known_fields(v[i], {"name", "shape", "dtype"}, source, where);
    if (!v[i].contains("name") || !v[i]["name"].is_string() || v[i]["name"].get<std::string>().empty())
      fail(source, where, " needs a non-empty \"name\" string");
    if (!v[i].contains("shape"))
      fail(source, where, " needs a \"shape\", one sample without the batch axis");
    out.push_back({v[i]["name"].get<std::string>(), get_shape(v[i]["shape"], source, where + " \"shape\""),
                   v[i].contains("dtype") ? get_input_dtype(v[i]["dtype"], source, where) : DType::f32});
  }
  return out;
}

// Names every layer and input, checks each name is unique and each layer reads
// inputs or earlier layers, fills in defaulted inputs, and infers every shape.
void infer_graph(ModelDescription& d, const std::string& source, bool listed_inputs) {
  struct Value {
    Shape shape;
    std::string produced_by;  // "input \"x\" gives", "layer 2 (relu) produces"
  };
  std::map<std::string, Value> values;
  for (const ModelInput& in : d.inputs) {
    const std::string gives = listed_inputs ? "input \"" + in.name + "\" gives" : "input_shape gives";
    if (!values.emplace(in.name, Value{in.shape, gives}).second)
      fail(source, "input \"", in.name, "\" is declared twice");
  }
  std::string previous = d.inputs.front().name;
  for (size_t i = 0; i < d.layers.size(); ++i) {
    LayerSpec& spec = d.layers[i];
    const std::string where = "layer " + std::to_string(i) + " (" + spec.type + ")";
    if (values.count(spec.name)) {
      fail(source, where, " is named \"", spec.name, "\", which an input or an earlier layer already is");
    }
    if (spec.inputs.empty())
      spec.inputs.push_back(previous);
    const detail::LayerRule* rule = detail::find_layer_rule(spec.type);
    const size_t n = spec.inputs.size();
    if (n < rule->min_inputs || n > rule->max_inputs) {
      if (rule->max_inputs == 1)
        fail(source, where, " reads one input but \"inputs\" lists ", n);
      fail(source, where, " reads ", rule->min_inputs, " or more inputs but ", n == 1 ? "only one is" : "none are",
           " given; list them in its \"inputs\"");
    }
    std::vector<Shape> shapes;
    for (const std::string& in : spec.inputs) {
      auto it = values.find(in);
      if (it == values.end()) {
        fail(source, where, " reads \"", in, "\", which is neither an input nor an earlier layer",
             " (a layer without a \"name\" is named by its index)");
      }
      shapes.push_back(it->second.shape);
    }
    detail::LayerContext ctx{source, i, spec.type, values.at(spec.inputs[0]).produced_by};
    spec.output_shape = rule->infer(spec, shapes, ctx);
    values[spec.name] = Value{spec.output_shape, where + " produces"};
    previous = spec.name;
  }
  if (d.outputs.empty())
    d.outputs.push_back(previous);
  for (const std::string& out : d.outputs)
    if (!values.count(out))
      fail(source, "output \"", out, "\" is neither an input nor a layer");
  d.input_shape = d.inputs.front().shape;
  d.output_shape = values.at(d.outputs.front()).shape;
}

}  // namespace

int64_t LayerSpec::get(const std::string& key) const {
  auto it = params.find(key);
  LOOM_ASSERT(it != params.end());
  return static_cast<int64_t>(it->second);
}

ModelDescription parse_model_description(const std::string& text, const std::string& source_name) {
  const std::string& source = source_name;
  const Json root = parse_json(text, source);
  if (!root.is_object())
    fail(source, "a model description must be a JSON object, found ", root.type_name());
  check_known_fields(root,
                     {"name", "description", "input_shape", "input_dtype", "inputs", "outputs", "layers", "training"},
                     source, "the description");

  ModelDescription d;
  d.source = source;
  d.text = text;
  if (root.contains("name")) {
    if (!root["name"].is_string())
      fail(source, "\"name\" must be a string, found ", root["name"].dump());
    d.name = root["name"].get<std::string>();
  }
  if (root.contains("input_shape") == root.contains("inputs")) {
    fail(source, root.contains("inputs") ? "has both \"input_shape\" and \"inputs\"; give one"
                                         : "missing \"input_shape\", the shape of one sample without the batch axis "
                                           "(e.g. [1, 28, 28]), or \"inputs\"");
  }
  if (root.contains("inputs")) {
    if (root.contains("input_dtype"))
      fail(source, "has \"input_dtype\" beside \"inputs\"; give each input its \"dtype\"");
    d.inputs = parse_inputs(root["inputs"], source);
  } else {
    d.inputs = {
        {"input", get_shape(root["input_shape"], source, "\"input_shape\""),
         root.contains("input_dtype") ? get_input_dtype(root["input_dtype"], source, "\"input_dtype\"") : DType::f32}};
  }
  if (root.contains("outputs")) {
    const Json& o = root["outputs"];
    if (!o.is_array() || o.empty() || !std::all_of(o.begin(), o.end(), [](const Json& e) { return e.is_string(); }))
      fail(source, "\"outputs\" must be a non-empty array of layer names, found ", o.dump());
    for (const Json& e : o)
      d.outputs.push_back(e.get<std::string>());
  }
  if (!root.contains("layers") || !root["layers"].is_array() || root["layers"].empty()) {
    fail(source, "\"layers\" must be a non-empty array of layers");
  }
  const Json& layers = root["layers"];
  for (size_t i = 0; i < layers.size(); ++i)
    d.layers.push_back(parse_layer(layers[i], i, source));
  if (root.contains("training"))
    d.training = parse_training(root["training"], source);

  d.graph = root.contains("inputs") || root.contains("outputs") ||
            std::any_of(layers.begin(), layers.end(),
                        [](const Json& l) { return l.contains("inputs") || l.contains("name"); });
  infer_graph(d, source, root.contains("inputs"));
  return d;
}

ModelDescription read_model_description(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    LOOM_THROW(IOError, "cannot open model description ", path, ": ", std::strerror(errno));
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad())
    LOOM_THROW(IOError, "error reading model description ", path);
  return parse_model_description(text.str(), path);
}

std::shared_ptr<nn::Graph> build_model(const ModelDescription& description, Generator& gen) {
  if (!description.graph) {
    auto chain = std::make_shared<nn::Sequential>();
    for (const LayerSpec& spec : description.layers)
      chain->add(detail::find_layer_rule(spec.type)->build(spec, gen));
    return chain;
  }
  auto graph = std::make_shared<nn::Graph>();
  for (const ModelInput& in : description.inputs)
    graph->add_input(in.name);
  for (const LayerSpec& spec : description.layers)
    graph->add_node(spec.name, detail::find_layer_rule(spec.type)->build(spec, gen), spec.inputs);
  graph->set_outputs(description.outputs);
  return graph;
}

std::shared_ptr<nn::Graph> model_from_json_text(const std::string& text, const std::string& source_name) {
  return build_model(parse_model_description(text, source_name));
}

std::shared_ptr<nn::Graph> load_model_description(const std::string& path) {
  return build_model(read_model_description(path));
}

}  // namespace loom::io
