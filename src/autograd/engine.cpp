#include "loom/autograd/engine.h"

#include <unordered_map>
#include <vector>

#include "loom/autograd/grad_hooks.h"
#include "loom/autograd/grad_mode.h"
#include "loom/autograd/node.h"
#include "loom/autograd/ops.h"
#include "loom/runtime/executor.h"
#include "loom/runtime/parallel.h"

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
  if (leaf->grad_is_zero) {  // NOTE [Lazy zero gradient]: write, do not add to zeros
    leaf->grad_is_zero = false;
    Tensor grad(leaf->grad);
    if (g.raw_data() != grad.raw_data() || g.strides() != grad.strides())  // not written in place
      grad.copy_(g);
    return;
  }
  Tensor existing = leaf_tensor.grad();
  if (!existing.defined()) {
    // A fresh, contiguous buffer the leaf owns: `g` may alias other tensors.
    leaf_tensor.set_grad(g.clone());
  } else {
    add_(existing, g);
  }
}

// The node whose closure runs on this thread, and how many edges of the backward
// pass reach each leaf (NOTE [Gradient destinations]).
struct RunningNode {
  const Node* node = nullptr;
  const std::unordered_map<const TensorImpl*, int>* leaf_edges = nullptr;
};
thread_local RunningNode t_running;

struct RunningNodeScope {
  RunningNode saved;
  RunningNodeScope(const Node* node, const std::unordered_map<const TensorImpl*, int>* leaf_edges) : saved(t_running) {
    t_running = {node, leaf_edges};
  }
  ~RunningNodeScope() { t_running = saved; }
};

}  // namespace

Tensor gradient_destination(size_t input) {
  const RunningNode& r = t_running;
  if (!r.node || input >= r.node->edges().size())
    return Tensor();
  const TensorImpl* leaf = r.node->edges()[input].leaf.get();
  if (!leaf || !leaf->grad_is_zero || !leaf->grad)
    return Tensor();
  auto it = r.leaf_edges->find(leaf);
  if (it == r.leaf_edges->end() || it->second != 1)
    return Tensor();
  Tensor grad(leaf->grad);
  if (grad.shape() != leaf->shape || grad.dtype() != leaf->dtype || !grad.is_contiguous())
    return Tensor();
  return grad;
}

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
    run_leaf_grad_hooks(root.impl());
    return;
  }

  // Count, for every node, how many edges point at it (its consumers), and the
  // edges into each leaf.
  std::unordered_map<Node*, int> consumers;
  std::unordered_map<const TensorImpl*, int> leaf_edges;
  std::vector<Node*> stack{root.grad_fn().get()};
  consumers[root.grad_fn().get()] = 0;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Node::Edge& e : n->edges()) {
      if (e.leaf)
        ++leaf_edges[e.leaf.get()];
      if (!e.node)
        continue;
      auto [it, inserted] = consumers.try_emplace(e.node.get(), 0);
      ++it->second;
      if (inserted)
        stack.push_back(e.node.get());
    }
  }

  // NOTE [Backward schedule]
  // Nodes run in waves: a wave is every node whose consumers have all delivered
  // their gradients. The nodes of a wave are independent, so with inter-op
  // parallelism on (runtime::interop_enabled(), LOOM_INTEROP=1) their backward
  // closures run at the same time, each on one thread (runtime/executor.h).
  // Their results are then delivered one node after another in wave order, edge
  // by edge, on this thread: every gradient slot receives its contributions in
  // the same order whether the closures ran concurrently or not, so the
  // gradients are bit-identical either way. A graph that is a chain has waves of
  // one node and runs exactly as a plain depth-first walk would.
  const bool concurrent = runtime::interop_enabled() && !runtime::in_interop_task() && !runtime::in_parallel_region();
  std::unordered_map<Node*, Tensor> pending;
  pending[root.grad_fn().get()] = seed;
  std::vector<Node*> wave{root.grad_fn().get()};
  std::vector<Node*> next;
  std::vector<Tensor> grad_outs;
  std::vector<std::vector<Tensor>> grads;
  while (!wave.empty()) {
    grad_outs.assign(wave.size(), Tensor());
    grads.assign(wave.size(), {});
    size_t with_math = 0;
    for (size_t i = 0; i < wave.size(); ++i) {
      auto it = pending.find(wave[i]);
      if (it != pending.end()) {
        grad_outs[i] = std::move(it->second);
        pending.erase(it);
      }
      with_math += grad_outs[i].defined() ? 1 : 0;
    }
    // A node that no gradient reached still runs its bookkeeping, with no math.
    auto run_node = [&](size_t i) {
      RunningNodeScope running(wave[i], &leaf_edges);
      grads[i] = grad_outs[i].defined() ? wave[i]->apply(grad_outs[i]) : std::vector<Tensor>(wave[i]->edges().size());
      grad_outs[i] = Tensor();
    };
    if (concurrent && with_math >= 2) {
      // Which nodes have math is decided before any task starts: a task clears
      // its grad_outs entry when it is done.
      std::vector<char> math(wave.size());
      for (size_t i = 0; i < wave.size(); ++i)
        math[i] = grad_outs[i].defined();
      runtime::TaskGroup group;
      for (size_t i = 0; i < wave.size(); ++i) {
        if (math[i]) {
          group.run([&run_node, i] {
            NoGradGuard task_no_grad;  // grad mode is per thread
            run_node(i);
          });
        }
      }
      for (size_t i = 0; i < wave.size(); ++i)
        if (!math[i])
          run_node(i);
      group.wait();
    } else {
      for (size_t i = 0; i < wave.size(); ++i)
        run_node(i);
    }
    next.clear();
    for (size_t k = 0; k < wave.size(); ++k) {
      Node* n = wave[k];
      if (!retain_graph)
        n->release();
      for (size_t i = 0; i < grads[k].size(); ++i) {
        const Node::Edge& e = n->edges()[i];
        if (e.node) {
          if (grads[k][i].defined())
            accumulate(pending[e.node.get()], grads[k][i]);
          if (--consumers[e.node.get()] == 0)
            next.push_back(e.node.get());
        } else if (e.leaf) {
          if (grads[k][i].defined())
            accumulate_into_leaf(e.leaf.get(), grads[k][i]);
          run_leaf_grad_hooks(e.leaf.get());  // also with no gradient: NOTE [Leaf gradient hooks]
        }
      }
      grads[k].clear();
    }
    wave.swap(next);
  }
}

}  // namespace loom::autograd

namespace loom {
void Tensor::backward() const { autograd::backward(*this); }
}  // namespace loom
