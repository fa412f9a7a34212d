#include "loom/nn/graph.h"

#include <algorithm>
#include <unordered_map>

namespace loom::nn {

bool Graph::is_value(const std::string& name) const {
  const auto ins = input_names();
  if (std::find(ins.begin(), ins.end(), name) != ins.end())
    return true;
  return std::any_of(nodes_.begin(), nodes_.end(), [&](const Node& n) { return n.name == name; });
}

std::vector<std::string> Graph::input_names() const {
  return inputs_.empty() ? std::vector<std::string>{"input"} : inputs_;
}

std::vector<std::string> Graph::output_names() const {
  if (!outputs_.empty())
    return outputs_;
  return {nodes_.empty() ? input_names().front() : nodes_.back().name};
}

Graph& Graph::add_input(std::string name) {
  LOOM_CHECK(nodes_.empty(), "Graph: input \"", name, "\" is declared after the first node; declare inputs first");
  LOOM_CHECK(!name.empty(), "Graph: an input needs a name");
  LOOM_CHECK(std::find(inputs_.begin(), inputs_.end(), name) == inputs_.end(), "Graph: input \"", name,
             "\" is declared twice");
  inputs_.push_back(std::move(name));
  compile();
  return *this;
}

Graph& Graph::add_node(std::string name, std::shared_ptr<Module> module, std::vector<std::string> inputs) {
  LOOM_CHECK(module != nullptr, "Graph: node \"", name, "\" has no module");
  LOOM_CHECK(!is_value(name), "Graph: the name \"", name, "\" is already an input or a node");
  if (inputs.empty())
    inputs.push_back(nodes_.empty() ? input_names().front() : nodes_.back().name);
  for (const std::string& in : inputs) {
    LOOM_CHECK(is_value(in), "Graph: node \"", name, "\" reads \"", in,
               "\", which is neither an input nor an earlier node");
  }
  register_module(name, std::move(module));
  nodes_.push_back({std::move(name), std::move(inputs)});
  compile();
  return *this;
}

Graph& Graph::set_outputs(std::vector<std::string> names) {
  LOOM_CHECK(!names.empty(), "Graph: set_outputs needs at least one name");
  for (const std::string& n : names)
    LOOM_CHECK(is_value(n), "Graph: output \"", n, "\" is neither an input nor a node");
  outputs_ = std::move(names);
  compile();
  return *this;
}

void Graph::set_fusion(bool on) {
  fusion_ = on;
  compile();
}

// A step per node over one slot per value (inputs first, then nodes), then the
// passes (NOTE [Graph programs]).
void Graph::compile() {
  Program p;
  std::unordered_map<std::string, int> slot;
  auto define = [&](const std::string& name) {
    slot[name] = p.num_values++;
    p.value_names.push_back(name);
    return slot[name];
  };
  for (const std::string& in : input_names())
    p.inputs.push_back(define(in));
  const auto& ch = children();
  for (size_t i = 0; i < nodes_.size(); ++i) {
    ProgramStep s;
    s.modules = {ch[i].second.get()};
    s.names = {nodes_[i].name};
    for (const std::string& in : nodes_[i].inputs)
      s.args.push_back(slot.at(in));
    s.result = define(nodes_[i].name);
    p.steps.push_back(std::move(s));
  }
  for (const std::string& out : output_names())
    p.outputs.push_back(slot.at(out));
  if (fusion_)
    apply_fusion_passes(p);
  else
    p.finalize();
  program_ = std::move(p);
}

std::vector<Tensor> Graph::forward_all(const std::vector<Tensor>& inputs) const { return program_.run(inputs); }

Tensor Graph::forward(const Tensor& x) { return forward_inputs({x}); }

Tensor Graph::forward_inputs(const std::vector<Tensor>& inputs) {
  LOOM_CHECK(program_.outputs.size() == 1, describe(), " has ", program_.outputs.size(),
             " outputs; call forward_all to get them all");
  return program_.run(inputs)[0];
}

std::string Graph::describe() const {
  return "Graph(" + std::to_string(input_names().size()) + " inputs, " + std::to_string(nodes_.size()) + " nodes, " +
         std::to_string(output_names().size()) + " outputs)";
}

}  // namespace loom::nn
