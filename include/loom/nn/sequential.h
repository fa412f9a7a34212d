#pragma once
#include <initializer_list>

#include "loom/nn/graph.h"

namespace loom::nn {

// Runs its children in order: a Graph whose nodes form a chain, so it gets the
// same fusion passes (NOTE [Fusion passes]). Children are named "0", "1", ... as
// in PyTorch's nn.Sequential, so state_dict keys match: "0.weight", "3.running_mean".
//
//   auto model = std::make_shared<Sequential>(
//       std::make_shared<Linear>(784, 256), std::make_shared<ReLU>(), std::make_shared<Linear>(256, 10));
class Sequential : public Graph {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
  template <typename... Ms>
  explicit Sequential(std::shared_ptr<Ms>... modules) {
    (add(std::move(modules)), ...);
  }
  // Appends a module under the next index; returns *this for chaining.
  Sequential& add(std::shared_ptr<Module> module);

  std::string describe() const override;

  size_t size() const { return children().size(); }
  const std::shared_ptr<Module>& operator[](size_t i) const;
};

}  // namespace loom::nn
