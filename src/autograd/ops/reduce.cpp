// sum, mean, amax, argmax and sum_to.
#include <algorithm>

#include "loom/autograd/grad_mode.h"
#include "loom/kernels/reduce.h"
#include "ops/op_util.h"

namespace loom {
using kernels::ReduceOp;
using namespace ops_detail;

namespace {

std::vector<int64_t> normalize_axes(std::vector<int64_t> axes, int64_t ndim, const char* op) {
  if (axes.empty()) {
    for (int64_t i = 0; i < ndim; ++i)
      axes.push_back(i);
    return axes;
  }
  for (auto& a : axes)
    a = normalize_axis(a, ndim, op);
  std::sort(axes.begin(), axes.end());
  LOOM_CHECK(std::adjacent_find(axes.begin(), axes.end()) == axes.end(), op, ": an axis is repeated");
  return axes;
}

Shape reduced_shape(const Shape& shape, const std::vector<int64_t>& axes, bool keepdim) {
  Shape out;
  for (int64_t i = 0; i < static_cast<int64_t>(shape.size()); ++i) {
    bool reduced = std::binary_search(axes.begin(), axes.end(), i);
    if (!reduced) {
      out.push_back(shape[i]);
    } else if (keepdim) {
      out.push_back(1);
    }
  }
  return out;
}

// Runs a reduction kernel over sorted `axes`; returns the result with keepdim shape.
Tensor reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& axes, const char* name) {
  check_float(x, name);
  const Shape keep_shape = reduced_shape(x.shape(), axes, true);
  const DType out_dtype = op == ReduceOp::argmax ? DType::i64 : x.dtype();
  const bool block = !axes.empty() && axes.back() - axes.front() + 1 == static_cast<int64_t>(axes.size());
  int64_t outer = 1, r = 1, inner = 1;
  Tensor src;
  if (block) {  // reduced axes are adjacent: read x as [outer, r, inner] with no permute
    src = x.contiguous();
    for (int64_t i = 0; i < x.dim(); ++i) {
      if (i < axes.front())
        outer *= x.size(i);
      else if (i <= axes.back())
        r *= x.size(i);
      else
        inner *= x.size(i);
    }
  } else if (op != ReduceOp::argmax && !axes.empty()) {
    // Reduce each run of adjacent axes in turn, innermost first: no transposed copy
    // of the input (the conv bias gradient sums [n, c, h, w] over n, h and w).
    Tensor partial = x;
    size_t end = axes.size();
    while (end > 0) {
      size_t begin = end - 1;
      while (begin > 0 && axes[begin - 1] + 1 == axes[begin])
        --begin;
      partial = reduce(op, partial, std::vector<int64_t>(axes.begin() + begin, axes.begin() + end), name);
      end = begin;
    }
    return partial;
  } else {  // move the reduced axes last
    std::vector<int64_t> order;
    for (int64_t i = 0; i < x.dim(); ++i)
      if (!std::binary_search(axes.begin(), axes.end(), i))
        order.push_back(i);
    for (int64_t a : axes)
      order.push_back(a);
    Shape shape, strides;
    for (int64_t i : order) {
      shape.push_back(x.size(i));
      strides.push_back(x.strides()[i]);
    }
    src = x.as_strided(shape, strides, x.offset()).contiguous();
    for (size_t i = 0; i < order.size(); ++i)
      (i < order.size() - axes.size() ? outer : r) *= shape[i];
  }
  Tensor out = Tensor::empty(keep_shape, out_dtype, x.device());
  kernels::reduce_kernels()(op, src, out, outer, r, inner);
  return out;
}

}  // namespace

namespace {

struct ReduceAttrs {
  std::vector<int64_t> axes;  // empty: every axis
  bool keepdim = false;
  template <typename V>
  void fields(V&& v) {
    v("axes", axes);
    v("keepdim", keepdim);
  }
};

TensorMeta reduce_meta(OpId id, const Metas& in, const ReduceAttrs& a) {
  const char* name = autograd::op_name(id);
  check_float_meta(in[0], name);
  const int64_t ndim = static_cast<int64_t>(in[0].shape.size());
  if (id == OpId::amax)
    LOOM_CHECK(a.axes.size() == 1, "amax: takes one axis, got ", a.axes.size());
  const auto axes = normalize_axes(a.axes, ndim, name);
  return {reduced_shape(in[0].shape, axes, a.keepdim), in[0].dtype};
}

OpOutput sum_forward(OpId, const Inputs& in, const ReduceAttrs& a) {
  const Tensor& x = in[0];
  const auto axes = normalize_axes(a.axes, x.dim(), "sum");
  Tensor out = reduce(ReduceOp::sum, x, axes, "sum");
  if (!a.keepdim)
    out = out.view(reduced_shape(x.shape(), axes, false));
  return {out, [xs = x.shape(), ks = reduced_shape(x.shape(), axes, true)](const Tensor& g) {
            return std::vector<Tensor>{contiguous(expand(reshape(g, ks), xs))};
          }};
}

OpOutput mean_forward(OpId, const Inputs& in, const ReduceAttrs& a) {
  const Tensor& x = in[0];
  const auto axes = normalize_axes(a.axes, x.dim(), "mean");
  int64_t count = 1;
  for (int64_t ax : axes)
    count *= x.size(ax);
  LOOM_CHECK(count > 0, "mean: reducing over an empty axis of shape ", shape_str(x.shape()));
  Tensor out = reduce(ReduceOp::sum, x, axes, "mean");
  mul_(out, 1.0 / static_cast<double>(count));
  if (!a.keepdim)
    out = out.view(reduced_shape(x.shape(), axes, false));
  return {out, [xs = x.shape(), ks = reduced_shape(x.shape(), axes, true), count](const Tensor& g) {
            return std::vector<Tensor>{
                contiguous(expand(reshape(mul_scalar(g, 1.0 / static_cast<double>(count)), ks), xs))};
          }};
}

OpOutput amax_forward(OpId, const Inputs& in, const ReduceAttrs& a) {
  const Tensor& x = in[0];
  LOOM_CHECK(a.axes.size() == 1, "amax: takes one axis, got ", a.axes.size());
  const int64_t axis = normalize_axis(a.axes[0], x.dim(), "amax: axis");
  Tensor out = reduce(ReduceOp::max, x, {axis}, "amax");
  Shape ks = out.shape();
  Tensor kept = out.detach();
  if (!a.keepdim)
    out = out.view(reduced_shape(x.shape(), {axis}, false));
  // The gradient is shared evenly between tied maxima, as torch.amax.
  return {out, [x, kept, ks, axis](const Tensor& g) {
            Tensor is_max = equal(x.detach(), kept);
            Tensor count = sum(is_max, {axis}, true);
            return std::vector<Tensor>{mul(is_max, div(reshape(g, ks), count))};
          }};
}

TensorMeta sum_to_meta(OpId, const Metas& in, const ShapeAttrs& a) {
  check_float_meta(in[0], "sum_to");
  LOOM_CHECK(broadcast_shapes(a.shape, in[0].shape, "sum_to") == in[0].shape, "sum_to: shape ", shape_str(in[0].shape),
             " cannot be summed to ", shape_str(a.shape));
  return {a.shape, in[0].dtype};
}

OpOutput sum_to_forward(OpId id, const Inputs& in, const ShapeAttrs& a) {
  const Tensor& x = in[0];
  const Shape& shape = sum_to_meta(id, {TensorMeta::of(x)}, a).shape;
  const int64_t lead = x.dim() - static_cast<int64_t>(shape.size());
  std::vector<int64_t> axes;
  for (int64_t i = 0; i < x.dim(); ++i) {
    if (i < lead || (shape[i - lead] == 1 && x.size(i) != 1))
      axes.push_back(i);
  }
  Tensor out;
  {
    NoGradGuard no_grad;  // sum_to records one node for itself
    out = reshape(sum(x, axes, true), shape);
  }
  return {out, [xs = x.shape()](const Tensor& g) { return std::vector<Tensor>{contiguous(expand(g, xs))}; }};
}

constexpr OpDef<ReduceAttrs> kSum{OpId::sum, 1, 1, "reduce", reduce_meta, sum_forward};
constexpr OpDef<ReduceAttrs> kMean{OpId::mean, 1, 1, "reduce, unary", reduce_meta, mean_forward};
constexpr OpDef<ReduceAttrs> kAmax{OpId::amax, 1, 1, "reduce, binary", reduce_meta, amax_forward};
constexpr OpDef<ShapeAttrs> kSumTo{OpId::sum_to, 1, 1, "reduce", sum_to_meta, sum_to_forward};

}  // namespace

Tensor sum(const Tensor& x, std::vector<int64_t> axes, bool keepdim) {
  return dispatch(kSum, {x}, {std::move(axes), keepdim});
}
Tensor mean(const Tensor& x, std::vector<int64_t> axes, bool keepdim) {
  return dispatch(kMean, {x}, {std::move(axes), keepdim});
}
Tensor amax(const Tensor& x, int64_t axis, bool keepdim) { return dispatch(kAmax, {x}, {{axis}, keepdim}); }

Tensor argmax(const Tensor& x, int64_t axis, bool keepdim) {
  axis = normalize_axis(axis, x.dim(), "argmax: axis");
  Tensor out = reduce(ReduceOp::argmax, x, {axis}, "argmax");
  if (!keepdim)
    out = out.view(reduced_shape(x.shape(), {axis}, false));
  return out;
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape)
    return x;
  return dispatch(kSumTo, {x}, {shape});
}

}  // namespace loom

LOOM_REGISTER_OP(sum, kSum)
LOOM_REGISTER_OP(mean, kMean)
LOOM_REGISTER_OP(amax, kAmax)
LOOM_REGISTER_OP(sum_to, kSumTo)
