#pragma once
// Optimizer: updates parameters in place from their .grad().
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loom/core/tensor.h"
#include "loom/nn/module.h"

namespace loom::optim {

struct OptimizerOptions {
  double lr = 1e-3;
  double momentum = 0.0;                          // SGD, RMSprop
  double dampening = 0.0;                         // SGD
  bool nesterov = false;                          // SGD
  double weight_decay = 0.0;                      // L2 for SGD/Adam/RMSprop; decoupled for AdamW
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // Adam, AdamW
  double alpha = 0.99;                            // RMSprop smoothing
  // > 0: every step first scales the gradients so their global L2 norm (over all
  // parameters) is at most this (clip_grad_norm below), after any all-reduce.
  double max_grad_norm = 0.0;
};

// torch.nn.utils.clip_grad_norm_: the L2 norm of all the gradients together, and,
// when it exceeds max_norm, every gradient scaled in place by max_norm / (norm + 1e-6).
// Parameters without a gradient are skipped. Returns the norm before clipping.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);

// A parameter group (PyTorch's param_groups): its own weight decay and a factor on
// the optimizer's learning rate (so a schedule that sets the rate moves every group
// together). weight_decay_groups() below makes the usual decay / no-decay split.
struct ParamGroup {
  std::vector<Tensor> params;
  std::optional<double> weight_decay;  // unset: OptimizerOptions::weight_decay
  double lr_scale = 1.0;
  std::string name;  // for messages ("no_decay")
};

// What an optimizer takes: one list (a single group with the optimizer's options) or groups.
struct ParamGroups {
  ParamGroups(std::vector<Tensor> params) : groups{ParamGroup{std::move(params), std::nullopt, 1.0, ""}} {}
  ParamGroups(std::initializer_list<Tensor> params)
      : groups{ParamGroup{std::vector<Tensor>(params), std::nullopt, 1.0, ""}} {}
  ParamGroups(std::vector<ParamGroup> g) : groups(std::move(g)) {}
  std::vector<ParamGroup> groups;
};

// The split every transformer recipe uses (minGPT, nanoGPT, Hugging Face): weight
// decay on the weight matrices of linear and convolution layers; none on biases,
// normalisation parameters and embedding tables (any parameter of fewer than two
// axes, and every parameter of an Embedding or PositionEmbedding module).
std::vector<ParamGroup> weight_decay_groups(const nn::Module& model, double weight_decay);

class Optimizer {
 public:
  // Parameters must be defined, f32 or f64 leaves, each listed once over all groups.
  Optimizer(ParamGroups params, OptimizerOptions options);
  virtual ~Optimizer() = default;
  // One update from the current gradients; parameters without a gradient are skipped.
  virtual void step() = 0;
  virtual std::string name() const = 0;
  // Zeroes defined gradients lazily, in place (see Module::zero_grad).
  void zero_grad();
  double lr() const { return options_.lr; }
  void set_lr(double lr) { options_.lr = lr; }
  const OptimizerOptions& options() const { return options_; }
  int64_t steps() const { return steps_; }
  const std::vector<Tensor>& params() const { return params_; }
  const std::vector<ParamGroup>& groups() const { return groups_; }
  // The gradients' global norm before clipping at the last step (0 without max_grad_norm).
  double last_grad_norm() const { return last_grad_norm_; }
  // The learning rate and weight decay the group of parameter i steps with.
  double lr_of(size_t param_index) const { return options_.lr * groups_[group_of_[param_index]].lr_scale; }
  double weight_decay_of(size_t param_index) const;

  // Everything needed to resume: state tensors named "<param index>.<slot>"
  // (e.g. "3.exp_avg") plus "step" as an i64 scalar. The tensors are copies, so
  // the snapshot does not change as training goes on.
  nn::NamedTensors state_dict() const;
  // Restores from state_dict(); errors name a missing slot or a shape mismatch.
  // Nothing is changed unless every check passes.
  void load_state_dict(const nn::NamedTensors& state);

 protected:
  // The slots one parameter's state consists of with these options (for checking
  // a loaded state), e.g. {"exp_avg", "exp_avg_sq"}.
  virtual std::vector<std::string> slot_names() const { return {}; }

  // Per-parameter state slot, created zeroed on first use.
  Tensor& slot(size_t param_index, const std::string& name);
  bool has_slot(size_t param_index, const std::string& name) const;

  // NOTE [Fused update]
  // A segment is a contiguous run of parameter elements that one update loop
  // covers, with its gradient and state as equally long contiguous runs. Parameters
  // that follow each other in one buffer, in order, with their gradients following
  // each other the same way in another (what Module::pack_parameters() leaves, NOTE
  // [Parameter arena]) and in the same group, form one segment: a one-dtype model
  // in one group steps in a single loop over its arena, and each arena group (each
  // dtype) or parameter group is one more loop. Any other parameter with a gradient
  // is its own segment.
  struct Segment {
    std::vector<size_t> indices;      // the parameters covered, in order
    Tensor param, grad;               // flat, contiguous, same dtype
    Tensor write_back;                // a non-contiguous parameter the result is copied into
    double lr = 0, weight_decay = 0;  // its group's
  };
  // Calls fn once per segment of this step, then writes back and bumps versions.
  void for_each_segment(const std::function<void(Segment&)>& fn);
  // The segment's state slot as one flat tensor, created zeroed; for a fused
  // segment the per-parameter slots become views into it.
  Tensor segment_slot(const Segment& segment, const std::string& name);
  bool segment_has_slot(const Segment& segment, const std::string& name) const;

  std::vector<Tensor> params_;
  std::vector<ParamGroup> groups_;  // their params lists are emptied: params_ holds the tensors
  std::vector<size_t> group_of_;    // per parameter
  OptimizerOptions options_;
  int64_t steps_ = 0;

 private:
  std::vector<Segment> make_segments() const;
  bool continues_run(size_t previous, size_t next) const;
  std::vector<std::string> sorted_slot_names(size_t i) const;
  Tensor* find_slot(size_t param_index, const std::string& name);
  const Tensor* find_slot(size_t param_index, const std::string& name) const;
  std::vector<std::vector<std::pair<std::string, Tensor>>> slots_;
  double last_grad_norm_ = 0;
};

// "sgd", "adam", "adamw", "rmsprop"; throws ValueError naming the choices otherwise.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, ParamGroups params, const OptimizerOptions& options);

}  // namespace loom::optim
