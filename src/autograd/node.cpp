#include "loom/autograd/node.h"

#include <array>
#include <string>

#include "loom/autograd/grad_mode.h"
#include "loom/runtime/profiler.h"

// NOTE [Op spans]
// With the profiler on, every op gives a forward span named after it ("linear"),
// from its entry into the dispatch path to its return (detail::OpCall in
// src/autograd/dispatch.cpp), so an op nested in another (layer_norm's mean,
// flatten's reshape) shows as a span inside the outer one. Every backward
// closure gives a span "<op>_backward" (Node::apply).
namespace loom::autograd {
namespace {

const char* backward_span_name(OpId op) {
  static const std::array<std::string, kNumOps>* names = [] {
    auto* n = new std::array<std::string, kNumOps>();
    for (size_t i = 0; i < kNumOps; ++i)
      (*n)[i] = std::string(kOpNames[i]) + "_backward";
    return n;
  }();
  return (*names)[static_cast<size_t>(op)].c_str();
}

}  // namespace

std::vector<Tensor> Node::apply(const Tensor& grad_output) const {
  runtime::ProfileScope span(runtime::profiler_enabled() ? backward_span_name(op_) : nullptr);
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

Tensor record(OpId op, Tensor output, const std::vector<Tensor>& inputs, BackwardFn backward,
              std::shared_ptr<const AttrsBox> attrs) {
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
  output.set_grad_fn(std::make_shared<Node>(op, std::move(edges), std::move(backward), std::move(attrs)));
  return output;
}

}  // namespace loom::autograd
