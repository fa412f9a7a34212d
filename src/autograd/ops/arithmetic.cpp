// add, sub, mul, div, maximum, neg and the scalar forms, with broadcasting.
#include "ops/op_util.h"

namespace loom {
using kernels::BinaryOp;
using kernels::UnaryOp;
using namespace ops_detail;

namespace ops_detail {

void throw_not_float(bool defined, DType dtype, const Shape& shape, const char* op) {
  if (!defined)
    LOOM_THROW(ValueError, op, ": input tensor is undefined");
  LOOM_THROW(ValueError, op, ": expected an f32 or f64 tensor, got ", dtype_name(dtype), " with shape ",
             shape_str(shape));
}

void throw_dtypes_differ(DType a, DType b, const char* op) {
  LOOM_THROW(ValueError, op, ": dtypes differ (", dtype_name(a), " and ", dtype_name(b), ")");
}

TensorMeta broadcast_meta(OpId id, const Metas& in, const NoAttrs&) {
  const char* name = autograd::op_name(id);
  check_float_meta(in[0], name);
  check_float_meta(in[1], name);
  check_same_dtype_meta(in[0], in[1], name);
  return {broadcast_shapes(in[0].shape, in[1].shape, name), in[0].dtype};
}

Tensor broadcast_view(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape)
    return x;
  const size_t n = shape.size(), off = n - x.shape().size();
  Shape strides(n, 0);
  for (size_t i = 0; i < x.shape().size(); ++i) {
    strides[i + off] = x.shape()[i] == 1 && shape[i + off] != 1 ? 0 : x.strides()[i];
  }
  return x.as_strided(shape, strides, x.offset());
}

Tensor unary_kernel(UnaryOp op, const Tensor& x, double alpha, double beta) {
  check_float(x, kernels::unary_op_name(op));
  Tensor out = empty_like(x);
  kernels::unary_kernels()(op, x, out, alpha, beta);
  return out;
}

Tensor binary_kernel(BinaryOp op, const Tensor& a, const Tensor& b, const char* name) {
  check_float(a, name);
  check_float(b, name);
  check_same_dtype(a, b, name);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  kernels::binary_kernels()(op, broadcast_view(a, shape), broadcast_view(b, shape), out);
  return out;
}

}  // namespace ops_detail

namespace {

// Binary ops: the output has the broadcast shape.
OpOutput add_forward(OpId, const Inputs& in, const NoAttrs&) {
  const Tensor &a = in[0], &b = in[1];
  return {binary_kernel(BinaryOp::add, a, b, "add"), [sa = a.shape(), sb = b.shape()](const Tensor& g) {
            return std::vector<Tensor>{sum_to(g, sa), sum_to(g, sb)};
          }};
}

OpOutput sub_forward(OpId, const Inputs& in, const NoAttrs&) {
  const Tensor &a = in[0], &b = in[1];
  return {binary_kernel(BinaryOp::sub, a, b, "sub"), [sa = a.shape(), sb = b.shape()](const Tensor& g) {
            return std::vector<Tensor>{sum_to(g, sa), sum_to(neg(g), sb)};
          }};
}

OpOutput mul_forward(OpId, const Inputs& in, const NoAttrs&) {
  const Tensor &a = in[0], &b = in[1];
  const bool ga = a.requires_grad(), gb = b.requires_grad();
  return {binary_kernel(BinaryOp::mul, a, b, "mul"), [a, b, ga, gb](const Tensor& g) {
            return std::vector<Tensor>{ga ? sum_to(mul(g, b), a.shape()) : Tensor(),
                                       gb ? sum_to(mul(g, a), b.shape()) : Tensor()};
          }};
}

OpOutput div_forward(OpId, const Inputs& in, const NoAttrs&) {
  const Tensor &a = in[0], &b = in[1];
  Tensor out = binary_kernel(BinaryOp::div, a, b, "div");
  const bool gb = b.requires_grad();
  return {out, [a, b, y = out.detach(), gb](const Tensor& g) {
            Tensor ga = sum_to(div(g, b), a.shape());
            // d(a/b)/db = -(a/b)/b
            Tensor gbv = gb ? sum_to(neg(div(mul(g, y), b)), b.shape()) : Tensor();
            return std::vector<Tensor>{ga, gbv};
          }};
}

OpOutput maximum_forward(OpId, const Inputs& in, const NoAttrs&) {
  const Tensor &a = in[0], &b = in[1];
  return {binary_kernel(BinaryOp::maximum, a, b, "maximum"), [a, b](const Tensor& g) {
            // The gradient goes to a where a >= b (ties to a), else to b.
            Tensor to_b = greater(b, a);
            Tensor to_a = add_scalar(neg(to_b), 1.0);
            return std::vector<Tensor>{sum_to(mul(g, to_a), a.shape()), sum_to(mul(g, to_b), b.shape())};
          }};
}

OpOutput neg_forward(OpId, const Inputs& in, const NoAttrs&) {
  return {unary_kernel(UnaryOp::neg, in[0]), [](const Tensor& g) { return std::vector<Tensor>{neg(g)}; }};
}

OpOutput add_scalar_forward(OpId, const Inputs& in, const ScalarAttrs& a) {
  return {unary_kernel(UnaryOp::scale_shift, in[0], 1.0, a.value),
          [](const Tensor& g) { return std::vector<Tensor>{g}; }};
}

OpOutput mul_scalar_forward(OpId, const Inputs& in, const ScalarAttrs& a) {
  return {unary_kernel(UnaryOp::scale_shift, in[0], a.value, 0.0),
          [value = a.value](const Tensor& g) { return std::vector<Tensor>{mul_scalar(g, value)}; }};
}

OpOutput pow_scalar_forward(OpId, const Inputs& in, const ScalarAttrs& a) {
  const Tensor& x = in[0];
  const double exponent = a.value;
  Tensor out = exponent == 2.0 ? unary_kernel(UnaryOp::square, x) : unary_kernel(UnaryOp::pow, x, exponent);
  return {out, [x, exponent](const Tensor& g) {
            return std::vector<Tensor>{mul(g, mul_scalar(pow_scalar(x, exponent - 1.0), exponent))};
          }};
}

constexpr OpDef<NoAttrs> kAdd{OpId::add, 2, 2, "binary", broadcast_meta, add_forward};
constexpr OpDef<NoAttrs> kSub{OpId::sub, 2, 2, "binary", broadcast_meta, sub_forward};
constexpr OpDef<NoAttrs> kMul{OpId::mul, 2, 2, "binary", broadcast_meta, mul_forward};
constexpr OpDef<NoAttrs> kDiv{OpId::div, 2, 2, "binary", broadcast_meta, div_forward};
constexpr OpDef<NoAttrs> kMaximum{OpId::maximum, 2, 2, "binary", broadcast_meta, maximum_forward};
constexpr OpDef<NoAttrs> kNeg{OpId::neg, 1, 1, "unary", same_as_input, neg_forward};
constexpr OpDef<ScalarAttrs> kAddScalar{OpId::add_scalar, 1, 1, "unary", same_as_input, add_scalar_forward};
constexpr OpDef<ScalarAttrs> kMulScalar{OpId::mul_scalar, 1, 1, "unary", same_as_input, mul_scalar_forward};
constexpr OpDef<ScalarAttrs> kPowScalar{OpId::pow_scalar, 1, 1, "unary", same_as_input, pow_scalar_forward};

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return dispatch(kAdd, {a, b}, {}); }
Tensor sub(const Tensor& a, const Tensor& b) { return dispatch(kSub, {a, b}, {}); }
Tensor mul(const Tensor& a, const Tensor& b) { return dispatch(kMul, {a, b}, {}); }
Tensor div(const Tensor& a, const Tensor& b) { return dispatch(kDiv, {a, b}, {}); }
Tensor maximum(const Tensor& a, const Tensor& b) { return dispatch(kMaximum, {a, b}, {}); }
Tensor neg(const Tensor& x) { return dispatch(kNeg, {x}, {}); }
Tensor add_scalar(const Tensor& x, double value) { return dispatch(kAddScalar, {x}, {value}); }
Tensor mul_scalar(const Tensor& x, double value) { return dispatch(kMulScalar, {x}, {value}); }
Tensor pow_scalar(const Tensor& x, double exponent) { return dispatch(kPowScalar, {x}, {exponent}); }

void add_(Tensor& dst, const Tensor& src, double alpha) {
  check_float(dst, "add_");
  check_same_dtype(dst, src, "add_");
  LOOM_CHECK(broadcast_shapes(dst.shape(), src.shape(), "add_") == dst.shape(), "add_: source shape ",
             shape_str(src.shape()), " does not broadcast to destination shape ", shape_str(dst.shape()));
  Tensor s = broadcast_view(src, dst.shape());
  if (alpha != 1.0)
    s = unary_kernel(UnaryOp::scale_shift, s.contiguous(), alpha, 0.0);
  kernels::binary_kernels()(BinaryOp::add, dst, s, dst);
  dst.bump_version();
}

void mul_(Tensor& dst, double value) {
  check_float(dst, "mul_");
  kernels::unary_kernels()(UnaryOp::scale_shift, dst, dst, value, 0.0);
  dst.bump_version();
}

Tensor greater(const Tensor& a, const Tensor& b) { return binary_kernel(BinaryOp::greater, a, b, "greater"); }
Tensor equal(const Tensor& a, const Tensor& b) { return binary_kernel(BinaryOp::equal, a, b, "equal"); }

}  // namespace loom

LOOM_REGISTER_OP(add, kAdd)
LOOM_REGISTER_OP(sub, kSub)
LOOM_REGISTER_OP(mul, kMul)
LOOM_REGISTER_OP(div, kDiv)
LOOM_REGISTER_OP(maximum, kMaximum)
LOOM_REGISTER_OP(neg, kNeg)
LOOM_REGISTER_OP(add_scalar, kAddScalar)
LOOM_REGISTER_OP(mul_scalar, kMulScalar)
LOOM_REGISTER_OP(pow_scalar, kPowScalar)
