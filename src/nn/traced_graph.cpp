// Traced graphs: recording a module's ops and replaying them (NOTE [Traced graphs]).
#include "loom/nn/traced_graph.h"

#include <map>
#include <sstream>
#include <unordered_map>

#include "loom/autograd/grad_mode.h"
#include "loom/autograd/tracer.h"
#include "loom/core/error.h"

namespace loom::nn {

using autograd::TensorMeta;

TracedGraph::TracedGraph(std::vector<TracedInput> inputs, NamedTensors constants, std::vector<TracedNode> nodes,
                         std::vector<std::string> outputs)
    : inputs_(std::move(inputs)),
      constants_(std::move(constants)),
      nodes_(std::move(nodes)),
      outputs_(std::move(outputs)) {
  std::map<std::string, int> slot;
  std::vector<TensorMeta> metas;
  auto add_value = [&](const std::string& name, TensorMeta meta, const char* what) {
    LOOM_CHECK(!name.empty(), "traced graph: a ", what, " has an empty name");
    LOOM_CHECK(!slot.count(name), "traced graph: the name '", name, "' is used twice");
    slot[name] = static_cast<int>(metas.size());
    metas.push_back(std::move(meta));
  };
  for (const TracedInput& in : inputs_)
    add_value(in.name, {in.shape, in.dtype}, "input");
  for (const auto& [name, t] : constants_) {
    LOOM_CHECK(t.defined(), "traced graph: constant '", name, "' is undefined");
    add_value(name, TensorMeta::of(t), "constant");
  }
  for (const TracedNode& node : nodes_) {
    const autograd::OpSchema& schema = autograd::op_schema(node.op);
    std::vector<int> slots;
    std::vector<TensorMeta> in_metas;
    for (const std::string& name : node.inputs) {
      if (name.empty()) {
        slots.push_back(-1);
        in_metas.push_back(TensorMeta::none());
        continue;
      }
      auto it = slot.find(name);
      LOOM_CHECK(it != slot.end(), "traced graph: node '", node.name, "' (", schema.name, ") reads '", name,
                 "', which is not an input, a constant or an earlier node");
      slots.push_back(it->second);
      in_metas.push_back(metas[it->second]);
    }
    TensorMeta out;
    try {
      out = schema.infer(in_metas, node.attrs);
    } catch (const Error& e) {
      LOOM_THROW(ValueError, "traced graph: node '", node.name, "': ", e.what());
    }
    add_value(node.name, out, "node");
    node_slots_.push_back(std::move(slots));
  }
  LOOM_CHECK(!outputs_.empty(), "traced graph: no outputs");
  for (const std::string& name : outputs_) {
    auto it = slot.find(name);
    LOOM_CHECK(it != slot.end(), "traced graph: output '", name, "' names no value");
    output_slots_.push_back(it->second);
  }
}

std::vector<Tensor> TracedGraph::forward_all(const std::vector<Tensor>& inputs) {
  LOOM_CHECK(inputs.size() == inputs_.size(), "traced graph: takes ", inputs_.size(), " inputs, got ", inputs.size());
  std::vector<Tensor> values;
  values.reserve(inputs_.size() + constants_.size() + nodes_.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    const TracedInput& want = inputs_[i];
    LOOM_CHECK(t.defined() && t.dtype() == want.dtype && t.dim() == static_cast<int64_t>(want.shape.size()),
               "traced graph: input '", want.name, "' was traced as ", dtype_name(want.dtype), " ",
               shape_str(want.shape), ", got ", t.defined() ? t.str() : std::string("an undefined tensor"));
    values.push_back(t);
  }
  for (const auto& c : constants_)
    values.push_back(c.second);
  for (size_t n = 0; n < nodes_.size(); ++n) {
    std::vector<Tensor> args;
    args.reserve(node_slots_[n].size());
    for (int s : node_slots_[n])
      args.push_back(s < 0 ? Tensor() : values[s]);
    values.push_back(autograd::run_op(nodes_[n].op, args, nodes_[n].attrs));
  }
  std::vector<Tensor> out;
  for (int s : output_slots_)
    out.push_back(values[s]);
  return out;
}

Tensor TracedGraph::forward_inputs(const std::vector<Tensor>& inputs) {
  LOOM_CHECK(outputs_.size() == 1, "traced graph: it has ", outputs_.size(), " outputs; use forward_all");
  return forward_all(inputs)[0];
}

Tensor TracedGraph::forward(const Tensor& x) { return forward_inputs({x}); }

std::string TracedGraph::describe() const {
  return "TracedGraph(inputs=" + std::to_string(inputs_.size()) + ", constants=" + std::to_string(constants_.size()) +
         ", ops=" + std::to_string(nodes_.size()) + ")";
}

std::string TracedGraph::str() const {
  std::ostringstream os;
  for (const TracedNode& node : nodes_) {
    os << node.name << " = " << autograd::op_name(node.op) << "(";
    for (size_t i = 0; i < node.inputs.size(); ++i)
      os << (i ? ", " : "") << (node.inputs[i].empty() ? "none" : node.inputs[i]);
    os << ")";
    if (!node.attrs.items().empty())
      os << " {" << node.attrs.str() << "}";
    os << "\n";
  }
  return os.str();
}

std::shared_ptr<TracedGraph> trace(Module& module, const std::vector<std::pair<std::string, Tensor>>& inputs) {
  LOOM_CHECK(!inputs.empty(), "trace: no inputs given");
  std::vector<Tensor> args;
  std::vector<TracedInput> traced_inputs;
  std::unordered_map<const TensorImpl*, std::string> names;
  for (const auto& [name, t] : inputs) {
    LOOM_CHECK(t.defined(), "trace: input '", name, "' is undefined");
    args.push_back(t);
    traced_inputs.push_back({name, t.shape(), t.dtype()});
    names[t.impl()] = name;
  }
  std::unordered_map<const TensorImpl*, std::string> state;
  for (const auto& [name, t] : module.state_dict())
    state.emplace(t.impl(), name);

  autograd::TraceScope scope;
  Tensor result;
  {
    NoGradGuard no_grad;
    result = module.forward_inputs(args);
  }
  // Storages that traced values live in: a tensor outside the trace that shares
  // one was made by a raw view, and replaying would read stale data.
  std::unordered_map<const void*, std::string> storages;
  for (const auto& [name, t] : inputs)
    storages.emplace(t.storage().data(), name);

  NamedTensors constants;
  std::vector<TracedNode> nodes;
  auto name_of = [&](const Tensor& t, const char* op) -> std::string {
    if (!t.defined())
      return "";
    if (auto it = names.find(t.impl()); it != names.end())
      return it->second;
    if (auto it = state.find(t.impl()); it != state.end()) {
      constants.emplace_back(it->second, t);
      names[t.impl()] = it->second;
      return it->second;
    }
    if (auto it = storages.find(t.storage().data()); it != storages.end() && t.storage().data()) {
      LOOM_THROW(ValueError, "trace: ", op, " reads a view of '", it->second,
                 "' that no op made (a raw Tensor method such as view() or as_strided()); use the ops of "
                 "loom/autograd/ops.h (reshape, slice, ...) inside a traced forward");
    }
    std::string name = "constant_" + std::to_string(constants.size());
    constants.emplace_back(name, t.clone());
    names[t.impl()] = name;
    return name;
  };
  for (const autograd::TracedCall& call : scope.calls()) {
    TracedNode node;
    node.op = call.op;
    node.attrs = call.attrs;
    for (const Tensor& in : call.inputs)
      node.inputs.push_back(name_of(in, autograd::op_name(call.op)));
    node.name = std::string(autograd::op_name(call.op)) + "_" + std::to_string(nodes.size());
    names[call.output.impl()] = node.name;
    storages.emplace(call.output.storage().data(), node.name);
    nodes.push_back(std::move(node));
  }
  LOOM_CHECK(result.defined(), "trace: the module's forward returned an undefined tensor");
  std::vector<std::string> outputs{name_of(result, "the output")};
  return std::make_shared<TracedGraph>(std::move(traced_inputs), std::move(constants), std::move(nodes),
                                       std::move(outputs));
}

}  // namespace loom::nn
