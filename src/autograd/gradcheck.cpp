#include "loom/autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "loom/autograd/engine.h"
#include "loom/autograd/grad_mode.h"
#include "loom/autograd/ops.h"

namespace loom::autograd {

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f, std::vector<Tensor> inputs,
                          double eps, double atol, double rtol) {
  // A fixed random projection makes every output element matter to the scalar.
  Tensor out = f(inputs);
  Generator gen(1234);
  Tensor w = gen.uniform_tensor(out.shape(), 0.5, 1.5, out.dtype());
  auto objective = [&](const std::vector<Tensor>& xs) { return sum(mul(f(xs), w)); };

  for (Tensor& t : inputs)
    if (t.requires_grad())
      t.set_grad(Tensor());
  backward(objective(inputs));

  GradcheckResult result;
  NoGradGuard no_grad;
  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor& x = inputs[k];
    if (!x.defined() || !x.requires_grad())
      continue;
    LOOM_CHECK(x.is_contiguous(), "gradcheck: input ", k, " must be contiguous");
    Tensor analytic = x.grad();
    std::vector<double> ga =
        analytic.defined() ? analytic.to_vector<double>() : std::vector<double>(static_cast<size_t>(x.numel()), 0.0);
    for (int64_t i = 0; i < x.numel(); ++i) {
      const double orig = load_as_double(x.raw_data(), x.dtype(), i);
      store_from_double(x.raw_data(), x.dtype(), i, orig + eps);
      const double plus = objective(inputs).item_double();
      store_from_double(x.raw_data(), x.dtype(), i, orig - eps);
      const double minus = objective(inputs).item_double();
      store_from_double(x.raw_data(), x.dtype(), i, orig);
      const double numeric = (plus - minus) / (2 * eps);
      const double err = std::abs(numeric - ga[static_cast<size_t>(i)]);
      const double rel = err / std::max(std::abs(numeric), 1e-12);
      result.max_abs_error = std::max(result.max_abs_error, err);
      if (err > atol)
        result.max_rel_error = std::max(result.max_rel_error, rel);
      if (err > atol + rtol * std::abs(numeric) && result.ok) {
        result.ok = false;
        std::ostringstream os;
        os << "input " << k << " element " << i << ": analytic " << ga[static_cast<size_t>(i)] << " vs numeric "
           << numeric;
        result.detail = os.str();
      }
    }
  }
  return result;
}

}  // namespace loom::autograd
