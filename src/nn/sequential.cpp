#include "loom/nn/sequential.h"

namespace loom::nn {

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> modules) {
  for (const auto& m : modules)
    add(m);
}

Sequential& Sequential::add(std::shared_ptr<Module> module) {
  LOOM_CHECK(module != nullptr, "Sequential::add: module ", size(), " is null");
  add_node(std::to_string(size()), std::move(module));
  return *this;
}

std::string Sequential::describe() const { return "Sequential(" + std::to_string(size()) + " modules)"; }

const std::shared_ptr<Module>& Sequential::operator[](size_t i) const {
  if (i >= size())
    LOOM_THROW(IndexError, "Sequential: index ", i, " is out of range for ", size(), " modules");
  return children()[i].second;
}

}  // namespace loom::nn
