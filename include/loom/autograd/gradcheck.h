#pragma once
// Finite-difference gradient checking (flashlight's jacobianTestImpl).
#include <functional>
#include <string>
#include <vector>

#include "loom/core/tensor.h"

namespace loom::autograd {

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0, max_rel_error = 0;
  std::string detail;  // which input and element failed first
};

// Compares the analytic gradient of sum(f(inputs) * w), w a fixed random weight,
// with central differences, for every input that requires grad. Use f64 inputs.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f, std::vector<Tensor> inputs,
                          double eps = 1e-6, double atol = 1e-5, double rtol = 1e-4);

}  // namespace loom::autograd
