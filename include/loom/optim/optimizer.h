#pragma once
// Optimizer: updates parameters in place from their .grad().
#include <functional>
#include <memory>
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
};

class Optimizer {
 public:
  // Parameters must be defined, f32 or f64 leaves, each listed once.
  Optimizer(std::vector<Tensor> params, OptimizerOptions options);
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
  // covers, with its gradient and state as equally long contiguous runs. When the
  // parameters tile one buffer in order and their gradients tile another the same
  // way (what Module::pack_parameters() leaves, NOTE [Parameter arena]), one
  // segment covers all of them and the step is a single loop over the arena;
  // otherwise each parameter with a gradient is its own segment.
  struct Segment {
    std::vector<size_t> indices;  // the parameters covered, in order
    Tensor param, grad;           // flat, contiguous, same dtype
    Tensor write_back;            // a non-contiguous parameter the result is copied into
  };
  // Calls fn once per segment of this step, then writes back and bumps versions.
  void for_each_segment(const std::function<void(Segment&)>& fn);
  // The segment's state slot as one flat tensor, created zeroed; for a fused
  // segment the per-parameter slots become views into it.
  Tensor segment_slot(const Segment& segment, const std::string& name);
  bool segment_has_slot(const Segment& segment, const std::string& name) const;

  std::vector<Tensor> params_;
  OptimizerOptions options_;
  int64_t steps_ = 0;

 private:
  std::vector<Segment> make_segments() const;
  bool fusable() const;
  Tensor* find_slot(size_t param_index, const std::string& name);
  const Tensor* find_slot(size_t param_index, const std::string& name) const;
  std::vector<std::vector<std::pair<std::string, Tensor>>> slots_;
};

// "sgd", "adam", "adamw", "rmsprop"; throws ValueError naming the choices otherwise.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<Tensor> params,
                                          const OptimizerOptions& options);

}  // namespace loom::optim
