#pragma once
// Graph: a model as a DAG of modules over named values, with several inputs and
// outputs (a residual block, a two-input model). Sequential is a Graph whose
// nodes form a chain.
//
//   auto block = std::make_shared<Graph>();
//   block->add_node("conv1", std::make_shared<Conv2d>(16, 16, 3, 1, 1))   // reads "input"
//       .add_node("bn1", std::make_shared<BatchNorm2d>(16))                // reads the previous node
//       .add_node("relu1", std::make_shared<ReLU>())
//       .add_node("conv2", std::make_shared<Conv2d>(16, 16, 3, 1, 1))
//       .add_node("sum", std::make_shared<Add>(), {"conv2", "input"})       // the residual
//       .add_node("out", std::make_shared<ReLU>());
//   Tensor y = block->forward(x);
//
// Children are registered under their node names, so parameters are named
// "conv1.weight" as in a PyTorch module with those attributes. forward runs the
// compiled program (NOTE [Graph programs] in loom/nn/program.h).
#include <string>
#include <vector>

#include "loom/nn/module.h"
#include "loom/nn/program.h"

namespace loom::nn {

class Graph : public Module {
 public:
  struct Node {
    std::string name;
    std::vector<std::string> inputs;
  };

  Graph() { compile(); }

  // Declares an input; forward_all takes them in declaration order. A graph that
  // declares none has one, named "input". Inputs come before any node.
  Graph& add_input(std::string name);
  // The value `name` = module(inputs...). With no inputs given, the node reads the
  // previous node's value (the first input, for the first node). Every input must
  // name an input or an earlier node, so the nodes are in a valid order.
  Graph& add_node(std::string name, std::shared_ptr<Module> module, std::vector<std::string> inputs = {});
  // The values forward_all returns, in order; by default the last node's (or the
  // input, for a graph without nodes).
  Graph& set_outputs(std::vector<std::string> names);

  std::vector<Tensor> forward_all(const std::vector<Tensor>& inputs) const;
  // One input, one output.
  Tensor forward(const Tensor& x) override;
  // Several inputs, one output.
  Tensor forward_inputs(const std::vector<Tensor>& inputs) override;
  std::string describe() const override;

  const std::vector<Node>& nodes() const { return nodes_; }
  std::vector<std::string> input_names() const;
  std::vector<std::string> output_names() const;
  // The program forward runs, after the fusion passes unless they are off.
  const Program& program() const { return program_; }
  // Fusion passes on (the default) or off; off runs each module as written, for
  // checking a pass against the plain program.
  void set_fusion(bool on);
  bool fusion() const { return fusion_; }

 private:
  bool is_value(const std::string& name) const;
  void compile();

  std::vector<std::string> inputs_;   // declared; empty means {"input"}
  std::vector<Node> nodes_;           // node i's module is children()[i]
  std::vector<std::string> outputs_;  // set; empty means the last value
  bool fusion_ = true;
  Program program_;
};

}  // namespace loom::nn
