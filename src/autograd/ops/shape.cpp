// Views and shape changes. Views share storage with their input; every op still
// returns a fresh Tensor object so it can carry its own autograd node.
#include <algorithm>
#include <numeric>

#include "loom/autograd/grad_mode.h"
#include "ops/op_util.h"

namespace loom {
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

namespace {

// The shape `requested` means for `numel` elements of `from` (resolving one -1).
Shape reshape_target(const Shape& from, const Shape& requested) {
  const int64_t numel = shape_numel(from);
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
    LOOM_CHECK(known != 0 && numel % known == 0, "reshape: cannot reshape a tensor of shape ", shape_str(from),
               " into ", shape_str(requested));
    shape[infer] = numel / known;
  }
  LOOM_CHECK(shape_numel(shape) == numel, "reshape: cannot reshape a tensor of shape ", shape_str(from), " (", numel,
             " elements) into ", shape_str(requested), " (", shape_numel(shape), " elements)");
  return shape;
}

void check_defined_meta(const TensorMeta& x, const char* op) {
  LOOM_CHECK(x.defined, op, ": input tensor is undefined");
}

TensorMeta reshape_meta(OpId, const Metas& in, const ShapeAttrs& a) {
  check_defined_meta(in[0], "reshape");
  return {reshape_target(in[0].shape, a.shape), in[0].dtype};
}

OpOutput reshape_forward(OpId, const Inputs& in, const ShapeAttrs& a) {
  const Tensor& x = in[0];
  LOOM_CHECK(x.defined(), "reshape: input tensor is undefined");
  const Shape shape = reshape_target(x.shape(), a.shape);
  auto strides = view_strides(x, shape);
  Tensor out = strides ? x.as_strided(shape, *strides, x.offset()) : x.clone().view(shape);
  return {out, [xs = x.shape()](const Tensor& g) { return std::vector<Tensor>{reshape(g, xs)}; }};
}

struct FlattenAttrs {
  int64_t start_axis = 1, end_axis = -1;
  template <typename V>
  void fields(V&& v) {
    v("start_axis", start_axis);
    v("end_axis", end_axis);
  }
};

Shape flattened_shape(const Shape& from, const FlattenAttrs& a) {
  const auto ndim = static_cast<int64_t>(from.size());
  if (ndim == 0)
    return {1};
  const int64_t start_axis = normalize_axis(a.start_axis, ndim, "flatten: start axis");
  const int64_t end_axis = normalize_axis(a.end_axis, ndim, "flatten: end axis");
  LOOM_CHECK(start_axis <= end_axis, "flatten: start axis ", start_axis, " is after end axis ", end_axis);
  Shape shape(from.begin(), from.begin() + start_axis);
  int64_t merged = 1;
  for (int64_t i = start_axis; i <= end_axis; ++i)
    merged *= from[i];
  shape.push_back(merged);
  shape.insert(shape.end(), from.begin() + end_axis + 1, from.end());
  return shape;
}

TensorMeta flatten_meta(OpId, const Metas& in, const FlattenAttrs& a) {
  check_defined_meta(in[0], "flatten");
  return {flattened_shape(in[0].shape, a), in[0].dtype};
}

OpOutput flatten_forward(OpId, const Inputs& in, const FlattenAttrs& a) {
  const Tensor& x = in[0];
  LOOM_CHECK(x.defined(), "flatten: input tensor is undefined");
  Tensor out;
  {
    NoGradGuard no_grad;
    out = reshape(x, flattened_shape(x.shape(), a));
  }
  return {out, [xs = x.shape()](const Tensor& g) { return std::vector<Tensor>{reshape(g, xs)}; }};
}

struct PermuteAttrs {
  std::vector<int64_t> order;
  template <typename V>
  void fields(V&& v) {
    v("order", order);
  }
};

// The permuted axes (normalised), checked.
std::vector<int64_t> permutation(const std::vector<int64_t>& order, const Shape& shape) {
  const auto ndim = static_cast<int64_t>(shape.size());
  LOOM_CHECK(static_cast<int64_t>(order.size()) == ndim, "permute: order has ", order.size(),
             " axes but the tensor has ", ndim, " (shape ", shape_str(shape), ")");
  std::vector<int64_t> axes(order.size());
  std::vector<bool> seen(order.size(), false);
  for (size_t i = 0; i < order.size(); ++i) {
    const int64_t ax = normalize_axis(order[i], ndim, "permute: axis");
    LOOM_CHECK(!seen[ax], "permute: axis ", ax, " appears twice");
    seen[ax] = true;
    axes[i] = ax;
  }
  return axes;
}

TensorMeta permute_meta(OpId, const Metas& in, const PermuteAttrs& a) {
  check_defined_meta(in[0], "permute");
  Shape shape;
  for (int64_t ax : permutation(a.order, in[0].shape))
    shape.push_back(in[0].shape[ax]);
  return {shape, in[0].dtype};
}

OpOutput permute_forward(OpId, const Inputs& in, const PermuteAttrs& a) {
  const Tensor& x = in[0];
  const auto axes = permutation(a.order, x.shape());
  std::vector<int64_t> inverse(axes.size());
  Shape shape, strides;
  for (size_t i = 0; i < axes.size(); ++i) {
    inverse[axes[i]] = static_cast<int64_t>(i);
    shape.push_back(x.size(axes[i]));
    strides.push_back(x.strides()[axes[i]]);
  }
  Tensor out = x.as_strided(shape, strides, x.offset());
  return {out, [inverse](const Tensor& g) { return std::vector<Tensor>{permute(g, inverse)}; }};
}

struct TransposeAttrs {
  int64_t a = 0, b = 1;
  template <typename V>
  void fields(V&& v) {
    v("a", a);
    v("b", b);
  }
};

std::vector<int64_t> transpose_order(const TransposeAttrs& t, int64_t ndim) {
  const int64_t a = normalize_axis(t.a, ndim, "transpose: axis"), b = normalize_axis(t.b, ndim, "transpose: axis");
  std::vector<int64_t> order(ndim);
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[a], order[b]);
  return order;
}

TensorMeta transpose_meta(OpId id, const Metas& in, const TransposeAttrs& t) {
  check_defined_meta(in[0], "transpose");
  return permute_meta(id, in, {transpose_order(t, static_cast<int64_t>(in[0].shape.size()))});
}

OpOutput transpose_forward(OpId, const Inputs& in, const TransposeAttrs& t) {
  const Tensor& x = in[0];
  Tensor out;
  {
    NoGradGuard no_grad;
    out = permute(x, transpose_order(t, x.dim()));
  }
  return {out, [t](const Tensor& g) { return std::vector<Tensor>{transpose(g, t.a, t.b)}; }};
}

struct SliceAttrs {
  int64_t axis = 0, start = 0, end = 0, step = 1;
  template <typename V>
  void fields(V&& v) {
    v("axis", axis);
    v("start", start);
    v("end", end);
    v("step", step);
  }
};

// The slice with its axis normalised and its bounds clamped, as Python slices.
SliceAttrs resolved_slice(SliceAttrs s, const Shape& shape) {
  s.axis = normalize_axis(s.axis, static_cast<int64_t>(shape.size()), "slice: axis");
  LOOM_CHECK(s.step >= 1, "slice: step must be positive, got ", s.step);
  const int64_t n = shape[s.axis];
  if (s.start < 0)
    s.start += n;
  if (s.end < 0)
    s.end += n;
  s.start = std::clamp<int64_t>(s.start, 0, n);
  s.end = std::clamp<int64_t>(s.end, s.start, n);
  return s;
}

TensorMeta slice_meta(OpId, const Metas& in, const SliceAttrs& a) {
  check_defined_meta(in[0], "slice");
  const SliceAttrs s = resolved_slice(a, in[0].shape);
  Shape shape = in[0].shape;
  shape[s.axis] = (s.end - s.start + s.step - 1) / s.step;
  return {shape, in[0].dtype};
}

OpOutput slice_forward(OpId, const Inputs& in, const SliceAttrs& a) {
  const Tensor& x = in[0];
  const SliceAttrs s = resolved_slice(a, x.shape());
  Shape shape = x.shape(), strides = x.strides();
  shape[s.axis] = (s.end - s.start + s.step - 1) / s.step;
  strides[s.axis] *= s.step;
  Tensor out = x.as_strided(shape, strides, x.offset() + s.start * x.strides()[s.axis]);
  return {out, [xs = x.shape(), axis = s.axis, start = s.start, step = s.step](const Tensor& g) {
            // Scatter the gradient back into zeros of the input's shape.
            Tensor gx = Tensor::zeros(xs, g.dtype(), g.device());
            Shape st = gx.strides();
            Shape gs = g.shape();
            st[axis] *= step;
            gx.as_strided(gs, st, start * gx.strides()[axis]).copy_(g);
            return std::vector<Tensor>{gx};
          }};
}

TensorMeta expand_meta(OpId, const Metas& in, const ShapeAttrs& a) {
  check_defined_meta(in[0], "expand");
  LOOM_CHECK(broadcast_shapes(in[0].shape, a.shape, "expand") == a.shape, "expand: cannot expand shape ",
             shape_str(in[0].shape), " to ", shape_str(a.shape));
  return {a.shape, in[0].dtype};
}

OpOutput expand_forward(OpId id, const Inputs& in, const ShapeAttrs& a) {
  const Tensor& x = in[0];
  expand_meta(id, {TensorMeta::of(x)}, a);
  Tensor out = fresh_view(broadcast_view(x, a.shape));
  return {out, [xs = x.shape()](const Tensor& g) { return std::vector<Tensor>{sum_to(g, xs)}; }};
}

int64_t squeezed_axis(const Shape& shape, int64_t axis) {
  axis = normalize_axis(axis, static_cast<int64_t>(shape.size()), "squeeze: axis");
  LOOM_CHECK(shape[axis] == 1, "squeeze: axis ", axis, " has size ", shape[axis], ", not 1");
  return axis;
}

TensorMeta squeeze_meta(OpId, const Metas& in, const AxisAttrs& a) {
  check_defined_meta(in[0], "squeeze");
  Shape shape = in[0].shape;
  shape.erase(shape.begin() + squeezed_axis(shape, a.axis));
  return {shape, in[0].dtype};
}

OpOutput squeeze_forward(OpId, const Inputs& in, const AxisAttrs& a) {
  const Tensor& x = in[0];
  const int64_t axis = squeezed_axis(x.shape(), a.axis);
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(shape.begin() + axis);
  strides.erase(strides.begin() + axis);
  Tensor out = x.as_strided(shape, strides, x.offset());
  return {out, [axis](const Tensor& g) { return std::vector<Tensor>{unsqueeze(g, axis)}; }};
}

TensorMeta unsqueeze_meta(OpId, const Metas& in, const AxisAttrs& a) {
  check_defined_meta(in[0], "unsqueeze");
  Shape shape = in[0].shape;
  const int64_t axis = normalize_axis(a.axis, static_cast<int64_t>(shape.size()) + 1, "unsqueeze: axis");
  shape.insert(shape.begin() + axis, 1);
  return {shape, in[0].dtype};
}

OpOutput unsqueeze_forward(OpId, const Inputs& in, const AxisAttrs& a) {
  const Tensor& x = in[0];
  const int64_t axis = normalize_axis(a.axis, x.dim() + 1, "unsqueeze: axis");
  Shape shape = x.shape(), strides = x.strides();
  int64_t stride = axis < x.dim() ? x.strides()[axis] * x.size(axis) : 1;
  shape.insert(shape.begin() + axis, 1);
  strides.insert(strides.begin() + axis, stride);
  Tensor out = x.as_strided(shape, strides, x.offset());
  return {out, [axis](const Tensor& g) { return std::vector<Tensor>{squeeze(g, axis)}; }};
}

TensorMeta contiguous_meta(OpId, const Metas& in, const NoAttrs&) {
  check_defined_meta(in[0], "contiguous");
  return in[0];
}

OpOutput contiguous_forward(OpId, const Inputs& in, const NoAttrs&) {
  const Tensor& x = in[0];
  Tensor out = x.is_contiguous() ? fresh_view(x) : x.clone();
  return {out, [](const Tensor& g) { return std::vector<Tensor>{g}; }};
}

TensorMeta concat_meta(OpId, const Metas& in, const AxisAttrs& a) {
  LOOM_CHECK(!in.empty(), "concat: no tensors given");
  const TensorMeta& first = in[0];
  check_defined_meta(first, "concat");
  const auto ndim = static_cast<int64_t>(first.shape.size());
  const int64_t axis = normalize_axis(a.axis, ndim, "concat: axis");
  Shape shape = first.shape;
  int64_t total = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const TensorMeta& t = in[i];
    check_defined_meta(t, "concat");
    LOOM_CHECK(t.shape.size() == first.shape.size() && t.dtype == first.dtype, "concat: tensor ", i, " has shape ",
               shape_str(t.shape), " and dtype ", dtype_name(t.dtype), ", unlike tensor 0 (", shape_str(first.shape),
               ", ", dtype_name(first.dtype), ")");
    for (int64_t d = 0; d < ndim; ++d) {
      LOOM_CHECK(d == axis || t.shape[d] == first.shape[d], "concat: tensor ", i, " has shape ", shape_str(t.shape),
                 " which differs from ", shape_str(first.shape), " outside axis ", axis);
    }
    total += t.shape[axis];
  }
  shape[axis] = total;
  return {shape, first.dtype};
}

OpOutput concat_forward(OpId id, const Inputs& xs, const AxisAttrs& a) {
  const TensorMeta meta = concat_meta(id, metas_of(xs), a);
  const int64_t axis = normalize_axis(a.axis, xs[0].dim(), "concat: axis");
  Tensor out = Tensor::empty(meta.shape, meta.dtype, xs[0].device());
  std::vector<int64_t> sizes;
  int64_t at = 0;
  for (const Tensor& t : xs) {
    Shape part = t.shape();
    out.as_strided(part, out.strides(), at * out.strides()[axis]).copy_(t);
    sizes.push_back(t.size(axis));
    at += t.size(axis);
  }
  return {out, [sizes, axis](const Tensor& g) {
            std::vector<Tensor> grads;
            int64_t start = 0;
            for (int64_t s : sizes) {
              grads.push_back(slice(g, axis, start, start + s).contiguous());
              start += s;
            }
            return grads;
          }};
}

constexpr OpDef<ShapeAttrs> kReshape{OpId::reshape, 1, 1, "copy", reshape_meta, reshape_forward};
constexpr OpDef<FlattenAttrs> kFlatten{OpId::flatten, 1, 1, "copy", flatten_meta, flatten_forward};
constexpr OpDef<PermuteAttrs> kPermute{OpId::permute, 1, 1, "none (a view)", permute_meta, permute_forward};
constexpr OpDef<TransposeAttrs> kTranspose{OpId::transpose, 1, 1, "none (a view)", transpose_meta, transpose_forward};
constexpr OpDef<SliceAttrs> kSlice{OpId::slice, 1, 1, "copy (backward)", slice_meta, slice_forward};
constexpr OpDef<ShapeAttrs> kExpand{OpId::expand, 1, 1, "reduce (backward)", expand_meta, expand_forward};
constexpr OpDef<AxisAttrs> kSqueeze{OpId::squeeze, 1, 1, "none (a view)", squeeze_meta, squeeze_forward};
constexpr OpDef<AxisAttrs> kUnsqueeze{OpId::unsqueeze, 1, 1, "none (a view)", unsqueeze_meta, unsqueeze_forward};
constexpr OpDef<NoAttrs> kContiguous{OpId::contiguous, 1, 1, "copy", contiguous_meta, contiguous_forward};
constexpr OpDef<AxisAttrs> kConcat{OpId::concat, 1, -1, "copy", concat_meta, concat_forward};

}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape) { return dispatch(kReshape, {x}, {shape}); }
Tensor flatten(const Tensor& x, int64_t start_axis, int64_t end_axis) {
  return dispatch(kFlatten, {x}, {start_axis, end_axis});
}
Tensor permute(const Tensor& x, const std::vector<int64_t>& order) { return dispatch(kPermute, {x}, {order}); }
Tensor transpose(const Tensor& x, int64_t a, int64_t b) { return dispatch(kTranspose, {x}, {a, b}); }
Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end, int64_t step) {
  return dispatch(kSlice, {x}, {axis, start, end, step});
}
Tensor expand(const Tensor& x, const Shape& shape) { return dispatch(kExpand, {x}, {shape}); }
Tensor squeeze(const Tensor& x, int64_t axis) { return dispatch(kSqueeze, {x}, {axis}); }
Tensor unsqueeze(const Tensor& x, int64_t axis) { return dispatch(kUnsqueeze, {x}, {axis}); }
Tensor contiguous(const Tensor& x) { return dispatch(kContiguous, {x}, {}); }
Tensor concat(const std::vector<Tensor>& xs, int64_t axis) {
  LOOM_CHECK(!xs.empty(), "concat: no tensors given");
  return dispatch(kConcat, xs, {axis});
}

}  // namespace loom

LOOM_REGISTER_OP(reshape, kReshape)
LOOM_REGISTER_OP(flatten, kFlatten)
LOOM_REGISTER_OP(permute, kPermute)
LOOM_REGISTER_OP(transpose, kTranspose)
LOOM_REGISTER_OP(slice, kSlice)
LOOM_REGISTER_OP(expand, kExpand)
LOOM_REGISTER_OP(squeeze, kSqueeze)
LOOM_REGISTER_OP(unsqueeze, kUnsqueeze)
LOOM_REGISTER_OP(contiguous, kContiguous)
LOOM_REGISTER_OP(concat, kConcat)
