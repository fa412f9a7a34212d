// sum, mean, amax, argmax and sum_to.
#include <algorithm>

#include "loom/autograd/grad_mode.h"
#include "loom/kernels/reduce.h"
#include "ops/op_util.h"

namespace loom {
using autograd::OpId;
using autograd::record;
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

Tensor sum(const Tensor& x, std::vector<int64_t> axes, bool keepdim) {
  axes = normalize_axes(std::move(axes), x.dim(), "sum");
  Tensor out = reduce(ReduceOp::sum, x, axes, "sum");
  if (!keepdim)
    out = out.view(reduced_shape(x.shape(), axes, false));
  return record(OpId::sum, out, {x}, [xs = x.shape(), ks = reduced_shape(x.shape(), axes, true)](const Tensor& g) {
    return std::vector<Tensor>{contiguous(expand(reshape(g, ks), xs))};
  });
}

Tensor mean(const Tensor& x, std::vector<int64_t> axes, bool keepdim) {
  axes = normalize_axes(std::move(axes), x.dim(), "mean");
  int64_t count = 1;
  for (int64_t a : axes)
    count *= x.size(a);
  LOOM_CHECK(count > 0, "mean: reducing over an empty axis of shape ", shape_str(x.shape()));
  Tensor out = reduce(ReduceOp::sum, x, axes, "mean");
  mul_(out, 1.0 / static_cast<double>(count));
  if (!keepdim)
    out = out.view(reduced_shape(x.shape(), axes, false));
  return record(OpId::mean, out, {x},
                [xs = x.shape(), ks = reduced_shape(x.shape(), axes, true), count](const Tensor& g) {
                  return std::vector<Tensor>{
                      contiguous(expand(reshape(mul_scalar(g, 1.0 / static_cast<double>(count)), ks), xs))};
                });
}

Tensor amax(const Tensor& x, int64_t axis, bool keepdim) {
  axis = normalize_axis(axis, x.dim(), "amax: axis");
  Tensor out = reduce(ReduceOp::max, x, {axis}, "amax");
  Shape ks = out.shape();
  Tensor kept = out.detach();
  if (!keepdim)
    out = out.view(reduced_shape(x.shape(), {axis}, false));
  // The gradient is shared evenly between tied maxima, as torch.amax.
  return record(OpId::amax, out, {x}, [x, kept, ks, axis](const Tensor& g) {
    Tensor is_max = equal(x.detach(), kept);
    Tensor count = sum(is_max, {axis}, true);
    return std::vector<Tensor>{mul(is_max, div(reshape(g, ks), count))};
  });
}

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
  LOOM_CHECK(broadcast_shapes(shape, x.shape(), "sum_to") == x.shape(), "sum_to: shape ", shape_str(x.shape()),
             " cannot be summed to ", shape_str(shape));
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
  return record(OpId::sum_to, out, {x},
                [xs = x.shape()](const Tensor& g) { return std::vector<Tensor>{contiguous(expand(g, xs))}; });
}

}  // namespace loom
