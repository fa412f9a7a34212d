#pragma once
// NOTE [Traced graphs]
// nn::trace runs a module's forward under the tracer (NOTE [Tracer]) and returns
// the ops it ran as a TracedGraph: named inputs, named constants (the module's
// parameters and buffers under their state_dict names, and any other tensor an op
// read, captured by value), one node per op call with the op's name, attributes
// and input names, and the outputs. Replaying it runs the same ops with the same
// attributes through the dispatch path, so its outputs equal the module's bit for
// bit at the same thread count; the fusion passes' ops (linear_act,
// conv2d_max_pool2d) are what the trace holds. Attributes that depend on the batch
// (a reshape to [64, -1]) are recorded as they were, as torch.jit.trace does;
// ops that keep the batch axis (flatten, linear, conv) work for any batch.
//
// Trace in evaluation mode for an inference graph: batch norm's mode and dropout's
// probability are attributes, and in training mode dropout draws from the default
// generator on replay. A tensor that a module made from an input with a raw
// Tensor method (view, as_strided) is not an op's output and cannot be traced:
// that is an error naming the op that read it. io::save_traced_graph and
// io::load_traced_graph write and read the graph as JSON beside its constants.
#include <string>
#include <utility>
#include <vector>

#include "loom/autograd/op_schema.h"
#include "loom/nn/module.h"

namespace loom::nn {

struct TracedInput {
  std::string name;
  Shape shape;  // as traced; another batch size is accepted where the ops allow it
  DType dtype = DType::f32;
};

struct TracedNode {
  std::string name;
  autograd::OpId op;
  autograd::AttrMap attrs;
  std::vector<std::string> inputs;  // value names; "" for an optional input left out
};

class TracedGraph : public Module {
 public:
  // Checks everything a file could get wrong, each error naming the node: unique
  // names, inputs that name an earlier value, each op's arity and attributes, and
  // each op's shape rule over the traced shapes.
  TracedGraph(std::vector<TracedInput> inputs, NamedTensors constants, std::vector<TracedNode> nodes,
              std::vector<std::string> outputs);

  Tensor forward(const Tensor& x) override;
  Tensor forward_inputs(const std::vector<Tensor>& inputs) override;
  std::vector<Tensor> forward_all(const std::vector<Tensor>& inputs);
  std::string describe() const override;
  // One line per node: "conv2d_max_pool2d_0 = conv2d_max_pool2d(x, 0.weight, 0.bias) {stride_h=1, ...}".
  std::string str() const;

  const std::vector<TracedInput>& graph_inputs() const { return inputs_; }
  const NamedTensors& constants() const { return constants_; }
  const std::vector<TracedNode>& nodes() const { return nodes_; }
  const std::vector<std::string>& graph_outputs() const { return outputs_; }

 private:
  std::vector<TracedInput> inputs_;
  NamedTensors constants_;
  std::vector<TracedNode> nodes_;
  std::vector<std::string> outputs_;
  // Value slots: inputs, then constants, then one per node; -1 for "".
  std::vector<std::vector<int>> node_slots_;
  std::vector<int> output_slots_;
};

// Runs module.forward_inputs on the inputs (grad off) under a tracer.
std::shared_ptr<TracedGraph> trace(Module& module, const std::vector<std::pair<std::string, Tensor>>& inputs);

}  // namespace loom::nn
