// softmax, log_softmax and the classification/regression losses.
#include "loom/kernels/nn_kernels.h"
#include "ops/op_util.h"

namespace loom {
using autograd::OpId;
using autograd::record;
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

Tensor softmax_impl(OpId id, const Tensor& x, int64_t axis, bool log) {
  check_float(x, op_name(id));
  axis = x.dim() == 0 ? 0 : normalize_axis(axis, x.dim(), "softmax: axis");
  Tensor src = move_axis_last(x, axis);
  Tensor dst = empty_like(src);
  kernels::softmax_forward_kernels()(src, dst, log);
  Tensor out = move_last_axis_back(dst, axis);
  return record(id, out, {x}, [y_last = dst.detach(), axis, log](const Tensor& g) {
    Tensor g_last = move_axis_last(g, axis);
    Tensor gx_last = empty_like(g_last);
    kernels::softmax_backward_kernels()(y_last, g_last, gx_last, log);
    return std::vector<Tensor>{move_last_axis_back(gx_last, axis)};
  });
}

void check_classification(const Tensor& scores, const Tensor& target, const char* op) {
  check_float(scores, op);
  LOOM_CHECK(scores.dim() == 2, op, ": expected [batch, classes] scores, got shape ", shape_str(scores.shape()));
  LOOM_CHECK(target.defined() && target.dtype() == DType::i64, op, ": target must be an i64 tensor of class indices",
             target.defined() ? std::string(", got ") + dtype_name(target.dtype()) : std::string());
  LOOM_CHECK(target.dim() == 1 && target.size(0) == scores.size(0), op, ": target shape ", shape_str(target.shape()),
             " does not match ", scores.size(0), " rows of scores ", shape_str(scores.shape()));
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t axis) { return softmax_impl(OpId::softmax, x, axis, false); }
Tensor log_softmax(const Tensor& x, int64_t axis) { return softmax_impl(OpId::log_softmax, x, axis, true); }

Tensor nll_loss(const Tensor& log_probs, const Tensor& target) {
  check_classification(log_probs, target, "nll_loss");
  Tensor lp = log_probs.contiguous(), t = target.contiguous();
  Tensor loss = Tensor::empty({}, lp.dtype(), lp.device());
  kernels::nll_loss_forward_kernels()(lp, t, loss);
  return record(OpId::nll_loss, loss, {log_probs, target},
                [t, shape = lp.shape(), dtype = lp.dtype()](const Tensor& g) {
                  Tensor gx = Tensor::empty(shape, dtype);
                  kernels::nll_loss_backward_kernels()(g, t, gx);
                  return std::vector<Tensor>{gx, Tensor()};
                });
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target) {
  check_classification(logits, target, "cross_entropy");
  Tensor x = logits.contiguous(), t = target.contiguous();
  Tensor logp = empty_like(x);
  kernels::softmax_forward_kernels()(x, logp, true);
  Tensor loss = Tensor::empty({}, x.dtype(), x.device());
  kernels::nll_loss_forward_kernels()(logp, t, loss);
  return record(OpId::cross_entropy, loss, {logits, target}, [logp, t](const Tensor& g) {
    Tensor glogp = empty_like(logp);
    kernels::nll_loss_backward_kernels()(g, t, glogp);
    Tensor gx = empty_like(logp);
    kernels::softmax_backward_kernels()(logp, glogp, gx, true);
    return std::vector<Tensor>{gx, Tensor()};
  });
}

Tensor mse_loss(const Tensor& prediction, const Tensor& target) {
  check_float(prediction, "mse_loss");
  LOOM_CHECK(prediction.shape() == target.shape(), "mse_loss: prediction shape ", shape_str(prediction.shape()),
             " differs from target shape ", shape_str(target.shape()));
  // Composite: its gradient comes from sub, pow_scalar and mean.
  return mean(pow_scalar(sub(prediction, target), 2.0));
}

}  // namespace loom
