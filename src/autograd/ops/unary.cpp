// Activations and element-wise math.
#include "ops/op_util.h"

namespace loom {
using autograd::OpId;
using autograd::record;
using kernels::BinaryOp;
using kernels::UnaryOp;
using namespace ops_detail;

Tensor relu(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::relu, x);
  return record(OpId::relu, out, {x}, [x](const Tensor& g) {
    return std::vector<Tensor>{binary_kernel(BinaryOp::relu_backward, g, x, "relu_backward")};
  });
}

Tensor gelu(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::gelu, x);
  return record(OpId::gelu, out, {x}, [x](const Tensor& g) {
    return std::vector<Tensor>{binary_kernel(BinaryOp::gelu_backward, g, x, "gelu_backward")};
  });
}

Tensor tanh(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::tanh, x);
  return record(OpId::tanh, out, {x}, [y = out.detach()](const Tensor& g) {
    return std::vector<Tensor>{binary_kernel(BinaryOp::tanh_backward, g, y, "tanh_backward")};
  });
}

Tensor sigmoid(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::sigmoid, x);
  return record(OpId::sigmoid, out, {x}, [y = out.detach()](const Tensor& g) {
    return std::vector<Tensor>{binary_kernel(BinaryOp::sigmoid_backward, g, y, "sigmoid_backward")};
  });
}

Tensor exp(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::exp, x);
  return record(OpId::exp, out, {x}, [y = out.detach()](const Tensor& g) { return std::vector<Tensor>{mul(g, y)}; });
}

Tensor log(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::log, x);
  return record(OpId::log, out, {x}, [x](const Tensor& g) { return std::vector<Tensor>{div(g, x)}; });
}

Tensor sqrt(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::sqrt, x);
  return record(OpId::sqrt, out, {x},
                [y = out.detach()](const Tensor& g) { return std::vector<Tensor>{div(g, mul_scalar(y, 2.0))}; });
}

Tensor abs(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::abs, x);
  return record(OpId::abs, out, {x}, [x](const Tensor& g) {
    // sign(x), with 0 at 0 as PyTorch
    Tensor zero = Tensor::zeros({}, x.dtype());
    Tensor sign = sub(greater(x, zero), greater(zero, x));
    return std::vector<Tensor>{mul(g, sign)};
  });
}

}  // namespace loom
