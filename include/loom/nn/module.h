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
  // The forward of a node with several inputs (a residual Add, a Concat, a model
  // with two inputs; NOTE [Graph programs] in loom/nn/program.h). The default
  // takes exactly one input and calls forward(x).
  virtual Tensor forward_inputs(const std::vector<Tensor>& inputs);
  // A one-line description, e.g. "Linear(in=784, out=256, bias=true)".
  virtual std::string describe() const = 0;
  // The whole tree, one module a line, as PyTorch prints a model:
  //   Sequential(
  //     (0): Linear(in=4, out=3, bias=true)
  //     (1): ReLU()
  //   )
  std::string repr() const;

  // Recursive, in registration order, names joined with '.'. A tensor reachable
  // under two names (tied weights) is listed once, under its first name.
  NamedTensors named_parameters() const;
  std::vector<Tensor> parameters() const;
  NamedTensors named_buffers() const;
  // Per module its parameters then its buffers, then its children, as PyTorch's
  // state_dict orders them. The tensors are the live ones, not copies.
  NamedTensors state_dict() const;
  // Copies values into the existing tensors (so views stay valid). With strict,
  // a missing or unexpected name is an error; a shape mismatch always is. Errors
  // name the tensor and both shapes. Nothing is copied unless every check passes.
  void load_state_dict(const NamedTensors& state, bool strict = true);
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Zeroes gradients (PyTorch's zero_grad(set_to_none=False)) lazily, in place (NOTE
  // [Lazy zero gradient]), so a packed gradient arena stays the buffer the engine
  // writes into.
  void zero_grad();
  int64_t num_parameters() const;

  // NOTE [Parameter arena]
  // Moves every parameter (and its gradient) into contiguous buffers, one pair
  // per dtype (an arena group: a bf16 or int8 part of a model beside its f32
  // part), and makes the parameters views into them, so the optimizer step and a
  // gradient all-reduce run over one long slice per group. Gradients are then
  // zeroed in place, never dropped.
  //
  // Each parameter keeps its TensorImpl: pack re-points that impl's storage,
  // offset and strides into its group's arena, so every holder of the Tensor (the
  // layer's member, params_, an optimizer built earlier) sees the move. Within a
  // group, parameters are laid out back to back in named_parameters() order with
  // no padding, and each gradient sits at the same offset in the gradient arena
  // as its parameter; the optimizers rely on that to update a group in one loop.
  struct ArenaGroup {
    DType dtype;
    Tensor parameters, gradients;  // flat, on the parameters' device
    std::vector<size_t> indices;   // into named_parameters(), in order
  };
  void pack_parameters();
  // The groups (empty before pack_parameters()), in the order their dtypes first
  // appear. Reading them first writes the zeros of gradients that zero_grad()
  // marked and no backward has written since (NOTE [Lazy zero gradient]).
  const std::vector<ArenaGroup>& arena_groups() const;
  // The one group's buffers, for a model of one dtype (undefined before
  // pack_parameters(); an error naming the dtypes when there are several groups).
  Tensor parameter_arena() const;
  Tensor gradient_arena() const;
  // Moves every parameter, gradient and buffer to `device` in place (PyTorch's
  // Module.to): each TensorImpl is re-pointed at a copy on the device, so layers,
  // optimizers and packed views keep holding the same tensors. A packed module
  // moves its arenas and re-points the views into them, staying packed.
  // Returns *this, so `model->to(Device::meta())` chains.
  Module& to(Device device);

 protected:
  // The returned reference is into a vector and is invalidated by the next
  // registration: layers keep a copy of the Tensor (which shares the impl).
  Tensor& register_parameter(std::string name, Tensor value);
  Tensor& register_buffer(std::string name, Tensor value);
  template <typename M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> module) {
    check_new_name(name);
    children_.emplace_back(std::move(name), module);
    return module;
  }
  bool training_ = true;

 private:
  enum class Kind { parameters, buffers, state };
  void collect(const std::string& prefix, Kind kind, NamedTensors& out) const;
  void check_new_name(const std::string& name) const;
  void repr_into(std::string& out, int indent) const;
  NamedTensors params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  std::vector<ArenaGroup> arenas_;
};

}  // namespace loom::nn
