#pragma once
#include <initializer_list>

#include "loom/nn/module.h"

namespace loom::nn {

// Runs its children in order. Children are named "0", "1", ... as in PyTorch's
// nn.Sequential, so state_dict keys match: "0.weight", "3.running_mean".
//
//   auto model = std::make_shared<Sequential>(
//       std::make_shared<Linear>(784, 256), std::make_shared<ReLU>(), std::make_shared<Linear>(256, 10));
class Sequential : public Module {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
  template <typename... Ms>
  explicit Sequential(std::shared_ptr<Ms>... modules) {
    (add(std::move(modules)), ...);
  }
  // Appends a module under the next index; returns *this for chaining.
  Sequential& add(std::shared_ptr<Module> module);

  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

  size_t size() const { return children().size(); }
  const std::shared_ptr<Module>& operator[](size_t i) const;
};

}  // namespace loom::nn
