// Views and shape changes. Views share storage with their input; every op still
// returns a fresh Tensor object so it can carry its own autograd node.
#include <algorithm>
#include <numeric>

#include "loom/autograd/grad_mode.h"
#include "ops/op_util.h"

namespace loom {
using autograd::OpId;
using autograd::record;
using namespace ops_detail;

namespace {
Tensor fresh_view(const Tensor& x) { return x.as_strided(x.shape(), x.strides(), x.offset()); }

// Strides for viewing x as `shape` without a copy, if its layout allows (PyTorch's computeStride).
std::optional<Shape> view_strides(const Tensor& x, const Shape& shape) {
  if (x.is_contiguous())
    return contiguous_strides(shape);
  if (x.numel() == 0)
    return contiguous_strides(shape);
  // Walk x's dims in chunks that are contiguous among themselves.
  Shape out(shape.size());
  const Shape& os = x.shape();
  const Shape& ost = x.strides();
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base_stride = ost.empty() ? 1 : ost.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(os.size()) - 1; d >= 0; --d) {
    tensor_numel *= os[d];
    if (d == 0 || (os[d - 1] != 1 && ost[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel)
        return std::nullopt;
      if (d > 0) {
        chunk_base_stride = ost[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1)
    return std::nullopt;
  return out;
}
}  // namespace

Tensor reshape(const Tensor& x, const Shape& requested) {
  LOOM_CHECK(x.defined(), "reshape: input tensor is undefined");
  Shape shape = requested;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      LOOM_CHECK(infer < 0, "reshape: more than one -1 in ", shape_str(requested));
      infer = static_cast<int64_t>(i);
    } else {
      LOOM_CHECK(shape[i] >= 0, "reshape: invalid dimension ", shape[i], " in ", shape_str(requested));
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    LOOM_CHECK(known != 0 && x.numel() % known == 0, "reshape: cannot reshape a tensor of shape ", shape_str(x.shape()),
               " into ", shape_str(requested));
    shape[infer] = x.numel() / known;
  }
  LOOM_CHECK(shape_numel(shape) == x.numel(), "reshape: cannot reshape a tensor of shape ", shape_str(x.shape()), " (",
             x.numel(), " elements) into ", shape_str(requested), " (", shape_numel(shape), " elements)");
  auto strides = view_strides(x, shape);
  Tensor out = strides ? x.as_strided(shape, *strides, x.offset()) : x.clone().view(shape);
  return record(OpId::reshape, out, {x},
                [xs = x.shape()](const Tensor& g) { return std::vector<Tensor>{reshape(g, xs)}; });
}

Tensor flatten(const Tensor& x, int64_t start_axis, int64_t end_axis) {
  LOOM_CHECK(x.defined(), "flatten: input tensor is undefined");
  if (x.dim() == 0)
    return reshape(x, {1});
  start_axis = normalize_axis(start_axis, x.dim(), "flatten: start axis");
  end_axis = normalize_axis(end_axis, x.dim(), "flatten: end axis");
  LOOM_CHECK(start_axis <= end_axis, "flatten: start axis ", start_axis, " is after end axis ", end_axis);
  Shape shape;
  for (int64_t i = 0; i < start_axis; ++i)
    shape.push_back(x.size(i));
  int64_t merged = 1;
  for (int64_t i = start_axis; i <= end_axis; ++i)
    merged *= x.size(i);
  shape.push_back(merged);
  for (int64_t i = end_axis + 1; i < x.dim(); ++i)
    shape.push_back(x.size(i));
  Tensor out;
  {
    NoGradGuard no_grad;
    out = reshape(x, shape);
  }
  return record(OpId::flatten, out, {x},
                [xs = x.shape()](const Tensor& g) { return std::vector<Tensor>{reshape(g, xs)}; });
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& order) {
  LOOM_CHECK(static_cast<int64_t>(order.size()) == x.dim(), "permute: order has ", order.size(),
             " axes but the tensor has ", x.dim(), " (shape ", shape_str(x.shape()), ")");
  std::vector<int64_t> axes(order.size()), inverse(order.size());
  Shape shape, strides;
  std::vector<bool> seen(order.size(), false);
  for (size_t i = 0; i < order.size(); ++i) {
    int64_t a = normalize_axis(order[i], x.dim(), "permute: axis");
    LOOM_CHECK(!seen[a], "permute: axis ", a, " appears twice");
    seen[a] = true;
    axes[i] = a;
    inverse[a] = static_cast<int64_t>(i);
    shape.push_back(x.size(a));
    strides.push_back(x.strides()[a]);
  }
  Tensor out = x.as_strided(shape, strides, x.offset());
  return record(OpId::permute, out, {x},
                [inverse](const Tensor& g) { return std::vector<Tensor>{permute(g, inverse)}; });
}

Tensor transpose(const Tensor& x, int64_t a, int64_t b) {
  a = normalize_axis(a, x.dim(), "transpose: axis");
  b = normalize_axis(b, x.dim(), "transpose: axis");
  std::vector<int64_t> order(x.dim());
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[a], order[b]);
  Tensor out;
  {
    NoGradGuard no_grad;
    out = permute(x, order);
  }
  return record(OpId::transpose, out, {x}, [a, b](const Tensor& g) { return std::vector<Tensor>{transpose(g, a, b)}; });
}

Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end, int64_t step) {
  axis = normalize_axis(axis, x.dim(), "slice: axis");
  LOOM_CHECK(step >= 1, "slice: step must be positive, got ", step);
  const int64_t n = x.size(axis);
  if (start < 0)
    start += n;
  if (end < 0)
    end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape shape = x.shape(), strides = x.strides();
  shape[axis] = (end - start + step - 1) / step;
  strides[axis] *= step;
  Tensor out = x.as_strided(shape, strides, x.offset() + start * x.strides()[axis]);
  return record(OpId::slice, out, {x}, [xs = x.shape(), axis, start, step](const Tensor& g) {
    // Scatter the gradient back into zeros of the input's shape.
    Tensor gx = Tensor::zeros(xs, g.dtype(), g.device());
    Shape st = gx.strides();
    Shape gs = g.shape();
    st[axis] *= step;
    gx.as_strided(gs, st, start * gx.strides()[axis]).copy_(g);
    return std::vector<Tensor>{gx};
  });
}

Tensor expand(const Tensor& x, const Shape& shape) {
  LOOM_CHECK(broadcast_shapes(x.shape(), shape, "expand") == shape, "expand: cannot expand shape ",
             shape_str(x.shape()), " to ", shape_str(shape));
  Tensor out = fresh_view(broadcast_view(x, shape));
  return record(OpId::expand, out, {x},
                [xs = x.shape()](const Tensor& g) { return std::vector<Tensor>{sum_to(g, xs)}; });
}

Tensor squeeze(const Tensor& x, int64_t axis) {
  axis = normalize_axis(axis, x.dim(), "squeeze: axis");
  LOOM_CHECK(x.size(axis) == 1, "squeeze: axis ", axis, " has size ", x.size(axis), ", not 1");
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(shape.begin() + axis);
  strides.erase(strides.begin() + axis);
  Tensor out = x.as_strided(shape, strides, x.offset());
  return record(OpId::squeeze, out, {x}, [axis](const Tensor& g) { return std::vector<Tensor>{unsqueeze(g, axis)}; });
}

Tensor unsqueeze(const Tensor& x, int64_t axis) {
  axis = normalize_axis(axis, x.dim() + 1, "unsqueeze: axis");
  Shape shape = x.shape(), strides = x.strides();
  int64_t stride = axis < x.dim() ? x.strides()[axis] * x.size(axis) : 1;
  shape.insert(shape.begin() + axis, 1);
  strides.insert(strides.begin() + axis, stride);
  Tensor out = x.as_strided(shape, strides, x.offset());
  return record(OpId::unsqueeze, out, {x}, [axis](const Tensor& g) { return std::vector<Tensor>{squeeze(g, axis)}; });
}

Tensor contiguous(const Tensor& x) {
  Tensor out = x.is_contiguous() ? fresh_view(x) : x.clone();
  return record(OpId::contiguous, out, {x}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
}

Tensor concat(const std::vector<Tensor>& xs, int64_t axis) {
  LOOM_CHECK(!xs.empty(), "concat: no tensors given");
  const Tensor& first = xs[0];
  axis = normalize_axis(axis, first.dim(), "concat: axis");
  Shape shape = first.shape();
  int64_t total = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& t = xs[i];
    LOOM_CHECK(t.dim() == first.dim() && t.dtype() == first.dtype(), "concat: tensor ", i, " has shape ",
               shape_str(t.shape()), " and dtype ", dtype_name(t.dtype()), ", unlike tensor 0 (",
               shape_str(first.shape()), ", ", dtype_name(first.dtype()), ")");
    for (int64_t d = 0; d < first.dim(); ++d) {
      LOOM_CHECK(d == axis || t.size(d) == first.size(d), "concat: tensor ", i, " has shape ", shape_str(t.shape()),
                 " which differs from ", shape_str(first.shape()), " outside axis ", axis);
    }
    total += t.size(axis);
  }
  shape[axis] = total;
  Tensor out = Tensor::empty(shape, first.dtype(), first.device());
  std::vector<int64_t> sizes;
  int64_t at = 0;
  for (const Tensor& t : xs) {
    Shape part = t.shape();
    out.as_strided(part, out.strides(), at * out.strides()[axis]).copy_(t);
    sizes.push_back(t.size(axis));
    at += t.size(axis);
  }
  return record(OpId::concat, out, xs, [sizes, axis](const Tensor& g) {
    std::vector<Tensor> grads;
    int64_t start = 0;
    for (int64_t s : sizes) {
      grads.push_back(slice(g, axis, start, start + s).contiguous());
      start += s;
    }
    return grads;
  });
}

}  // namespace loom
