#pragma once
// The program a container module runs: its children as steps over numbered value
// slots, after the rewrite passes.
//
// NOTE [Graph programs]
// Sequential and Graph do not walk their children in forward(); they compile them
// into a Program when their structure changes (a step per child, each reading
// value slots and writing one), run the rewrite passes over it once, and forward()
// only runs the steps. So a fusion is written once, as a pass that matches a
// pattern of steps (exact module types, and an intermediate value nobody else
// reads), and applies to a chain, a residual graph and a file-described model
// alike. A pass may only change how values are computed, never which values:
// every rewritten program gives the same outputs and gradients as the plain one
// (the tests run both). forward() reads the program and never changes it, so one
// model may run forward on several threads at once.
#include <functional>
#include <string>
#include <vector>

#include "loom/core/tensor.h"

namespace loom::nn {

class Module;

struct ProgramStep {
  std::vector<Module*> modules;    // a plain call has one; a fused step the modules it covers, in order
  std::vector<std::string> names;  // the children's names, for messages and str()
  std::vector<int> args;           // value slots read
  int result = -1;                 // value slot written
  std::string kind = "call";       // "call", or the rewrite that made the step
  std::vector<int> release_after;  // slots last read here (filled by finalize())
  // Computes the result from the args; empty for a plain call, which runs modules[0].
  std::function<Tensor(const std::vector<Tensor>& args)> run;
};

struct Program {
  int num_values = 0;
  std::vector<std::string> value_names;  // per slot
  std::vector<int> inputs, outputs;      // slots
  std::vector<ProgramStep> steps;        // in an order where every arg is written before it is read

  // Steps and outputs that read `value`.
  int readers(int value) const;
  // The only step that reads `value`, or -1 when none, several, or it is an output.
  int sole_reader(int value) const;
  // Fills each step's release_after, so run() frees intermediates after their last use.
  void finalize();
  // Binds `inputs` to the input slots, runs every step, returns the output slots.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs) const;
  // One line a step: "%1 = conv2d_max_pool2d[0 Conv2d, 1 ReLU, 2 MaxPool2d](%input)".
  std::string str() const;
};

// A rewrite over a program (NOTE [Graph programs]); fusion_passes() lists those
// every container runs, in order.
struct ProgramPass {
  const char* name;
  void (*apply)(Program& program);
};
const std::vector<ProgramPass>& fusion_passes();
void apply_fusion_passes(Program& program);

}  // namespace loom::nn
