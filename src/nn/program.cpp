#include "loom/nn/program.h"

#include <algorithm>

#include "loom/core/error.h"
#include "loom/nn/module.h"

namespace loom::nn {

int Program::readers(int value) const {
  int n = static_cast<int>(std::count(outputs.begin(), outputs.end(), value));
  for (const ProgramStep& s : steps)
    n += static_cast<int>(std::count(s.args.begin(), s.args.end(), value));
  return n;
}

int Program::sole_reader(int value) const {
  if (std::count(outputs.begin(), outputs.end(), value) > 0)
    return -1;
  int found = -1;
  for (size_t i = 0; i < steps.size(); ++i) {
    const auto n = std::count(steps[i].args.begin(), steps[i].args.end(), value);
    if (n == 0)
      continue;
    if (n > 1 || found >= 0)
      return -1;
    found = static_cast<int>(i);
  }
  return found;
}

void Program::finalize() {
  std::vector<int> last(static_cast<size_t>(num_values), -1);
  for (size_t i = 0; i < steps.size(); ++i)
    for (int a : steps[i].args)
      last[static_cast<size_t>(a)] = static_cast<int>(i);
  for (ProgramStep& s : steps)
    s.release_after.clear();
  for (int v = 0; v < num_values; ++v) {
    const bool kept = std::count(outputs.begin(), outputs.end(), v) > 0;
    if (!kept && last[static_cast<size_t>(v)] >= 0)
      steps[static_cast<size_t>(last[static_cast<size_t>(v)])].release_after.push_back(v);
  }
}

std::vector<Tensor> Program::run(const std::vector<Tensor>& given) const {
  LOOM_CHECK(given.size() == inputs.size(), "the model takes ", inputs.size(), " input(s) but was given ",
             given.size());
  std::vector<Tensor> values(static_cast<size_t>(num_values));
  for (size_t i = 0; i < inputs.size(); ++i)
    values[static_cast<size_t>(inputs[i])] = given[i];
  std::vector<Tensor> args;
  for (const ProgramStep& s : steps) {
    Tensor& out = values[static_cast<size_t>(s.result)];
    if (!s.run && s.args.size() == 1) {
      out = s.modules[0]->forward(values[static_cast<size_t>(s.args[0])]);
    } else {
      args.clear();
      for (int a : s.args)
        args.push_back(values[static_cast<size_t>(a)]);
      out = s.run ? s.run(args) : s.modules[0]->forward_inputs(args);
    }
    // Intermediates the rest of the program no longer reads go now, not at the end.
    for (int v : s.release_after)
      values[static_cast<size_t>(v)] = Tensor();
  }
  std::vector<Tensor> result;
  for (int o : outputs)
    result.push_back(values[static_cast<size_t>(o)]);
  return result;
}

std::string Program::str() const {
  auto name = [&](int v) { return "%" + value_names[static_cast<size_t>(v)]; };
  std::string out;
  for (const ProgramStep& s : steps) {
    out += name(s.result) + " = " + s.kind + "[";
    for (size_t i = 0; i < s.modules.size(); ++i) {
      std::string type = s.modules[i]->describe();
      type = type.substr(0, type.find('('));
      out += (i ? ", " : "") + s.names[i] + " " + type;
    }
    out += "](";
    for (size_t i = 0; i < s.args.size(); ++i)
      out += (i ? ", " : "") + name(s.args[i]);
    out += ")\n";
  }
  out += "return ";
  for (size_t i = 0; i < outputs.size(); ++i)
    out += (i ? ", " : "") + name(outputs[i]);
  return out + "\n";
}

void apply_fusion_passes(Program& program) {
  for (const ProgramPass& pass : fusion_passes())
    pass.apply(program);
  program.finalize();
}

}  // namespace loom::nn
