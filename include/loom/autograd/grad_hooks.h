#pragma once
// Hooks the backward engine runs when it delivers a gradient into a leaf, so that
// distributed data parallel can start reducing a parameter's gradient while the
// rest of backward is still running.
//
// NOTE [Leaf gradient hooks]
// The engine calls run_leaf_grad_hooks(leaf) once per leaf edge it visits, right
// after the gradient arriving over that edge has been added into leaf->grad
// (also when no gradient arrived over it, so a listener that counts the leaf's
// edges in the graph can tell when the leaf is final). Hooks may be called from
// several engine threads at once; they must be cheap and thread-safe. With no
// hook registered the cost is one relaxed atomic load per leaf edge.
#include <cstdint>
#include <functional>

#include "loom/core/tensor.h"

namespace loom::autograd {

using LeafGradHook = std::function<void(const TensorImpl* leaf)>;

// Registers a process-wide hook; returns an id for remove_leaf_grad_hook.
int64_t add_leaf_grad_hook(LeafGradHook hook);
void remove_leaf_grad_hook(int64_t id);

// Called by the engine (src/autograd/engine.cpp) after each leaf accumulation.
void run_leaf_grad_hooks(const TensorImpl* leaf);

// Removes a hook when it goes out of scope.
class ScopedLeafGradHook {
 public:
  explicit ScopedLeafGradHook(LeafGradHook hook) : id_(add_leaf_grad_hook(std::move(hook))) {}
  ~ScopedLeafGradHook() { remove_leaf_grad_hook(id_); }
  ScopedLeafGradHook(const ScopedLeafGradHook&) = delete;
  ScopedLeafGradHook& operator=(const ScopedLeafGradHook&) = delete;

 private:
  int64_t id_;
};

}  // namespace loom::autograd
