#include "loom/autograd/node.h"

#include "loom/autograd/grad_mode.h"

namespace loom::autograd {

std::vector<Tensor> Node::apply(const Tensor& grad_output) const {
  if (!backward_) {
    LOOM_THROW(Error, "backward through '", name(),
               "' a second time: its saved values were freed after the first backward");
  }
  std::vector<Tensor> grads = backward_(grad_output);
  LOOM_ASSERT(grads.size() == edges_.size());
  return grads;
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!grad_enabled())
    return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad())
      return true;
  return false;
}

Tensor record(OpId op, Tensor output, const std::vector<Tensor>& inputs, BackwardFn backward) {
  if (!needs_grad(inputs))
    return output;
  for (const Tensor& t : inputs)
    LOOM_ASSERT(!t.defined() || !t.is_same(output));  // ops return fresh tensors
  std::vector<Node::Edge> edges(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.defined() || !t.requires_grad())
      continue;
    if (t.grad_fn()) {
      edges[i].node = t.grad_fn();
    } else {
      edges[i].leaf = t.impl_ptr();
    }
  }
  output.set_requires_grad(true);
  output.set_grad_fn(std::make_shared<Node>(op, std::move(edges), std::move(backward)));
  return output;
}

}  // namespace loom::autograd
