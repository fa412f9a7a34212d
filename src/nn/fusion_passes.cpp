// The rewrite passes every container runs over its program (NOTE [Graph programs]).
//
// NOTE [Fusion passes]
// Each pass matches exact module types (a subclass with its own forward is never
// fused away) and an intermediate value that only the next step of the pattern
// reads and that is not an output; it replaces the steps by one that computes
// the same value:
// - Conv2d, [ReLU,] MaxPool2d -> one conv2d_max_pool2d op, whose convolution
//   output never leaves the cache (NOTE [Fused conv + max-pool]).
// - ReLU, MaxPool2d -> the pool, then the ReLU. ReLU is monotone, so
//   max(relu(x)) == relu(max(x)) bit for bit, and the gradients agree too: a
//   window whose max is positive sends its gradient to the same (first) maximum,
//   and one whose max is <= 0 sends none either way. The ReLU and its backward
//   then touch the pooled map, a quarter of the input for 2x2 pooling.
// - Linear, ReLU|GELU -> one linear_act op (NOTE [Fused linear]).
// The conv pass runs first so that it sees the ReLU between a convolution and
// its pool before the ReLU-pool pass takes it.
#include <typeinfo>

#include "loom/nn/activation.h"
#include "loom/nn/conv.h"
#include "loom/nn/linear.h"
#include "loom/nn/program.h"

namespace loom::nn {
namespace {

// Step i's module when it is a plain one-argument call of exactly type M.
template <typename M>
M* plain_call(const Program& p, int i) {
  if (i < 0)
    return nullptr;
  const ProgramStep& s = p.steps[static_cast<size_t>(i)];
  if (s.kind != "call" || s.args.size() != 1 || typeid(*s.modules[0]) != typeid(M))
    return nullptr;
  return static_cast<M*>(s.modules[0]);
}

// The step that alone reads step i's result, when it is a plain call of exactly type M; else -1.
template <typename M>
int sole_reader_of_type(const Program& p, int i) {
  const int j = p.sole_reader(p.steps[static_cast<size_t>(i)].result);
  return plain_call<M>(p, j) != nullptr ? j : -1;
}

// Step `first` absorbs the steps `absorbed` (each reading the previous one's
// result), taking over the last one's result, and becomes a `kind` step.
void merge(Program& p, int first, const std::vector<int>& absorbed, const char* kind,
           std::function<Tensor(const std::vector<Tensor>&)> run) {
  ProgramStep& head = p.steps[static_cast<size_t>(first)];
  for (int j : absorbed) {
    const ProgramStep& s = p.steps[static_cast<size_t>(j)];
    head.modules.push_back(s.modules[0]);
    head.names.push_back(s.names[0]);
  }
  head.result = p.steps[static_cast<size_t>(absorbed.back())].result;
  head.kind = kind;
  head.run = std::move(run);
  for (auto it = absorbed.rbegin(); it != absorbed.rend(); ++it)
    p.steps.erase(p.steps.begin() + *it);
}

void fuse_conv_max_pool(Program& p) {
  for (int i = 0; i < static_cast<int>(p.steps.size()); ++i) {
    Conv2d* conv = plain_call<Conv2d>(p, i);
    if (conv == nullptr)
      continue;
    const int relu = sole_reader_of_type<ReLU>(p, i);
    const int pool = sole_reader_of_type<MaxPool2d>(p, relu >= 0 ? relu : i);
    if (pool < 0)
      continue;
    const auto* pool_module = plain_call<MaxPool2d>(p, pool);
    const Activation act = relu >= 0 ? Activation::relu : Activation::none;
    merge(p, i, relu >= 0 ? std::vector<int>{relu, pool} : std::vector<int>{pool}, "conv2d_max_pool2d",
          [conv, pool_module, act](const std::vector<Tensor>& args) {
            return conv->forward_max_pool(args[0], pool_module->options(), act);
          });
  }
}

void pool_before_relu(Program& p) {
  for (int i = 0; i < static_cast<int>(p.steps.size()); ++i) {
    ReLU* relu = plain_call<ReLU>(p, i);
    const int pool = relu != nullptr ? sole_reader_of_type<MaxPool2d>(p, i) : -1;
    if (pool < 0)
      continue;
    MaxPool2d* pool_module = plain_call<MaxPool2d>(p, pool);
    merge(p, i, {pool}, "max_pool2d_relu", [relu, pool_module](const std::vector<Tensor>& args) {
      return relu->forward(pool_module->forward(args[0]));
    });
  }
}

void fuse_linear_activation(Program& p) {
  for (int i = 0; i < static_cast<int>(p.steps.size()); ++i) {
    Linear* linear = plain_call<Linear>(p, i);
    if (linear == nullptr)
      continue;
    int act_step = sole_reader_of_type<ReLU>(p, i);
    Activation act = Activation::relu;
    if (act_step < 0) {
      act_step = sole_reader_of_type<GELU>(p, i);
      act = Activation::gelu;
    }
    if (act_step < 0)
      continue;
    merge(p, i, {act_step}, "linear_act",
          [linear, act](const std::vector<Tensor>& args) { return linear->forward_act(args[0], act); });
  }
}

}  // namespace

const std::vector<ProgramPass>& fusion_passes() {
  static const std::vector<ProgramPass> passes = {
      {"fuse_conv_max_pool", fuse_conv_max_pool},
      {"pool_before_relu", pool_before_relu},
      {"fuse_linear_activation", fuse_linear_activation},
  };
  return passes;
}

}  // namespace loom::nn
