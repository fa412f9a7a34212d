// add, sub, mul, div, maximum, neg and the scalar forms, with broadcasting.
#include "ops/op_util.h"

namespace loom {
using autograd::OpId;
using autograd::record;
using kernels::BinaryOp;
using kernels::UnaryOp;
using namespace ops_detail;

namespace ops_detail {

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

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(BinaryOp::add, a, b, "add");
  return record(OpId::add, out, {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, sa), sum_to(g, sb)};
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(BinaryOp::sub, a, b, "sub");
  return record(OpId::sub, out, {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, sa), sum_to(neg(g), sb)};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(BinaryOp::mul, a, b, "mul");
  const bool ga = a.requires_grad(), gb = b.requires_grad();
  return record(OpId::mul, out, {a, b}, [a, b, ga, gb](const Tensor& g) {
    return std::vector<Tensor>{ga ? sum_to(mul(g, b), a.shape()) : Tensor(),
                               gb ? sum_to(mul(g, a), b.shape()) : Tensor()};
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(BinaryOp::div, a, b, "div");
  const bool gb = b.requires_grad();
  return record(OpId::div, out, {a, b}, [a, b, y = out.detach(), gb](const Tensor& g) {
    Tensor ga = sum_to(div(g, b), a.shape());
    // d(a/b)/db = -(a/b)/b
    Tensor gbv = gb ? sum_to(neg(div(mul(g, y), b)), b.shape()) : Tensor();
    return std::vector<Tensor>{ga, gbv};
  });
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(BinaryOp::maximum, a, b, "maximum");
  return record(OpId::maximum, out, {a, b}, [a, b](const Tensor& g) {
    // The gradient goes to a where a >= b (ties to a), else to b.
    Tensor to_b = greater(b, a);
    Tensor to_a = add_scalar(neg(to_b), 1.0);
    return std::vector<Tensor>{sum_to(mul(g, to_a), a.shape()), sum_to(mul(g, to_b), b.shape())};
  });
}

Tensor neg(const Tensor& x) {
  Tensor out = unary_kernel(UnaryOp::neg, x);
  return record(OpId::neg, out, {x}, [](const Tensor& g) { return std::vector<Tensor>{neg(g)}; });
}

Tensor add_scalar(const Tensor& x, double value) {
  Tensor out = unary_kernel(UnaryOp::scale_shift, x, 1.0, value);
  return record(OpId::add_scalar, out, {x}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
}

Tensor mul_scalar(const Tensor& x, double value) {
  Tensor out = unary_kernel(UnaryOp::scale_shift, x, value, 0.0);
  return record(OpId::mul_scalar, out, {x},
                [value](const Tensor& g) { return std::vector<Tensor>{mul_scalar(g, value)}; });
}

Tensor pow_scalar(const Tensor& x, double exponent) {
  Tensor out = exponent == 2.0 ? unary_kernel(UnaryOp::square, x) : unary_kernel(UnaryOp::pow, x, exponent);
  return record(OpId::pow_scalar, out, {x}, [x, exponent](const Tensor& g) {
    return std::vector<Tensor>{mul(g, mul_scalar(pow_scalar(x, exponent - 1.0), exponent))};
  });
}

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
