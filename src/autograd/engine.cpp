#include "loom/autograd/engine.h"

#include <unordered_map>

#include "loom/autograd/grad_mode.h"
#include "loom/autograd/node.h"
#include "loom/autograd/ops.h"

namespace loom::autograd {
namespace {

// Adds `g` into `slot`, taking ownership of `g` when the slot is empty.
void accumulate(Tensor& slot, const Tensor& g) {
  if (!slot.defined()) {
    slot = g;
  } else {
    slot = add(slot, g);
  }
}

void accumulate_into_leaf(TensorImpl* leaf, const Tensor& g) {
  Tensor leaf_tensor(std::shared_ptr<TensorImpl>(leaf, [](TensorImpl*) {}));
  LOOM_ASSERT(g.shape() == leaf->shape && g.dtype() == leaf->dtype);
  Tensor existing = leaf_tensor.grad();
  if (!existing.defined()) {
    // A fresh, contiguous buffer the leaf owns: `g` may alias other tensors.
    leaf_tensor.set_grad(g.clone());
  } else {
    add_(existing, g);
  }
}

}  // namespace

void backward(const Tensor& root, const Tensor& grad_root, bool retain_graph) {
  LOOM_CHECK(root.defined(), "backward() on an undefined tensor");
  LOOM_CHECK(root.requires_grad(),
             "backward(): the tensor does not require grad (was it computed under no_grad, "
             "or from inputs none of which require grad?)");
  Tensor seed = grad_root;
  if (!seed.defined()) {
    LOOM_CHECK(root.numel() == 1, "backward() without a gradient needs a scalar, got shape ", shape_str(root.shape()));
    seed = Tensor::ones(root.shape(), root.dtype());
  }
  NoGradGuard no_grad;
  if (!root.grad_fn()) {  // the root is itself a leaf
    accumulate_into_leaf(root.impl(), seed);
    return;
  }

  // Count, for every node, how many edges point at it (its consumers).
  std::unordered_map<Node*, int> consumers;
  std::vector<Node*> stack{root.grad_fn().get()};
  consumers[root.grad_fn().get()] = 0;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Node::Edge& e : n->edges()) {
      if (!e.node)
        continue;
      auto [it, inserted] = consumers.try_emplace(e.node.get(), 0);
      ++it->second;
      if (inserted)
        stack.push_back(e.node.get());
    }
  }

  // Run nodes once all their consumers have delivered gradients.
  std::unordered_map<Node*, Tensor> pending;
  pending[root.grad_fn().get()] = seed;
  std::vector<Node*> ready{root.grad_fn().get()};
  while (!ready.empty()) {
    Node* n = ready.back();
    ready.pop_back();
    Tensor grad_out = std::move(pending[n]);
    pending.erase(n);
    // A node that no gradient reached still runs its bookkeeping, with no math.
    std::vector<Tensor> grads = grad_out.defined() ? n->apply(grad_out) : std::vector<Tensor>(n->edges().size());
    if (!retain_graph)
      n->release();
    for (size_t i = 0; i < grads.size(); ++i) {
      const Node::Edge& e = n->edges()[i];
      if (e.node) {
        if (grads[i].defined())
          accumulate(pending[e.node.get()], grads[i]);
        if (--consumers[e.node.get()] == 0)
          ready.push_back(e.node.get());
      } else if (e.leaf && grads[i].defined()) {
        accumulate_into_leaf(e.leaf.get(), grads[i]);
      }
    }
  }
}

}  // namespace loom::autograd

namespace loom {
void Tensor::backward() const { autograd::backward(*this); }
}  // namespace loom
