#pragma once
// Module: the base of every layer and model, with named parameters, buffers and
// child modules (PyTorch's nn.Module, with the same dotted names: "0.weight").
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "loom/autograd/ops.h"
#include "loom/core/tensor.h"

namespace loom::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  virtual ~Module() = default;
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }
  // A one-line description, e.g. "Linear(in=784, out=256, bias=true)".
  virtual std::string describe() const = 0;

  // Recursive, in registration order, names joined with '.'.
  NamedTensors named_parameters() const;
  std::vector<Tensor> parameters() const;
  NamedTensors named_buffers() const;
  // Parameters then buffers, as PyTorch's state_dict.
  NamedTensors state_dict() const;
  // Copies values into the existing tensors (so views stay valid). With strict,
  // a missing or unexpected name is an error; a shape mismatch always is. Errors
  // name the tensor and both shapes.
  void load_state_dict(const NamedTensors& state, bool strict = true);
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();
  int64_t num_parameters() const;

  // NOTE [Parameter arena]
  // Moves every parameter (and its gradient) into one contiguous buffer and makes
  // the parameters views into it, so the optimizer step and a gradient all-reduce
  // run over one long slice. Gradients are then zeroed in place, never dropped.
  void pack_parameters();
  // The packed buffers (undefined before pack_parameters()).
  Tensor parameter_arena() const { return param_arena_; }
  Tensor gradient_arena() const { return grad_arena_; }

 protected:
  Tensor& register_parameter(std::string name, Tensor value);
  Tensor& register_buffer(std::string name, Tensor value);
  template <typename M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> module) {
    children_.emplace_back(std::move(name), module);
    return module;
  }
  bool training_ = true;

 private:
  void collect(const std::string& prefix, bool params, NamedTensors& out) const;
  NamedTensors params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  Tensor param_arena_, grad_arena_;
};

}  // namespace loom::nn
