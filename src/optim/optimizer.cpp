#include "loom/optim/optimizer.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_set>

#include "loom/autograd/grad_mode.h"
#include "loom/runtime/profiler.h"

namespace loom::optim {
namespace {

bool same_storage(const Tensor& a, const Tensor& b) { return a.storage().data() == b.storage().data(); }

// A flat [n] view starting where `t` starts (t must be contiguous).
Tensor flat_from(const Tensor& t, int64_t n) { return t.as_strided({n}, {1}, t.offset()); }

}  // namespace

Optimizer::Optimizer(ParamGroups params, OptimizerOptions options) : options_(options) {
  groups_ = std::move(params.groups);
  for (size_t g = 0; g < groups_.size(); ++g) {
    ParamGroup& group = groups_[g];
    const std::string who = group.name.empty() ? "group " + std::to_string(g) : "group \"" + group.name + "\"";
    LOOM_CHECK(!group.weight_decay || *group.weight_decay >= 0, "optimizer: ", who, " has weight_decay ",
               group.weight_decay.value_or(0), "; it must be >= 0");
    LOOM_CHECK(group.lr_scale >= 0, "optimizer: ", who, " has lr_scale ", group.lr_scale, "; it must be >= 0");
    for (Tensor& p : group.params) {
      params_.push_back(std::move(p));
      group_of_.push_back(g);
    }
    group.params.clear();
  }
  slots_.resize(params_.size());
  std::unordered_set<const TensorImpl*> seen;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    LOOM_CHECK(p.defined(), "optimizer: parameter ", i, " is an undefined tensor");
    LOOM_CHECK(p.dtype() == DType::f32 || p.dtype() == DType::f64, "optimizer: parameter ", i,
               " must be f32 or f64, got ", dtype_name(p.dtype()), " with shape ", shape_str(p.shape()));
    LOOM_CHECK(p.is_leaf(), "optimizer: parameter ", i, " (shape ", shape_str(p.shape()),
               ") is computed by an op; pass leaf tensors such as model->parameters()");
    LOOM_CHECK(p.device().is_cpu(), "optimizer: parameter ", i, " is on ", p.device().str(),
               "; only CPU parameters are supported");
    LOOM_CHECK(seen.insert(p.impl()).second, "optimizer: parameter ", i, " appears more than once in the list");
  }
  LOOM_CHECK(options_.lr >= 0, "optimizer: learning rate must be >= 0, got ", options_.lr);
  LOOM_CHECK(options_.weight_decay >= 0, "optimizer: weight_decay must be >= 0, got ", options_.weight_decay);
  LOOM_CHECK(options_.max_grad_norm >= 0, "optimizer: max_grad_norm must be >= 0 (0: no clipping), got ",
             options_.max_grad_norm);
}

double Optimizer::weight_decay_of(size_t i) const {
  return groups_[group_of_[i]].weight_decay.value_or(options_.weight_decay);
}

void Optimizer::zero_grad() {
  for (const Tensor& p : params_)
    p.zero_grad();  // NOTE [Lazy zero gradient]
}

// ---- state slots ------------------------------------------------------------------------

Tensor* Optimizer::find_slot(size_t i, const std::string& name) {
  for (auto& [slot_name, t] : slots_[i])
    if (slot_name == name)
      return &t;
  return nullptr;
}

const Tensor* Optimizer::find_slot(size_t i, const std::string& name) const {
  for (const auto& [slot_name, t] : slots_[i])
    if (slot_name == name)
      return &t;
  return nullptr;
}

bool Optimizer::has_slot(size_t i, const std::string& name) const { return find_slot(i, name) != nullptr; }

Tensor& Optimizer::slot(size_t i, const std::string& name) {
  LOOM_ASSERT(i < params_.size());
  if (Tensor* t = find_slot(i, name))
    return *t;
  slots_[i].emplace_back(name, Tensor::zeros(params_[i].shape(), params_[i].dtype()));
  return slots_[i].back().second;
}

nn::NamedTensors Optimizer::state_dict() const {
  nn::NamedTensors out;
  for (size_t i = 0; i < slots_.size(); ++i)
    for (const auto& [name, t] : slots_[i])
      out.emplace_back(std::to_string(i) + "." + name, t.clone());
  out.emplace_back("step", Tensor::scalar(static_cast<double>(steps_), DType::i64));
  return out;
}

void Optimizer::load_state_dict(const nn::NamedTensors& state) {
  const std::vector<std::string> known = slot_names();
  std::string problems;
  const Tensor* step = nullptr;
  bool step_seen = false;
  std::map<size_t, std::map<std::string, const Tensor*>> loaded;
  for (const auto& [key, t] : state) {
    if (key == "step") {
      step_seen = true;
      if (!t.defined() || t.numel() != 1) {
        problems += "\n  \"step\" must be a single number";
      } else {
        step = &t;
      }
      continue;
    }
    const size_t dot = key.find('.');
    const std::string index_text = key.substr(0, dot);
    const bool numeric = !index_text.empty() && index_text.size() < 10 &&
                         std::all_of(index_text.begin(), index_text.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (dot == std::string::npos || !numeric) {
      problems += "\n  \"" + key + "\" is not of the form <param index>.<slot>";
      continue;
    }
    const size_t i = std::stoul(index_text);
    const std::string name = key.substr(dot + 1);
    if (i >= params_.size()) {
      problems += "\n  \"" + key + "\" names parameter " + index_text + " but the optimizer has " +
                  std::to_string(params_.size()) + " parameters";
    } else if (std::find(known.begin(), known.end(), name) == known.end()) {
      problems +=
          "\n  unexpected slot \"" + key + "\" (" + this->name() + " with these options keeps no \"" + name + "\")";
    } else if (!t.defined() || t.shape() != params_[i].shape()) {
      problems += "\n  \"" + key + "\": the state has shape " + (t.defined() ? shape_str(t.shape()) : "undefined") +
                  " but parameter " + index_text + " has shape " + shape_str(params_[i].shape());
    } else {
      loaded[i][name] = &t;
    }
  }
  if (!step_seen)
    problems += "\n  missing \"step\"";
  for (const auto& [i, slots] : loaded) {
    for (const std::string& name : known)
      if (!slots.count(name))
        problems += "\n  missing slot \"" + std::to_string(i) + "." + name + "\"";
  }
  LOOM_CHECK(problems.empty(), "load_state_dict into ", name(), " failed:", problems,
             "\n(hint: the state must come from the same optimizer, options and parameter list)");

  for (auto& s : slots_)
    s.clear();
  for (const auto& [i, slots] : loaded)
    for (const auto& [name, t] : slots)
      slots_[i].emplace_back(name, t->to(params_[i].dtype()).clone());
  steps_ = static_cast<int64_t>(step->item_double());
}

// ---- segments -------------------------------------------------------------------------

std::vector<std::string> Optimizer::sorted_slot_names(size_t i) const {
  std::vector<std::string> names;
  for (const auto& [name, t] : slots_[i])
    names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

// Whether parameter `next` extends the segment that ends with `previous` (NOTE [Fused update]).
bool Optimizer::continues_run(size_t previous, size_t next) const {
  const Tensor &a = params_[previous], &b = params_[next];
  const Tensor ga = a.grad(), gb = b.grad();
  if (group_of_[previous] != group_of_[next] || a.dtype() != b.dtype() || !gb.defined() || gb.dtype() != b.dtype() ||
      gb.shape() != b.shape() || !b.is_contiguous() || !gb.is_contiguous() || !same_storage(a, b) ||
      !same_storage(ga, gb))
    return false;
  if (b.offset() != a.offset() + a.numel() || gb.offset() - b.offset() != ga.offset() - a.offset())
    return false;
  // Parameters whose state was created at different times cannot share one loop:
  // SGD's first momentum step differs from the others.
  return sorted_slot_names(previous) == sorted_slot_names(next);
}

std::vector<Optimizer::Segment> Optimizer::make_segments() const {
  // Parameters in buffer order within each group, so that an arena group's
  // parameters follow each other even when the list interleaves dtypes or groups.
  std::vector<size_t> order(params_.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const Tensor &pa = params_[a], &pb = params_[b];
    const auto* sa = pa.storage().data();
    const auto* sb = pb.storage().data();
    if (group_of_[a] != group_of_[b])
      return group_of_[a] < group_of_[b];
    if (sa != sb)
      return std::less<>()(sa, sb);
    return pa.offset() < pb.offset();
  });
  std::vector<Segment> out;
  for (size_t k = 0; k < order.size();) {
    const size_t i = order[k];
    const Tensor& p = params_[i];
    const Tensor g = p.grad();
    if (!g.defined()) {
      ++k;
      continue;
    }
    LOOM_CHECK(g.shape() == p.shape() && g.dtype() == p.dtype(), "optimizer: the gradient of parameter ", i, " is ",
               dtype_name(g.dtype()), " ", shape_str(g.shape()), " but the parameter is ", dtype_name(p.dtype()), " ",
               shape_str(p.shape()));
    Segment s;
    s.lr = lr_of(i);
    s.weight_decay = weight_decay_of(i);
    s.indices = {i};
    if (p.is_contiguous() && g.is_contiguous()) {
      int64_t total = p.numel();
      size_t j = k + 1;
      for (; j < order.size() && continues_run(order[j - 1], order[j]); ++j) {
        s.indices.push_back(order[j]);
        total += params_[order[j]].numel();
      }
      s.param = flat_from(p, total);
      s.grad = flat_from(g, total);
      out.push_back(std::move(s));
      k = j;
      continue;
    }
    const Tensor gc = g.contiguous();
    s.grad = flat_from(gc, p.numel());
    if (p.is_contiguous()) {
      s.param = flat_from(p, p.numel());
    } else {
      s.write_back = p;
      s.param = flat_from(p.clone(), p.numel());
    }
    out.push_back(std::move(s));
    ++k;
  }
  return out;
}

// Global norm over flat gradients, and the scale clip_grad_norm applies.
namespace {
double global_norm(const std::vector<Tensor>& grads) {
  autograd::NoGradGuard no_grad;
  double squares = 0;
  for (const Tensor& g : grads)
    squares += sum(mul(g, g)).item_double();
  return std::sqrt(squares);
}
void clip_to(const std::vector<Tensor>& grads, double norm, double max_norm) {
  const double coefficient = max_norm / (norm + 1e-6);
  if (coefficient >= 1)
    return;
  autograd::NoGradGuard no_grad;
  for (const Tensor& g : grads)
    g.copy_(mul_scalar(g, coefficient));
}
}  // namespace

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  LOOM_CHECK(max_norm > 0, "clip_grad_norm: max_norm must be > 0, got ", max_norm);
  std::vector<Tensor> grads;
  for (const Tensor& p : params)
    if (p.grad().defined())
      grads.push_back(p.grad());
  const double norm = global_norm(grads);
  clip_to(grads, norm, max_norm);
  return norm;
}

void Optimizer::for_each_segment(const std::function<void(Segment&)>& fn) {
  LOOM_PROFILE_SCOPE("optimizer_step");  // every optimizer's step() runs through here
  std::vector<Segment> segments = make_segments();
  if (options_.max_grad_norm > 0) {  // the segments' gradients are what the update reads
    std::vector<Tensor> grads;
    for (const Segment& s : segments)
      grads.push_back(s.grad);
    last_grad_norm_ = global_norm(grads);
    clip_to(grads, last_grad_norm_, options_.max_grad_norm);
  }
  for (Segment& s : segments) {
    fn(s);
    if (s.write_back.defined())
      s.write_back.copy_(s.param.view(s.write_back.shape()));
    for (size_t i : s.indices)
      params_[i].bump_version();
  }
}

bool Optimizer::segment_has_slot(const Segment& segment, const std::string& name) const {
  return has_slot(segment.indices.front(), name);
}

Tensor Optimizer::segment_slot(const Segment& segment, const std::string& name) {
  const int64_t total = segment.param.numel();
  if (segment.indices.size() == 1)
    return flat_from(slot(segment.indices.front(), name), total);
  // Already one flat buffer when every per-parameter slot follows the previous one.
  const Tensor* first = find_slot(segment.indices.front(), name);
  bool flat = first != nullptr && first->is_contiguous();
  int64_t next = flat ? first->offset() : 0;
  for (size_t i : segment.indices) {
    const Tensor* t = find_slot(i, name);
    if (!flat || t == nullptr || !t->is_contiguous() || !same_storage(*t, *first) || t->offset() != next) {
      flat = false;
      break;
    }
    next += t->numel();
  }
  if (flat)
    return flat_from(*first, total);
  Tensor buffer = Tensor::zeros({total}, segment.param.dtype());
  int64_t offset = 0;
  for (size_t i : segment.indices) {
    const Shape& shape = params_[i].shape();
    Tensor view = buffer.as_strided(shape, contiguous_strides(shape), offset);
    if (Tensor* old = find_slot(i, name)) {
      view.copy_(*old);
      *old = view;
    } else {
      slots_[i].emplace_back(name, view);
    }
    offset += params_[i].numel();
  }
  return buffer;
}

}  // namespace loom::optim
