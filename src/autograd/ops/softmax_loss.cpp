// softmax, log_softmax and the classification/regression losses.
#include "loom/kernels/nn_kernels.h"
#include "ops/op_util.h"

namespace loom {
using namespace ops_detail;

namespace {

// Softmax kernels work along the last axis of a contiguous tensor; other axes are
// moved last (a copy) and moved back afterwards.
std::vector<int64_t> axis_last_order(int64_t ndim, int64_t axis) {
  std::vector<int64_t> order;
  for (int64_t i = 0; i < ndim; ++i)
    if (i != axis)
      order.push_back(i);
  order.push_back(axis);
  return order;
}

Tensor move_axis_last(const Tensor& x, int64_t axis) {
  if (axis == x.dim() - 1 || x.dim() == 0)
    return x.contiguous();
  Shape shape, strides;
  for (int64_t i : axis_last_order(x.dim(), axis)) {
    shape.push_back(x.size(i));
    strides.push_back(x.strides()[i]);
  }
  return x.as_strided(shape, strides, x.offset()).contiguous();
}

Tensor move_last_axis_back(const Tensor& y, int64_t axis) {
  if (axis == y.dim() - 1 || y.dim() == 0)
    return y;
  auto order = axis_last_order(y.dim(), axis);
  Shape shape(order.size()), strides(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    shape[order[i]] = y.size(static_cast<int64_t>(i));
    strides[order[i]] = y.strides()[i];
  }
  return y.as_strided(shape, strides, y.offset()).contiguous();
}

TensorMeta softmax_meta(OpId id, const Metas& in, const AxisAttrs& a) {
  check_float_meta(in[0], autograd::op_name(id));
  if (!in[0].shape.empty())
    normalize_axis(a.axis, static_cast<int64_t>(in[0].shape.size()), "softmax: axis");
  return in[0];
}

OpOutput softmax_forward(OpId id, const Inputs& in, const AxisAttrs& a) {
  const Tensor& x = in[0];
  check_float(x, autograd::op_name(id));
  const bool log = id == OpId::log_softmax;
  const int64_t axis = x.dim() == 0 ? 0 : normalize_axis(a.axis, x.dim(), "softmax: axis");
  Tensor src = move_axis_last(x, axis);
  Tensor dst = empty_like(src);
  kernels::softmax_forward_kernels()(src, dst, log);
  Tensor out = move_last_axis_back(dst, axis);
  return {out, [y_last = dst.detach(), axis, log](const Tensor& g) {
            Tensor g_last = move_axis_last(g, axis);
            Tensor gx_last = empty_like(g_last);
            kernels::softmax_backward_kernels()(y_last, g_last, gx_last, log);
            return std::vector<Tensor>{move_last_axis_back(gx_last, axis)};
          }};
}

// scores [..., c] (f32/f64), target i64 [...] -> a scalar loss, the mean over
// every position (a sequence's [batch, time, vocab] scores and [batch, time] targets).
TensorMeta classification_meta(OpId id, const Metas& in, const NoAttrs&) {
  const char* op = autograd::op_name(id);
  const TensorMeta &scores = in[0], &target = in[1];
  check_float_meta(scores, op);
  LOOM_CHECK(scores.shape.size() >= 2, op, ": expected [batch, ..., classes] scores, got shape ",
             shape_str(scores.shape));
  LOOM_CHECK(target.defined && target.dtype == DType::i64, op, ": target must be an i64 tensor of class indices",
             target.defined ? std::string(", got ") + dtype_name(target.dtype) : std::string());
  const Shape positions(scores.shape.begin(), scores.shape.end() - 1);
  LOOM_CHECK(target.shape == positions, op, ": target shape ", shape_str(target.shape),
             " does not match the positions ", shape_str(positions), " of scores ", shape_str(scores.shape),
             " (the classes are the last axis)");
  return {{}, scores.dtype};
}

// The scores as [positions, classes] and the targets as [positions], contiguous.
Tensor rows_of(const Tensor& scores) {
  const int64_t c = scores.size(-1);
  return scores.contiguous().view({scores.numel() / std::max<int64_t>(c, 1), c});
}
Tensor flat_targets(const Tensor& target) { return target.contiguous().view({target.numel()}); }

void check_classification(const Tensor& scores, const Tensor& target, OpId id) {
  classification_meta(id, {TensorMeta::of(scores), TensorMeta::of(target)}, {});
}

OpOutput nll_loss_forward(OpId id, const Inputs& in, const NoAttrs&) {
  const Tensor &log_probs = in[0], &target = in[1];
  check_classification(log_probs, target, id);
  Tensor lp = rows_of(log_probs), t = flat_targets(target);
  Tensor loss = Tensor::empty({}, lp.dtype(), lp.device());
  kernels::nll_loss_forward_kernels()(lp, t, loss);
  return {loss, [t, rows = lp.shape(), shape = log_probs.shape(), dtype = lp.dtype()](const Tensor& g) {
            Tensor gx = Tensor::empty(rows, dtype);
            kernels::nll_loss_backward_kernels()(g, t, gx);
            return std::vector<Tensor>{gx.view(shape), Tensor()};
          }};
}

OpOutput cross_entropy_forward(OpId id, const Inputs& in, const NoAttrs&) {
  const Tensor &logits = in[0], &target = in[1];
  check_classification(logits, target, id);
  Tensor x = rows_of(logits), t = flat_targets(target);
  Tensor logp = empty_like(x);
  kernels::softmax_forward_kernels()(x, logp, true);
  Tensor loss = Tensor::empty({}, x.dtype(), x.device());
  kernels::nll_loss_forward_kernels()(logp, t, loss);
  return {loss, [logp, t, shape = logits.shape()](const Tensor& g) {
            Tensor glogp = empty_like(logp);
            kernels::nll_loss_backward_kernels()(g, t, glogp);
            Tensor gx = empty_like(logp);
            kernels::softmax_backward_kernels()(logp, glogp, gx, true);
            return std::vector<Tensor>{gx.view(shape), Tensor()};
          }};
}

TensorMeta mse_loss_meta(OpId, const Metas& in, const NoAttrs&) {
  check_float_meta(in[0], "mse_loss");
  LOOM_CHECK(in[1].defined && in[0].shape == in[1].shape, "mse_loss: prediction shape ", shape_str(in[0].shape),
             " differs from target shape ", in[1].defined ? shape_str(in[1].shape) : std::string("(none)"));
  return {{}, in[0].dtype};
}

// Composite: its gradient comes from sub, pow_scalar and mean.
OpOutput mse_loss_forward(OpId id, const Inputs& in, const NoAttrs&) {
  mse_loss_meta(id, metas_of(in), {});
  return {mean(pow_scalar(sub(in[0], in[1]), 2.0)), nullptr};
}

constexpr OpDef<AxisAttrs> kSoftmax{OpId::softmax,  1, 1, "softmax_forward, softmax_backward", softmax_meta,
                                    softmax_forward};
constexpr OpDef<AxisAttrs> kLogSoftmax{OpId::log_softmax, 1, 1, "softmax_forward, softmax_backward", softmax_meta,
                                       softmax_forward};
constexpr OpDef<NoAttrs> kNllLoss{OpId::nll_loss,  2, 2, "nll_loss_forward, nll_loss_backward", classification_meta,
                                  nll_loss_forward};
constexpr OpDef<NoAttrs> kCrossEntropy{OpId::cross_entropy,
                                       2,
                                       2,
                                       "softmax_forward, nll_loss_forward, nll_loss_backward, softmax_backward",
                                       classification_meta,
                                       cross_entropy_forward};
constexpr OpDef<NoAttrs> kMseLoss{
    OpId::mse_loss, 2, 2, "binary, unary, reduce (through sub, pow_scalar, mean)", mse_loss_meta, mse_loss_forward};

}  // namespace

Tensor softmax(const Tensor& x, int64_t axis) { return dispatch(kSoftmax, {x}, {axis}); }
Tensor log_softmax(const Tensor& x, int64_t axis) { return dispatch(kLogSoftmax, {x}, {axis}); }
Tensor nll_loss(const Tensor& log_probs, const Tensor& target) { return dispatch(kNllLoss, {log_probs, target}, {}); }
Tensor cross_entropy(const Tensor& logits, const Tensor& target) {
  return dispatch(kCrossEntropy, {logits, target}, {});
}
Tensor mse_loss(const Tensor& prediction, const Tensor& target) { return dispatch(kMseLoss, {prediction, target}, {}); }

}  // namespace loom

LOOM_REGISTER_OP(softmax, kSoftmax)
LOOM_REGISTER_OP(log_softmax, kLogSoftmax)
LOOM_REGISTER_OP(nll_loss, kNllLoss)
LOOM_REGISTER_OP(cross_entropy, kCrossEntropy)
LOOM_REGISTER_OP(mse_loss, kMseLoss)
