// NOTE [Leaf gradient hooks] in loom/autograd/grad_hooks.h.
#include "loom/autograd/grad_hooks.h"

#include <atomic>
#include <mutex>
#include <utility>
#include <vector>

namespace loom::autograd {
namespace {

struct Registry {
  std::mutex mutex;
  std::vector<std::pair<int64_t, LeafGradHook>> hooks;
  int64_t next_id = 1;
  std::atomic<int> count{0};
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

int64_t add_leaf_grad_hook(LeafGradHook hook) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  const int64_t id = r.next_id++;
  r.hooks.emplace_back(id, std::move(hook));
  r.count.store(static_cast<int>(r.hooks.size()), std::memory_order_release);
  return id;
}

void remove_leaf_grad_hook(int64_t id) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::erase_if(r.hooks, [id](const auto& h) { return h.first == id; });
  r.count.store(static_cast<int>(r.hooks.size()), std::memory_order_release);
}

void run_leaf_grad_hooks(const TensorImpl* leaf) {
  Registry& r = registry();
  if (r.count.load(std::memory_order_acquire) == 0)
    return;
  std::lock_guard<std::mutex> lock(r.mutex);
  for (const auto& [id, hook] : r.hooks)
    hook(leaf);
}

}  // namespace loom::autograd
