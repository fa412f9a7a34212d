#pragma once
// NOTE [Tracer]
// While a TraceScope is alive, the dispatch path (NOTE [Op schema]) hands it every
// op called on this thread that is not nested inside another op: its id, its
// attributes, its input tensors and its output. Nested calls (the reshape inside
// flatten, the parts of a composite such as layer_norm) are not seen: the outer op
// stands for them, so replaying the calls reproduces the forward op for op. The
// scope keeps the tensors alive, so a tensor's identity (its impl) names one value
// for the whole trace. nn::trace (loom/nn/traced_graph.h) turns the calls into a
// graph of named values.
#include <vector>

#include "loom/autograd/op_schema.h"

namespace loom::autograd {

struct TracedCall {
  OpId op;
  AttrMap attrs;
  std::vector<Tensor> inputs;  // undefined for an optional input left out
  Tensor output;
};

class TraceScope {
 public:
  TraceScope();  // throws if another scope is active on this thread
  ~TraceScope();
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;

  const std::vector<TracedCall>& calls() const { return calls_; }
  // Called by the dispatch path.
  void add(TracedCall call) { calls_.push_back(std::move(call)); }

 private:
  std::vector<TracedCall> calls_;
};

// The scope active on this thread, or null.
TraceScope* active_trace();

}  // namespace loom::autograd
