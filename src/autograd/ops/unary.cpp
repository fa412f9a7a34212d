// Activations and element-wise math.
#include "ops/op_util.h"

namespace loom {
using kernels::BinaryOp;
using kernels::UnaryOp;
using namespace ops_detail;

namespace {

OpOutput relu_forward(OpId, const Inputs& in, const NoAttrs&) {
  const Tensor& x = in[0];
  return {unary_kernel(UnaryOp::relu, x), [x](const Tensor& g) {
            return std::vector<Tensor>{binary_kernel(BinaryOp::relu_backward, g, x, "relu_backward")};
          }};
}

OpOutput gelu_forward(OpId, const Inputs& in, const NoAttrs&) {
  const Tensor& x = in[0];
  return {unary_kernel(UnaryOp::gelu, x), [x](const Tensor& g) {
            return std::vector<Tensor>{binary_kernel(BinaryOp::gelu_backward, g, x, "gelu_backward")};
          }};
}

OpOutput tanh_forward(OpId, const Inputs& in, const NoAttrs&) {
  Tensor out = unary_kernel(UnaryOp::tanh, in[0]);
  return {out, [y = out.detach()](const Tensor& g) {
            return std::vector<Tensor>{binary_kernel(BinaryOp::tanh_backward, g, y, "tanh_backward")};
          }};
}

OpOutput sigmoid_forward(OpId, const Inputs& in, const NoAttrs&) {
  Tensor out = unary_kernel(UnaryOp::sigmoid, in[0]);
  return {out, [y = out.detach()](const Tensor& g) {
            return std::vector<Tensor>{binary_kernel(BinaryOp::sigmoid_backward, g, y, "sigmoid_backward")};
          }};
}

OpOutput exp_forward(OpId, const Inputs& in, const NoAttrs&) {
  Tensor out = unary_kernel(UnaryOp::exp, in[0]);
  return {out, [y = out.detach()](const Tensor& g) { return std::vector<Tensor>{mul(g, y)}; }};
}

OpOutput log_forward(OpId, const Inputs& in, const NoAttrs&) {
  const Tensor& x = in[0];
  return {unary_kernel(UnaryOp::log, x), [x](const Tensor& g) { return std::vector<Tensor>{div(g, x)}; }};
}

OpOutput sqrt_forward(OpId, const Inputs& in, const NoAttrs&) {
  Tensor out = unary_kernel(UnaryOp::sqrt, in[0]);
  return {out, [y = out.detach()](const Tensor& g) { return std::vector<Tensor>{div(g, mul_scalar(y, 2.0))}; }};
}

OpOutput abs_forward(OpId, const Inputs& in, const NoAttrs&) {
  const Tensor& x = in[0];
  return {unary_kernel(UnaryOp::abs, x), [x](const Tensor& g) {
            // sign(x), with 0 at 0 as PyTorch
            Tensor zero = Tensor::zeros({}, x.dtype());
            Tensor sign = sub(greater(x, zero), greater(zero, x));
            return std::vector<Tensor>{mul(g, sign)};
          }};
}

constexpr OpDef<NoAttrs> kRelu{OpId::relu, 1, 1, "unary, binary", same_as_input, relu_forward};
constexpr OpDef<NoAttrs> kGelu{OpId::gelu, 1, 1, "unary, binary", same_as_input, gelu_forward};
constexpr OpDef<NoAttrs> kTanh{OpId::tanh, 1, 1, "unary, binary", same_as_input, tanh_forward};
constexpr OpDef<NoAttrs> kSigmoid{OpId::sigmoid, 1, 1, "unary, binary", same_as_input, sigmoid_forward};
constexpr OpDef<NoAttrs> kExp{OpId::exp, 1, 1, "unary", same_as_input, exp_forward};
constexpr OpDef<NoAttrs> kLog{OpId::log, 1, 1, "unary", same_as_input, log_forward};
constexpr OpDef<NoAttrs> kSqrt{OpId::sqrt, 1, 1, "unary", same_as_input, sqrt_forward};
constexpr OpDef<NoAttrs> kAbs{OpId::abs, 1, 1, "unary", same_as_input, abs_forward};

}  // namespace

Tensor relu(const Tensor& x) { return dispatch(kRelu, {x}, {}); }
Tensor gelu(const Tensor& x) { return dispatch(kGelu, {x}, {}); }
Tensor tanh(const Tensor& x) { return dispatch(kTanh, {x}, {}); }
Tensor sigmoid(const Tensor& x) { return dispatch(kSigmoid, {x}, {}); }
Tensor exp(const Tensor& x) { return dispatch(kExp, {x}, {}); }
Tensor log(const Tensor& x) { return dispatch(kLog, {x}, {}); }
Tensor sqrt(const Tensor& x) { return dispatch(kSqrt, {x}, {}); }
Tensor abs(const Tensor& x) { return dispatch(kAbs, {x}, {}); }

}  // namespace loom

LOOM_REGISTER_OP(relu, kRelu)
LOOM_REGISTER_OP(gelu, kGelu)
LOOM_REGISTER_OP(tanh, kTanh)
LOOM_REGISTER_OP(sigmoid, kSigmoid)
LOOM_REGISTER_OP(exp, kExp)
LOOM_REGISTER_OP(log, kLog)
LOOM_REGISTER_OP(sqrt, kSqrt)
LOOM_REGISTER_OP(abs, kAbs)
