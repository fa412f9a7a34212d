// matmul, linear and linear_act, through the GEMM kernel list.
#include "loom/kernels/fused.h"
#include "loom/kernels/gemm.h"
#include "ops/op_util.h"

namespace loom {
using namespace ops_detail;

namespace {

// A matrix operand for GEMM: a row-major or transposed view needs no copy.
struct GemmOperand {
  Tensor t;
  bool trans = false;
  int64_t ld = 0;
};

GemmOperand as_gemm_operand(const Tensor& m) {  // m is 2-D
  const int64_t rows = m.size(0), cols = m.size(1);
  const Shape& st = m.strides();
  if ((st[1] == 1 || cols == 1) && st[0] >= std::max<int64_t>(cols, 1))
    return {m, false, st[0]};
  if ((st[0] == 1 || rows == 1) && st[1] >= std::max<int64_t>(rows, 1))
    return {m, true, st[1]};
  Tensor c = m.contiguous();
  return {c, false, std::max<int64_t>(cols, 1)};
}

// The zero point an integer GEMM subtracts: a per-tensor one, or 0 for symmetric
// per-axis parameters (the usual per-channel weights); an asymmetric per-axis
// operand has no single zero point.
int32_t gemm_zero_point(const Tensor& t) {
  const QuantParams* q = t.quant_params();
  if (q == nullptr)
    return 0;
  if (q->is_per_tensor())
    return q->zero_points[0];
  LOOM_CHECK(q->symmetric(), "matmul: an operand quantized per axis with non-zero zero points (", q->str(),
             ") has no single zero point; dequantize it first");
  return 0;
}

// out[m,n] = a[m,k] @ b[k,n] (+ beta * out)
void gemm_2d(const Tensor& a, const Tensor& b, const Tensor& out, double beta) {
  GemmOperand A = as_gemm_operand(a), B = as_gemm_operand(b);
  kernels::GemmArgs g;
  g.a_dtype = a.dtype();
  g.b_dtype = b.dtype();
  g.c_dtype = out.dtype();
  if (g.c_dtype == DType::i32) {
    g.a_zero_point = gemm_zero_point(a);
    g.b_zero_point = gemm_zero_point(b);
  }
  g.device = a.device();
  g.m = a.size(0);
  g.k = a.size(1);
  g.n = b.size(1);
  g.trans_a = A.trans;
  g.trans_b = B.trans;
  g.a = A.t.raw_data();
  g.lda = A.ld;
  g.b = B.t.raw_data();
  g.ldb = B.ld;
  g.beta = beta;
  g.c = out.raw_data();
  g.ldc = out.size(1);
  if (g.m == 0 || g.n == 0)
    return;
  if (g.k == 0) {
    if (beta == 0)
      out.fill_(0.0);
    return;
  }
  kernels::gemm_kernels()(g);
}

bool is_byte(DType t) { return t == DType::u8 || t == DType::i8; }

// NOTE [GEMM operand dtypes]: f32 @ f32, f64 @ f64, bf16 @ bf16 -> bf16 (f32
// accumulation) and 8-bit integers {u8, i8} @ {u8, i8} -> i32 (torch._int_mm).
DType matmul_dtype(const TensorMeta& a, const TensorMeta& b) {
  LOOM_CHECK(a.defined && b.defined, "matmul: an operand is undefined");
  if (is_byte(a.dtype) && is_byte(b.dtype))
    return DType::i32;
  if (a.dtype == DType::bf16 && b.dtype == DType::bf16)
    return DType::bf16;
  check_float_meta(a, "matmul");
  check_float_meta(b, "matmul");
  check_same_dtype_meta(a, b, "matmul");
  return a.dtype;
}

TensorMeta matmul_meta(OpId, const Metas& in, const NoAttrs&) {
  const TensorMeta &a = in[0], &b = in[1];
  const DType out_dtype = matmul_dtype(a, b);
  const size_t ad = a.shape.size(), bd = b.shape.size();
  LOOM_CHECK(ad >= 2 && bd >= 2, "matmul: expected matrices (2-D or batched 3-D), got shapes ", shape_str(a.shape),
             " and ", shape_str(b.shape));
  LOOM_CHECK(ad <= 3 && bd <= 3, "matmul: at most one batch axis is supported, got shapes ", shape_str(a.shape),
             " and ", shape_str(b.shape));
  LOOM_CHECK(a.shape[ad - 1] == b.shape[bd - 2], "matmul: inner dimensions differ: ", shape_str(a.shape), " @ ",
             shape_str(b.shape), " (", a.shape[ad - 1], " vs ", b.shape[bd - 2], ")");
  const int64_t m = a.shape[ad - 2], n = b.shape[bd - 1];
  if (ad == 2 && bd == 2)
    return {{m, n}, out_dtype};
  LOOM_CHECK(ad == 2 || bd == 2 || a.shape[0] == b.shape[0], "matmul: batch sizes differ: ", shape_str(a.shape), " @ ",
             shape_str(b.shape));
  return {{ad == 3 ? a.shape[0] : b.shape[0], m, n}, out_dtype};
}

Tensor matmul_forward(const Tensor& a, const Tensor& b) {
  const TensorMeta meta = matmul_meta(OpId::matmul, {TensorMeta::of(a), TensorMeta::of(b)}, {});
  Tensor out = Tensor::empty(meta.shape, meta.dtype, a.device());
  if (a.dim() == 2 && b.dim() == 2) {
    gemm_2d(a, b, out, 0.0);
    return out;
  }
  const int64_t batch = meta.shape[0], m = meta.shape[1], n = meta.shape[2];
  for (int64_t i = 0; i < batch; ++i) {
    Tensor ai = a.dim() == 3
                    ? a.as_strided({m, a.size(2)}, {a.strides()[1], a.strides()[2]}, a.offset() + i * a.strides()[0])
                    : a;
    Tensor bi = b.dim() == 3
                    ? b.as_strided({b.size(1), n}, {b.strides()[1], b.strides()[2]}, b.offset() + i * b.strides()[0])
                    : b;
    gemm_2d(ai, bi, out.as_strided({m, n}, {n, 1}, i * m * n), 0.0);
  }
  return out;
}

OpOutput matmul_op(OpId, const Inputs& in, const NoAttrs&) {
  const Tensor &a = in[0], &b = in[1];
  Tensor out = matmul_forward(a, b);
  const bool ga = a.requires_grad(), gb = b.requires_grad();
  return {out, [a, b, ga, gb](const Tensor& g) {
            return std::vector<Tensor>{ga ? sum_to(matmul(g, transpose(b, -1, -2)), a.shape()) : Tensor(),
                                       gb ? sum_to(matmul(transpose(a, -1, -2), g), b.shape()) : Tensor()};
          }};
}

// x[..., in], weight [out, in], bias [out] or none -> [..., out]: the shape half
// of the rule, over references, so the forward's own check copies no shape.
void check_linear_shapes(const char* op, const Shape& x, const Shape& weight, const Shape* bias) {
  LOOM_CHECK(weight.size() == 2, op, ": weight must be [out, in], got ", shape_str(weight));
  LOOM_CHECK(!x.empty() && x.back() == weight[1], op, ": input has ", x.empty() ? 0 : x.back(),
             " features but the layer expects ", weight[1], " (input shape ", shape_str(x), ", weight shape ",
             shape_str(weight), ")");
  if (bias) {
    LOOM_CHECK(bias->size() == 1 && (*bias)[0] == weight[0], op, ": bias shape ", shape_str(*bias), " does not match ",
               weight[0], " output features");
  }
}

// The rule of linear and of linear_act, whose activation does not change the shape.
TensorMeta linear_meta(OpId id, const Metas& in, const auto&) {
  const char* op = autograd::op_name(id);
  const TensorMeta &x = in[0], &weight = in[1];
  const TensorMeta bias = in.size() > 2 ? in[2] : TensorMeta::none();
  check_float_meta(x, op);
  check_float_meta(weight, op);
  check_same_dtype_meta(x, weight, op);
  if (bias.defined)
    check_same_dtype_meta(x, bias, op);
  check_linear_shapes(op, x.shape, weight.shape, bias.defined ? &bias.shape : nullptr);
  Shape out = x.shape;
  out.back() = weight.shape[0];
  return {out, x.dtype};
}

void check_linear(const Tensor& x, const Tensor& weight, const Tensor& bias, OpId id) {
  const char* op = autograd::op_name(id);
  check_float(x, op);
  check_float(weight, op);
  check_same_dtype(x, weight, op);
  if (bias.defined())
    check_same_dtype(x, bias, op);
  check_linear_shapes(op, x.shape(), weight.shape(), bias.defined() ? &bias.shape() : nullptr);
}

// A Linear's weight gradient gz^T @ x, written straight into the weight's gradient
// buffer when the engine offers it (NOTE [Gradient destinations]).
Tensor linear_weight_grad(const Tensor& gz, const Tensor& x2, const Tensor& weight) {
  Tensor out = autograd::gradient_destination(1);
  if (!out.defined())
    out = Tensor::empty(weight.shape(), gz.dtype(), gz.device());
  gemm_2d(transpose(gz, 0, 1), x2, out, 0.0);
  return out;
}

OpOutput linear_forward(OpId id, const Inputs& in, const NoAttrs&) {
  const Tensor &x = in[0], &weight = in[1];
  const Tensor bias = in.size() > 2 ? in[2] : Tensor();
  check_linear(x, weight, bias, id);
  const int64_t in_features = weight.size(1), out_features = weight.size(0);
  Tensor x2 = x.contiguous().view({-1, in_features});
  const int64_t rows = x2.size(0);
  Tensor y = Tensor::empty({rows, out_features}, x.dtype(), x.device());
  if (bias.defined()) {
    strided_copy(broadcast_view(bias, y.shape()), y);  // y = bias, then y += x @ W^T
  }
  gemm_2d(x2, transpose(weight.detach(), 0, 1), y, bias.defined() ? 1.0 : 0.0);
  Shape out_shape = x.shape();
  out_shape.back() = out_features;
  Tensor out = y.view(out_shape);
  const bool gx = x.requires_grad(), gw = weight.requires_grad();
  return {out, [x2, weight, gx, gw, xs = x.shape(), has_bias = bias.defined()](const Tensor& g) {
            Tensor g2 = g.contiguous().view({-1, weight.size(0)});
            return std::vector<Tensor>{gx ? reshape(matmul(g2, weight), xs) : Tensor(),
                                       gw ? linear_weight_grad(g2, x2, weight) : Tensor(),
                                       has_bias ? sum(g2, {0}) : Tensor()};
          }};
}

// NOTE [Fused linear]
// linear_act = act(x @ W^T + b) as one op: the GEMM writes y, then one pass over y
// (still in cache) adds the bias and applies the activation. The backward makes one
// pass computing grad_z = grad_y * act'(z) together with the bias gradient (its
// column sums), then the two GEMMs. relu saves only its output (y > 0 exactly where
// z > 0); gelu saves z. nn::Sequential uses it for a Linear followed by ReLU/GELU.
struct LinearActAttrs {
  Activation act = Activation::none;
  template <typename V>
  void fields(V&& v) {
    v("activation", act);
  }
};

OpOutput linear_act_forward(OpId id, const Inputs& in, const LinearActAttrs& a) {
  const Tensor &x = in[0], &weight = in[1];
  const Tensor bias = in.size() > 2 ? in[2] : Tensor();
  const Activation act = a.act;
  check_linear(x, weight, bias, id);
  const int64_t in_features = weight.size(1), out_features = weight.size(0);
  Tensor x2 = x.contiguous().view({-1, in_features});
  const int64_t rows = x2.size(0);
  Tensor y = Tensor::empty({rows, out_features}, x.dtype(), x.device());
  gemm_2d(x2, transpose(weight.detach(), 0, 1), y, 0.0);
  Tensor pre = act == Activation::gelu ? Tensor::empty({rows, out_features}, x.dtype(), x.device()) : Tensor();
  kernels::bias_act_kernels()(act, bias.defined() ? bias.detach() : Tensor(), y, pre);
  Shape out_shape = x.shape();
  out_shape.back() = out_features;
  Tensor out = y.view(out_shape);
  // NOTE [Saved outputs]: the saved output is a detached alias.
  Tensor saved = act == Activation::relu ? y.detach() : pre;
  const bool gx = x.requires_grad(), gw = weight.requires_grad(), gb = bias.defined() && bias.requires_grad();
  return {out, [x2, weight, saved, act, gx, gw, gb, xs = x.shape()](const Tensor& g) {
            Tensor g2 = g.contiguous().view({-1, weight.size(0)});
            Tensor gz = Tensor::empty(g2.shape(), g2.dtype(), g2.device());
            Tensor gbias = gb ? autograd::gradient_destination(2) : Tensor();
            if (gb && !gbias.defined())
              gbias = Tensor::empty({weight.size(0)}, g2.dtype(), g2.device());
            kernels::bias_act_backward_kernels()(act, g2, saved, gz, gbias);
            return std::vector<Tensor>{gx ? reshape(matmul(gz, weight), xs) : Tensor(),
                                       gw ? linear_weight_grad(gz, x2, weight) : Tensor(), gbias};
          }};
}

constexpr OpDef<NoAttrs> kMatmul{OpId::matmul, 2, 2, "gemm", matmul_meta, matmul_op};
constexpr OpDef<NoAttrs> kLinear{OpId::linear, 2, 3, "gemm, reduce", linear_meta, linear_forward};
constexpr OpDef<LinearActAttrs> kLinearAct{OpId::linear_act,  2, 3, "gemm, bias_act, bias_act_backward", linear_meta,
                                           linear_act_forward};

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) { return dispatch(kMatmul, {a, b}, {}); }
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  return dispatch(kLinear, {x, weight, bias}, {});
}
Tensor linear_act(const Tensor& x, const Tensor& weight, const Tensor& bias, Activation act) {
  return dispatch(kLinearAct, {x, weight, bias}, {act});
}

}  // namespace loom

LOOM_REGISTER_OP(matmul, kMatmul)
LOOM_REGISTER_OP(linear, kLinear)
LOOM_REGISTER_OP(linear_act, kLinearAct)
