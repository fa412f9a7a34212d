#include "loom/nn/module.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace loom::nn {
namespace {

NamedTensors without_duplicates(NamedTensors all) {
  std::unordered_set<const TensorImpl*> seen;
  NamedTensors out;
  for (auto& [name, t] : all) {
    if (seen.insert(t.impl()).second)
      out.emplace_back(std::move(name), std::move(t));
  }
  return out;
}

}  // namespace

Tensor Module::forward_inputs(const std::vector<Tensor>& inputs) {
  LOOM_CHECK(inputs.size() == 1, describe(), " takes one input but was given ", inputs.size(),
             "; only merge layers (add, concat) take several");
  return forward(inputs[0]);
}

// ---- registration -------------------------------------------------------------------

void Module::check_new_name(const std::string& name) const {
  LOOM_CHECK(!name.empty() && name.find('.') == std::string::npos,
             "Module: a parameter, buffer or child name must be non-empty and contain no '.', got \"", name, "\"");
  auto taken = [&](const auto& list) {
    for (const auto& entry : list)
      if (entry.first == name)
        return true;
    return false;
  };
  LOOM_CHECK(!taken(params_) && !taken(buffers_) && !taken(children_), "Module ", describe(), ": the name \"", name,
             "\" is already registered");
}

Tensor& Module::register_parameter(std::string name, Tensor value) {
  check_new_name(name);
  LOOM_CHECK(value.defined(), "register_parameter(\"", name, "\"): the tensor is undefined");
  value.set_requires_grad(true);
  params_.emplace_back(std::move(name), std::move(value));
  return params_.back().second;
}

Tensor& Module::register_buffer(std::string name, Tensor value) {
  check_new_name(name);
  LOOM_CHECK(value.defined(), "register_buffer(\"", name, "\"): the tensor is undefined");
  buffers_.emplace_back(std::move(name), std::move(value));
  return buffers_.back().second;
}

// ---- traversal ---------------------------------------------------------------------

void Module::collect(const std::string& prefix, Kind kind, NamedTensors& out) const {
  if (kind != Kind::buffers)
    for (const auto& [name, t] : params_)
      out.emplace_back(prefix + name, t);
  if (kind != Kind::parameters)
    for (const auto& [name, t] : buffers_)
      out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_) {
    LOOM_CHECK(child != nullptr, "Module ", describe(), ": child \"", prefix + name, "\" is null");
    child->collect(prefix + name + ".", kind, out);
  }
}

NamedTensors Module::named_parameters() const {
  NamedTensors all;
  collect("", Kind::parameters, all);
  return without_duplicates(std::move(all));
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters())
    out.push_back(t);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors all;
  collect("", Kind::buffers, all);
  return without_duplicates(std::move(all));
}

NamedTensors Module::state_dict() const {
  NamedTensors out;
  collect("", Kind::state, out);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const Tensor& p : parameters())
    n += p.numel();
  return n;
}

std::string Module::repr() const {
  std::string out;
  repr_into(out, 0);
  return out;
}

void Module::repr_into(std::string& out, int indent) const {
  std::string line = describe();
  if (children_.empty()) {
    out += line;
    return;
  }
  // describe() of a container may carry a summary in parentheses; the tree replaces it.
  const size_t paren = line.find('(');
  out += (paren == std::string::npos ? line : line.substr(0, paren)) + "(\n";
  const std::string pad(static_cast<size_t>(indent + 2), ' ');
  for (const auto& [name, child] : children_) {
    out += pad + "(" + name + "): ";
    child->repr_into(out, indent + 2);
    out += "\n";
  }
  out += std::string(static_cast<size_t>(indent), ' ') + ")";
}

// ---- state -------------------------------------------------------------------------

void Module::load_state_dict(const NamedTensors& state, bool strict) {
  std::unordered_map<std::string, const Tensor*> given;
  for (const auto& [name, t] : state) {
    LOOM_CHECK(given.emplace(name, &t).second, "load_state_dict: \"", name, "\" appears twice in the state");
    LOOM_CHECK(t.defined(), "load_state_dict: \"", name, "\" is an undefined tensor");
  }
  const NamedTensors own = state_dict();
  std::string problems;
  std::unordered_set<std::string> used;
  for (const auto& [name, dst] : own) {
    auto it = given.find(name);
    if (it == given.end()) {
      if (strict)
        problems += "\n  missing \"" + name + "\" (shape " + shape_str(dst.shape()) + ")";
      continue;
    }
    used.insert(name);
    const Tensor& src = *it->second;
    if (src.shape() != dst.shape()) {
      problems += "\n  \"" + name + "\": the state has shape " + shape_str(src.shape()) + " but the model expects " +
                  shape_str(dst.shape());
    }
  }
  if (strict) {
    for (const auto& [name, t] : state)
      if (!used.count(name))
        problems += "\n  unexpected \"" + name + "\" (shape " + shape_str(t.shape()) + ")";
  }
  LOOM_CHECK(problems.empty(), "load_state_dict into ", describe(), " failed:", problems,
             "\n(hint: the state must come from the same architecture; pass strict=false to skip "
             "missing and unexpected names)");
  for (const auto& [name, dst] : own) {
    auto it = given.find(name);
    if (it != given.end())
      dst.copy_(*it->second);
  }
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_)
    child->train(on);
}

// ---- gradients and the arena ----------------------------------------------------------

namespace {
// The arena group whose parameter buffer holds p, or null.
const Module::ArenaGroup* group_holding(const std::vector<Module::ArenaGroup>& groups, const Tensor& p) {
  for (const Module::ArenaGroup& g : groups)
    if (p.storage().data() == g.parameters.storage().data())
      return &g;
  return nullptr;
}
}  // namespace

void Module::zero_grad() {
  // NOTE [Lazy zero gradient]: marked, not written.
  for (const Tensor& p : parameters()) {
    // A gradient the user reset or replaced is bound back into the arena, so the
    // optimizer's single-slice update keeps covering every parameter.
    if (const ArenaGroup* group = group_holding(arenas_, p)) {
      const Tensor g = p.impl()->grad ? Tensor(p.impl()->grad) : Tensor();
      const bool in_arena = g.defined() && g.storage().data() == group->gradients.storage().data() &&
                            g.offset() == p.offset() && g.strides() == p.strides();
      if (!in_arena)
        Tensor(p).set_grad(group->gradients.as_strided(p.shape(), p.strides(), p.offset()));
    }
    p.zero_grad();
  }
}

const std::vector<Module::ArenaGroup>& Module::arena_groups() const {
  for (const Tensor& p : parameters())
    if (p.impl()->grad_is_zero && group_holding(arenas_, p))
      (void)p.grad();  // fills a pending zero
  return arenas_;
}

namespace {
const Module::ArenaGroup* only_group(const std::vector<Module::ArenaGroup>& groups, const char* what) {
  if (groups.empty())
    return nullptr;
  LOOM_CHECK(groups.size() == 1, what, ": the parameters are packed in ", groups.size(), " dtype groups (the first ",
             dtype_name(groups[0].dtype), ", the second ", dtype_name(groups[1].dtype), "); use arena_groups()");
  return &groups[0];
}
}  // namespace

Tensor Module::parameter_arena() const {
  const ArenaGroup* g = only_group(arenas_, "parameter_arena");
  return g ? g->parameters : Tensor();
}

Tensor Module::gradient_arena() const {
  const ArenaGroup* g = only_group(arena_groups(), "gradient_arena");
  return g ? g->gradients : Tensor();
}

void Module::pack_parameters() {
  const NamedTensors named = named_parameters();
  if (named.empty())
    return;
  const Device device = named.front().second.device();
  std::vector<ArenaGroup> groups;
  for (size_t i = 0; i < named.size(); ++i) {
    const auto& [name, p] = named[i];
    LOOM_CHECK(p.device() == device, "pack_parameters: all parameters must share one device, but \"", name, "\" is on ",
               p.device().str(), " and the first is on ", device.str());
    const DType dtype = p.dtype();  // (clang 14 cannot capture a structured binding)
    auto it = std::find_if(groups.begin(), groups.end(), [&](const ArenaGroup& g) { return g.dtype == dtype; });
    if (it == groups.end()) {
      groups.push_back(ArenaGroup{p.dtype(), {}, {}, {}});
      it = groups.end() - 1;
    }
    it->indices.push_back(i);
  }
  for (ArenaGroup& group : groups) {
    int64_t total = 0;
    for (size_t i : group.indices)
      total += named[i].second.numel();
    group.parameters = Tensor::empty({total}, group.dtype, device);
    group.gradients = Tensor::zeros({total}, group.dtype, device);
    int64_t offset = 0;
    for (size_t i : group.indices) {
      const Tensor& p = named[i].second;
      const Shape strides = contiguous_strides(p.shape());
      group.parameters.as_strided(p.shape(), strides, offset).copy_(p);
      Tensor grad = group.gradients.as_strided(p.shape(), strides, offset);
      if (p.grad().defined())
        grad.copy_(p.grad());
      TensorImpl* impl = p.impl();
      impl->storage = group.parameters.storage();
      impl->strides = strides;
      impl->offset = offset;
      impl->grad = grad.impl_ptr();
      impl->grad_is_zero = false;
      offset += p.numel();
    }
  }
  arenas_ = std::move(groups);
}

namespace {
// Re-points `impl` at a copy of its elements on `device`, keeping its shape and
// strides when it is contiguous (a fresh copy is laid out contiguously).
void move_impl(const std::shared_ptr<TensorImpl>& impl, Device device) {
  if (impl == nullptr || impl->storage.device() == device)
    return;
  Tensor moved = Tensor(impl).to(device);
  impl->storage = moved.storage();
  impl->strides = moved.strides();
  impl->offset = moved.offset();
}
}  // namespace

Module& Module::to(Device device) {
  const NamedTensors params = named_parameters();
  for (const auto& [name, p] : params) {
    if (const ArenaGroup* held = group_holding(arenas_, p); held == nullptr) {
      move_impl(p.impl_ptr(), device);
      move_impl(p.impl()->grad, device);
    }
  }
  // A packed group moves as two buffers; its views are re-pointed, offsets kept.
  for (ArenaGroup& group : arenas_) {
    const Storage old_params = group.parameters.storage(), old_grads = group.gradients.storage();
    group.parameters = group.parameters.to(device);
    group.gradients = group.gradients.to(device);
    for (size_t i : group.indices) {
      TensorImpl* impl = params[i].second.impl();
      if (impl->storage.data() == old_params.data())
        impl->storage = group.parameters.storage();
      if (impl->grad && impl->grad->storage.data() == old_grads.data())
        impl->grad->storage = group.gradients.storage();
    }
  }
  for (const auto& [name, b] : named_buffers())
    move_impl(b.impl_ptr(), device);
  return *this;
}

}  // namespace loom::nn
