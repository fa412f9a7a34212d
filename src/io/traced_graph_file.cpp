#include "loom/io/traced_graph_file.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "loom/core/error.h"
#include "loom/io/atomic_file.h"
#include "loom/io/safetensors.h"

namespace loom::io {
namespace {

using json = nlohmann::ordered_json;  // attributes keep their struct order
constexpr const char* kFormat = "loom.traced_graph";

std::string weights_path_for(const std::string& json_path) {
  std::filesystem::path p(json_path);
  if (p.extension() == ".json")
    p.replace_extension(".safetensors");
  else
    p += ".safetensors";
  return p.string();
}

json attrs_to_json(const autograd::AttrMap& attrs) {
  json out = json::object();
  for (const auto& item : attrs.items())
    std::visit([&](const auto& v) { out[item.first] = v; }, item.second);
  return out;
}

autograd::AttrMap attrs_from_json(const json& j, const std::string& where) {
  LOOM_CHECK(j.is_object(), where, ": \"attrs\" must be an object");
  autograd::AttrMap attrs;
  for (const auto& [name, v] : j.items()) {
    if (v.is_boolean()) {
      attrs.set(name, v.get<bool>());
    } else if (v.is_number_integer()) {
      attrs.set(name, v.get<int64_t>());
    } else if (v.is_number_float()) {
      attrs.set(name, v.get<double>());
    } else if (v.is_string()) {
      attrs.set(name, v.get<std::string>());
    } else if (v.is_array()) {
      std::vector<int64_t> ints;
      for (const json& e : v) {
        LOOM_CHECK(e.is_number_integer(), where, ": attribute '", name, "' must be a list of integers");
        ints.push_back(e.get<int64_t>());
      }
      attrs.set(name, ints);
    } else {
      LOOM_THROW(ValueError, where, ": attribute '", name, "' has an unsupported value ", v.dump());
    }
  }
  return attrs;
}

Shape shape_from_json(const json& j, const std::string& where) {
  LOOM_CHECK(j.is_array(), where, ": \"shape\" must be a list of integers");
  Shape s;
  for (const json& d : j) {
    LOOM_CHECK(d.is_number_integer() && d.get<int64_t>() >= 0, where, ": \"shape\" has a bad dimension ", d.dump());
    s.push_back(d.get<int64_t>());
  }
  return s;
}

const json& field(const json& j, const char* name, const std::string& where) {
  LOOM_CHECK(j.is_object() && j.contains(name), where, ": missing \"", name, "\"");
  return j.at(name);
}

std::string string_field(const json& j, const char* name, const std::string& where) {
  const json& v = field(j, name, where);
  LOOM_CHECK(v.is_string(), where, ": \"", name, "\" must be a string");
  return v.get<std::string>();
}

}  // namespace

void save_traced_graph(const nn::TracedGraph& graph, const std::string& json_path) {
  const std::string weights = weights_path_for(json_path);
  json j;
  j["format"] = kFormat;
  j["version"] = 1;
  j["inputs"] = json::array();
  for (const nn::TracedInput& in : graph.graph_inputs())
    j["inputs"].push_back({{"name", in.name}, {"shape", in.shape}, {"dtype", dtype_name(in.dtype)}});
  j["constants"] = json::array();
  for (const auto& [name, t] : graph.constants())
    j["constants"].push_back({{"name", name}, {"shape", t.shape()}, {"dtype", dtype_name(t.dtype())}});
  j["nodes"] = json::array();
  for (const nn::TracedNode& node : graph.nodes()) {
    j["nodes"].push_back({{"name", node.name},
                          {"op", autograd::op_name(node.op)},
                          {"inputs", node.inputs},
                          {"attrs", attrs_to_json(node.attrs)}});
  }
  j["outputs"] = graph.graph_outputs();
  j["weights"] = std::filesystem::path(weights).filename().string();
  nn::NamedTensors constants;
  for (const auto& [name, t] : graph.constants())
    constants.emplace_back(name, t.contiguous());
  save_safetensors(weights, constants, {{"format", kFormat}});
  write_text_file_atomically(json_path, j.dump(1) + "\n");
}

std::shared_ptr<nn::TracedGraph> load_traced_graph(const std::string& json_path) {
  std::ifstream f(json_path, std::ios::binary);
  if (!f)
    LOOM_THROW(IOError, json_path, ": cannot open the traced graph file");
  std::stringstream buffer;
  buffer << f.rdbuf();
  json j;
  try {
    j = json::parse(buffer.str());
  } catch (const json::exception& e) {
    LOOM_THROW(IOError, json_path, ": not valid JSON (", e.what(), ")");
  }
  const std::string& where = json_path;
  try {  // (the checks below read fields whose type may be wrong: found by fuzzing)
    LOOM_CHECK(j.is_object() && j.value("format", "") == kFormat, where, ": not a traced graph (\"format\" is not \"",
               kFormat, "\")");
    LOOM_CHECK(j.value("version", 0) == 1, where, ": unsupported version ", j.value("version", json(0)).dump());
    std::vector<nn::TracedInput> inputs;
    for (const json& in : field(j, "inputs", where)) {
      const std::string name = string_field(in, "name", where + ": an input");
      inputs.push_back({name, shape_from_json(field(in, "shape", where + ": input '" + name + "'"), where),
                        dtype_from_name(string_field(in, "dtype", where + ": input '" + name + "'"))});
    }
    const std::string weights_name = string_field(j, "weights", where);
    const std::string weights = (std::filesystem::path(json_path).parent_path() / weights_name).string();
    nn::NamedTensors stored = load_safetensors(weights);
    nn::NamedTensors constants;
    for (const json& c : field(j, "constants", where)) {
      const std::string name = string_field(c, "name", where + ": a constant");
      const std::string at = where + ": constant '" + name + "'";
      const Shape shape = shape_from_json(field(c, "shape", at), at);
      const DType dtype = dtype_from_name(string_field(c, "dtype", at));
      auto it = std::find_if(stored.begin(), stored.end(), [&](const auto& e) { return e.first == name; });
      LOOM_CHECK(it != stored.end(), at, " is not in ", weights);
      LOOM_CHECK(it->second.shape() == shape && it->second.dtype() == dtype, at, " is ", dtype_name(dtype), " ",
                 shape_str(shape), " but ", weights, " holds ", dtype_name(it->second.dtype()), " ",
                 shape_str(it->second.shape()));
      constants.emplace_back(name, it->second);
    }
    std::vector<nn::TracedNode> nodes;
    for (const json& n : field(j, "nodes", where)) {
      nn::TracedNode node;
      node.name = string_field(n, "name", where + ": a node");
      const std::string at = where + ": node '" + node.name + "'";
      const std::string op = string_field(n, "op", at);
      auto id = autograd::op_from_name(op);
      LOOM_CHECK(id, at, ": unknown op '", op, "'");
      node.op = *id;
      for (const json& in : field(n, "inputs", at)) {
        LOOM_CHECK(in.is_string(), at, ": \"inputs\" must be a list of value names");
        node.inputs.push_back(in.get<std::string>());
      }
      node.attrs = attrs_from_json(n.contains("attrs") ? n.at("attrs") : json::object(), at);
      nodes.push_back(std::move(node));
    }
    std::vector<std::string> outputs;
    for (const json& o : field(j, "outputs", where)) {
      LOOM_CHECK(o.is_string(), where, ": \"outputs\" must be a list of value names");
      outputs.push_back(o.get<std::string>());
    }
    try {  // the graph's own checks: references, arity, attributes, shapes
      return std::make_shared<nn::TracedGraph>(std::move(inputs), std::move(constants), std::move(nodes),
                                               std::move(outputs));
    } catch (const Error& e) {
      LOOM_THROW(ValueError, where, ": ", e.what());
    }
  } catch (const json::exception& e) {
    LOOM_THROW(IOError, where, ": ", e.what());
  }
}

}  // namespace loom::io
