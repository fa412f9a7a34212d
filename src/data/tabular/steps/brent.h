#pragma once
// A one-dimensional minimiser that follows scipy.optimize.brent(f, brack=(xa, xb))
// step for step: scipy's downhill bracket search, then Brent's method with
// tol = 1.48e-8 and at most 500 iterations. The power step fits lambda with it,
// so its lambdas agree with scikit-learn's PowerTransformer to about that
// tolerance (numpy's pow/log1p differ from glibc's in the last bits, which can
// steer the final steps; see preprocess_sklearn_test.cpp).
#include <functional>

namespace loom::data::detail {

double brent_minimize(const std::function<double(double)>& f, double xa, double xb);

}  // namespace loom::data::detail
