#include "loom/nn/sequential.h"

#include <typeinfo>

#include "loom/nn/activation.h"
#include "loom/nn/conv.h"
#include "loom/nn/linear.h"

namespace loom::nn {

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> modules) {
  for (const auto& m : modules)
    add(m);
}

Sequential& Sequential::add(std::shared_ptr<Module> module) {
  LOOM_CHECK(module != nullptr, "Sequential::add: module ", size(), " is null");
  register_module(std::to_string(size()), std::move(module));
  return *this;
}

namespace {

// The activation a Linear followed by `m` can fuse (NOTE [Fused linear]); exact
// types only, so a subclass with its own forward is never skipped.
Activation fusable_activation(const Module& m) {
  if (typeid(m) == typeid(ReLU))
    return Activation::relu;
  if (typeid(m) == typeid(GELU))
    return Activation::gelu;
  return Activation::none;
}

}  // namespace

// NOTE [Sequential rewrites]
// The modules stay as they are (names, state_dict, describe); only how the
// forward pass runs changes, and never its values:
// - A Linear followed by ReLU or GELU runs as one linear_act op (NOTE [Fused linear]).
// - ReLU followed by MaxPool2d runs as the pool, then the ReLU. ReLU is monotone,
//   so max(relu(x)) == relu(max(x)) bit for bit, and the gradients agree too: a
//   window whose max is positive sends its gradient to the same (first) maximum,
//   and one whose max is <= 0 sends none either way. The ReLU and its backward
//   then touch the pooled map, a quarter of the conv output for 2x2 pooling:
//   the reference CNN's two largest element-wise passes become four times smaller.
// - Conv2d followed by MaxPool2d (also with that ReLU between them, which then
//   runs after the pool, inside the same op) runs as one conv2d_max_pool2d op,
//   whose convolution output never leaves the cache (NOTE [Fused conv + max-pool]).
Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  const auto& ch = children();
  auto is = [&](size_t i, const std::type_info& type) { return i < ch.size() && typeid(*ch[i].second) == type; };
  for (size_t i = 0; i < ch.size(); ++i) {
    Module& m = *ch[i].second;
    if (is(i, typeid(Conv2d)) &&
        (is(i + 1, typeid(MaxPool2d)) || (is(i + 1, typeid(ReLU)) && is(i + 2, typeid(MaxPool2d))))) {
      const bool relu = is(i + 1, typeid(ReLU));
      const auto& pool = static_cast<const MaxPool2d&>(*ch[i + (relu ? 2 : 1)].second);
      y = static_cast<Conv2d&>(m).forward_max_pool(y, pool.options(), relu ? Activation::relu : Activation::none);
      i += relu ? 2 : 1;
      continue;
    }
    if (is(i, typeid(Linear)) && i + 1 < ch.size()) {
      const Activation act = fusable_activation(*ch[i + 1].second);
      if (act != Activation::none) {
        y = static_cast<Linear&>(m).forward_act(y, act);
        ++i;
        continue;
      }
    }
    if (is(i, typeid(ReLU)) && is(i + 1, typeid(MaxPool2d))) {
      y = m.forward(ch[i + 1].second->forward(y));
      ++i;
      continue;
    }
    y = m.forward(y);
  }
  return y;
}

std::string Sequential::describe() const { return "Sequential(" + std::to_string(size()) + " modules)"; }

const std::shared_ptr<Module>& Sequential::operator[](size_t i) const {
  if (i >= size())
    LOOM_THROW(IndexError, "Sequential: index ", i, " is out of range for ", size(), " modules");
  return children()[i].second;
}

}  // namespace loom::nn
