#include "loom/autograd/node.h"

#include <array>
#include <cstring>
#include <string>

#include "loom/autograd/grad_mode.h"
#include "loom/runtime/profiler.h"
#include "ops/op_util.h"

// NOTE [Op spans]
// With the profiler on, every op gives a forward span named after it ("linear")
// and every backward closure a span "<op>_backward" ("linear_backward", in
// Node::apply). Ops have no common entry point, but they do have two common
// points: each checks its inputs first (check_float, which names the op) and
// calls record() last. check_float pushes (name, now) on a small per-thread
// stack; record() pops the entry with its op's name and records the span from
// that start to now, so an op nested in another (layer_norm's mean, linear's
// transpose) gets its own span and leaves the outer op's start in place. An op
// that checks nothing (views such as reshape and transpose) gets a span of
// length ~0 at its end: views cost next to nothing. Composite ops that record no
// node of their own (mse_loss, layer_norm) show up as their parts.
namespace loom::ops_detail {
namespace {

struct PendingOp {
  const char* name;
  int64_t start_ns;
};

struct OpStarts {
  static constexpr int kMax = 32;
  uint64_t session = 0;
  int size = 0;
  int64_t last_record_ns = -1;
  PendingOp stack[kMax];

  void sync() {
    const uint64_t s = runtime::profiler_session();
    if (s != session) {
      session = s;
      size = 0;
      last_record_ns = -1;
    }
  }
};

thread_local OpStarts t_op_starts;

bool same_name(const char* a, const char* b) { return a == b || std::strcmp(a, b) == 0; }

// The name an op's check_float uses, when it is not the op's own name.
bool checks_as(autograd::OpId op, const char* checked) {
  using autograd::OpId;
  if (same_name(checked, autograd::op_name(op)))
    return true;
  switch (op) {
    case OpId::add_scalar:
    case OpId::mul_scalar:
      return same_name(checked, "scale_shift");
    case OpId::pow_scalar:
      return same_name(checked, "square") || same_name(checked, "pow");
    default:
      return false;
  }
}

// The start of `op`'s forward span (popping it), or `now` when it checked nothing.
int64_t take_op_start(autograd::OpId op, int64_t now) {
  OpStarts& t = t_op_starts;
  t.sync();
  t.last_record_ns = now;
  for (int i = t.size - 1; i >= 0; --i) {
    if (checks_as(op, t.stack[i].name)) {
      t.size = i;
      return t.stack[i].start_ns;
    }
  }
  return now;
}

}  // namespace

void profile_op_begin(const char* op) {
  OpStarts& t = t_op_starts;
  t.sync();
  const int64_t now = runtime::profiler_now_ns();
  // A second input check of the op already open (nothing recorded since).
  if (t.size > 0 && t.stack[t.size - 1].start_ns >= t.last_record_ns && same_name(t.stack[t.size - 1].name, op))
    return;
  if (t.size == OpStarts::kMax) {  // entries left by ops that record nothing: keep the newest half
    std::memmove(t.stack, t.stack + OpStarts::kMax / 2, sizeof(PendingOp) * (OpStarts::kMax / 2));
    t.size = OpStarts::kMax / 2;
  }
  t.stack[t.size++] = {op, now};
}

}  // namespace loom::ops_detail

namespace loom::autograd {
namespace {

const char* backward_span_name(OpId op) {
  static const std::array<std::string, kNumOps>* names = [] {
    auto* n = new std::array<std::string, kNumOps>();
    for (size_t i = 0; i < kNumOps; ++i)
      (*n)[i] = std::string(kOpNames[i]) + "_backward";
    return n;
  }();
  return (*names)[static_cast<size_t>(op)].c_str();
}

}  // namespace

std::vector<Tensor> Node::apply(const Tensor& grad_output) const {
  runtime::ProfileScope span(runtime::profiler_enabled() ? backward_span_name(op_) : nullptr);
  if (!backward_) {
    LOOM_THROW(Error, "backward through '", name(),
               "' a second time: its saved values were freed after the first backward");
  }
  std::vector<Tensor> grads = backward_(grad_output);
  LOOM_ASSERT(grads.size() == edges_.size());
  return grads;
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!grad_enabled())
    return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad())
      return true;
  return false;
}

Tensor record(OpId op, Tensor output, const std::vector<Tensor>& inputs, BackwardFn backward) {
  if (runtime::profiler_enabled()) {
    const int64_t now = runtime::profiler_now_ns();
    runtime::profiler_record(op_name(op), ops_detail::take_op_start(op, now), now);
  }
  if (!needs_grad(inputs))
    return output;
  for (const Tensor& t : inputs)
    LOOM_ASSERT(!t.defined() || !t.is_same(output));  // ops return fresh tensors
  std::vector<Node::Edge> edges(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.defined() || !t.requires_grad())
      continue;
    if (t.grad_fn()) {
      edges[i].node = t.grad_fn();
    } else {
      edges[i].leaf = t.impl_ptr();
    }
  }
  output.set_requires_grad(true);
  output.set_grad_fn(std::make_shared<Node>(op, std::move(edges), std::move(backward)));
  return output;
}

}  // namespace loom::autograd
