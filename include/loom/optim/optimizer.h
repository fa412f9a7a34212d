#pragma once
// Optimizer: updates parameters in place from their .grad().
#include <memory>
#include <string>
#include <vector>

#include "loom/core/tensor.h"
#include "loom/nn/module.h"

namespace loom::optim {

struct OptimizerOptions {
  double lr = 1e-3;
  double momentum = 0.0;      // SGD, RMSprop
  double dampening = 0.0;     // SGD
  bool nesterov = false;      // SGD
  double weight_decay = 0.0;  // L2 for SGD/Adam/RMSprop; decoupled for AdamW
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // Adam, AdamW
  double alpha = 0.99;        // RMSprop smoothing
};

class Optimizer {
 public:
  Optimizer(std::vector<Tensor> params, OptimizerOptions options);
  virtual ~Optimizer() = default;
  // One update from the current gradients; parameters without a gradient are skipped.
  virtual void step() = 0;
  virtual std::string name() const = 0;
  void zero_grad();
  double lr() const { return options_.lr; }
  void set_lr(double lr) { options_.lr = lr; }
  const OptimizerOptions& options() const { return options_; }
  int64_t steps() const { return steps_; }

  // Everything needed to resume: state tensors named "<param index>.<slot>"
  // (e.g. "3.exp_avg") plus "step" as an i64 scalar.
  nn::NamedTensors state_dict() const;
  // Restores from state_dict(); errors name a missing slot or a shape mismatch.
  void load_state_dict(const nn::NamedTensors& state);

 protected:
  // Per-parameter state slot, created zeroed on first use.
  Tensor& slot(size_t param_index, const std::string& name);
  std::vector<Tensor> params_;
  OptimizerOptions options_;
  int64_t steps_ = 0;

 private:
  std::vector<std::vector<std::pair<std::string, Tensor>>> slots_;
};

// "sgd", "adam", "adamw", "rmsprop"; throws ValueError naming the choices otherwise.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<Tensor> params,
                                          const OptimizerOptions& options);

}  // namespace loom::optim
