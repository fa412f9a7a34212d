#pragma once
// A node of the autograd graph: the backward of one op application.
//
// NOTE [Backward closures]
// An op records its backward as a lambda beside its forward (flashlight's style):
// the lambda captures what it needs (inputs, outputs, saved indices) and maps the
// output's gradient to one gradient per input, written in terms of other ops. The
// engine runs it with grad mode off and drops it afterwards, freeing what it saved.
#include <functional>
#include <memory>
#include <vector>

#include "loom/autograd/op_table.h"
#include "loom/core/tensor.h"

namespace loom::autograd {

using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

class AttrMap;
// An op's typed attributes kept on its node (NOTE [Op schema]), readable by name.
class AttrsBox {
 public:
  virtual ~AttrsBox() = default;
  virtual AttrMap to_map() const = 0;
};

class Node {
 public:
  // Where the gradient for one input goes: into another node, or into a leaf.
  struct Edge {
    std::shared_ptr<Node> node;        // set for inputs produced by an op
    std::shared_ptr<TensorImpl> leaf;  // set for leaves that require grad
  };

  Node(OpId op, std::vector<Edge> edges, BackwardFn backward, std::shared_ptr<const AttrsBox> attrs = nullptr)
      : op_(op), edges_(std::move(edges)), backward_(std::move(backward)), attrs_(std::move(attrs)) {}

  OpId op() const { return op_; }
  const char* name() const { return op_name(op_); }
  const std::vector<Edge>& edges() const { return edges_; }
  bool released() const { return !backward_; }
  std::vector<Tensor> apply(const Tensor& grad_output) const;
  void release() { backward_ = nullptr; }
  // The attributes the op was called with; null for an op without any.
  const AttrsBox* attrs() const { return attrs_.get(); }

 private:
  OpId op_;
  std::vector<Edge> edges_;
  BackwardFn backward_;
  std::shared_ptr<const AttrsBox> attrs_;
};

// Attaches a backward node to `output` when grad mode is on and any input requires
// grad. Returns `output` for chaining. `backward` must return inputs.size() grads
// (an undefined Tensor for inputs that get none).
// Called by the dispatch path (src/autograd/dispatch.h), not by ops themselves.
Tensor record(OpId op, Tensor output, const std::vector<Tensor>& inputs, BackwardFn backward,
              std::shared_ptr<const AttrsBox> attrs = nullptr);

// NOTE [Gradient destinations]
// Inside a backward closure: the buffer where input i's gradient may be written
// directly, or an undefined Tensor. Defined only when input i is a leaf whose
// gradient zero_grad() marked (NOTE [Lazy zero gradient]), contiguous and of the
// input's shape, and no other edge of this backward pass reaches that leaf (so no
// other closure, concurrent or not, touches it). A closure that writes the whole
// gradient there and returns that tensor saves the engine a copy: for a Linear's
// weight, a pass over the largest buffer of a training step.
Tensor gradient_destination(size_t input);

// True when `record` would attach a node for these inputs.
bool needs_grad(const std::vector<Tensor>& inputs);

}  // namespace loom::autograd
