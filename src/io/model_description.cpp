#include "loom/io/model_description.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "layer_rules.h"
#include "loom/core/error.h"

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
  std::set<std::string> known = {"type"};
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
  // A pool's stride defaults to its kernel, as in PyTorch.
  if ((spec.type == "maxpool2d" || spec.type == "avgpool2d") && spec.params["stride"] == 0) {
    spec.params["stride"] = spec.params["kernel"];
  }
  return spec;
}

TrainingDefaults parse_training(const Json& v, const std::string& source) {
  if (!v.is_object())
    fail(source, "\"training\" must be an object, found ", v.dump());
  check_known_fields(v, {"optimizer", "lr", "momentum", "weight_decay", "batch", "epochs"}, source, "\"training\"");
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
  return t;
}

Json parse_json(const std::string& text, const std::string& source) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    // Drop nlohmann's "[json.exception.parse_error.101] " tag; keep "parse error at line L, column C: ...".
    std::string what = e.what();
    if (auto pos = what.find("] "); what.rfind("[json.exception", 0) == 0 && pos != std::string::npos) {
      what = what.substr(pos + 2);
    }
    fail(source, "invalid JSON: ", what);
  }
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
  check_known_fields(root, {"name", "description", "input_shape", "layers", "training"}, source, "the description");

  ModelDescription d;
  d.source = source;
  d.text = text;
  if (root.contains("name")) {
    if (!root["name"].is_string())
      fail(source, "\"name\" must be a string, found ", root["name"].dump());
    d.name = root["name"].get<std::string>();
  }
  if (!root.contains("input_shape")) {
    fail(source, "missing \"input_shape\", the shape of one sample without the batch axis (e.g. [1, 28, 28])");
  }
  d.input_shape = get_shape(root["input_shape"], source, "\"input_shape\"");
  if (!root.contains("layers") || !root["layers"].is_array() || root["layers"].empty()) {
    fail(source, "\"layers\" must be a non-empty array of layers");
  }
  const Json& layers = root["layers"];
  for (size_t i = 0; i < layers.size(); ++i)
    d.layers.push_back(parse_layer(layers[i], i, source));
  if (root.contains("training"))
    d.training = parse_training(root["training"], source);

  // Shape inference: every layer's input is the previous one's output.
  Shape shape = d.input_shape;
  for (size_t i = 0; i < d.layers.size(); ++i) {
    LayerSpec& spec = d.layers[i];
    detail::LayerContext ctx{source, i, spec.type,
                             i == 0 ? std::string("input_shape gives")
                                    : "layer " + std::to_string(i - 1) + " (" + d.layers[i - 1].type + ") produces"};
    shape = detail::find_layer_rule(spec.type)->infer(spec, shape, ctx);
    spec.output_shape = shape;
  }
  d.output_shape = shape;
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

std::shared_ptr<nn::Sequential> build_model(const ModelDescription& description, Generator& gen) {
  auto model = std::make_shared<nn::Sequential>();
  for (const LayerSpec& spec : description.layers) {
    model->add(detail::find_layer_rule(spec.type)->build(spec, gen));
  }
  return model;
}

std::shared_ptr<nn::Sequential> model_from_json_text(const std::string& text, const std::string& source_name) {
  return build_model(parse_model_description(text, source_name));
}

std::shared_ptr<nn::Sequential> load_model_description(const std::string& path) {
  return build_model(read_model_description(path));
}

}  // namespace loom::io
