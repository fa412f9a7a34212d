// conv2d, max_pool2d and avg_pool2d over NCHW tensors.
#include <algorithm>
#include <limits>
#include <optional>
#include <tuple>
#include <vector>

#include "loom/kernels/elementwise.h"
#include "loom/kernels/nn_kernels.h"
#include "loom/kernels/reduce.h"
#include "loom/runtime/parallel.h"
#include "ops/op_util.h"

namespace loom {
using kernels::Window2d;
using namespace ops_detail;

namespace {

// The number of window positions, or 0 when the window is larger than the padded
// input (C++ division truncates toward zero, so (4 - 5) / 2 + 1 would say 1).
int64_t window_output(int64_t in, int64_t k, int64_t stride, int64_t pad) {
  return in + 2 * pad < k ? 0 : (in + 2 * pad - k) / stride + 1;
}

Window2d pool_geometry_of(const Shape& x, const Pool2dOptions& o, const char* op) {
  LOOM_CHECK(x.size() == 4, op, ": expected an [n, c, h, w] input, got shape ", shape_str(x));
  Window2d g;
  g.n = x[0];
  g.c = x[1];
  g.h = x[2];
  g.w = x[3];
  g.kh = o.kernel_h;
  g.kw = o.kernel_w;
  g.sh = o.stride_h ? o.stride_h : o.kernel_h;
  g.sw = o.stride_w ? o.stride_w : o.kernel_w;
  g.ph = o.pad_h;
  g.pw = o.pad_w;
  LOOM_CHECK(g.kh > 0 && g.kw > 0 && g.sh > 0 && g.sw > 0 && g.ph >= 0 && g.pw >= 0, op,
             ": kernel and stride must be positive and padding non-negative");
  LOOM_CHECK(g.ph * 2 <= g.kh && g.pw * 2 <= g.kw, op, ": padding ", g.ph, "x", g.pw,
             " must be at most half the kernel ", g.kh, "x", g.kw);
  g.oh = window_output(g.h, g.kh, g.sh, g.ph);
  g.ow = window_output(g.w, g.kw, g.sw, g.pw);
  LOOM_CHECK(g.oh > 0 && g.ow > 0, op, ": a ", g.kh, "x", g.kw, " window does not fit input ", shape_str(x));
  LOOM_CHECK(g.h * g.w <= std::numeric_limits<int32_t>::max(), op, ": an input plane of ", g.h, "x", g.w,
             " has more than 2^31 - 1 positions, which the pooling indices (int32) cannot address");
  return g;
}

Window2d pool_geometry(const TensorMeta& x, const Pool2dOptions& o, const char* op) {
  check_float_meta(x, op);
  return pool_geometry_of(x.shape, o, op);
}

Window2d conv_geometry(const TensorMeta& x, const TensorMeta& weight, const TensorMeta& bias, Conv2dOptions o,
                       const char* op) {
  check_float_meta(x, op);
  check_float_meta(weight, op);
  check_same_dtype_meta(x, weight, op);
  const Shape &xs = x.shape, &ws = weight.shape;
  LOOM_CHECK(xs.size() == 4, op, ": expected an [n, c, h, w] input, got shape ", shape_str(xs));
  LOOM_CHECK(ws.size() == 4, op, ": weight must be [out, in, kh, kw], got ", shape_str(ws));
  LOOM_CHECK(xs[1] == ws[1], op, ": input has ", xs[1], " channels but the layer expects ", ws[1], " (input shape ",
             shape_str(xs), "); check the data's channel count");
  LOOM_CHECK(o.stride_h > 0 && o.stride_w > 0 && o.pad_h >= 0 && o.pad_w >= 0, op,
             ": stride must be positive and padding non-negative");
  Window2d g;
  g.n = xs[0];
  g.c = xs[1];
  g.h = xs[2];
  g.w = xs[3];
  g.oc = ws[0];
  g.kh = ws[2];
  g.kw = ws[3];
  g.sh = o.stride_h;
  g.sw = o.stride_w;
  g.ph = o.pad_h;
  g.pw = o.pad_w;
  g.oh = window_output(g.h, g.kh, g.sh, g.ph);
  g.ow = window_output(g.w, g.kw, g.sw, g.pw);
  LOOM_CHECK(g.oh > 0 && g.ow > 0, op, ": a ", g.kh, "x", g.kw, " kernel does not fit input ", shape_str(xs),
             " with padding ", g.ph, "x", g.pw);
  if (bias.defined) {
    check_same_dtype_meta(x, bias, op);
    LOOM_CHECK(bias.shape.size() == 1 && bias.shape[0] == g.oc, op, ": bias shape ", shape_str(bias.shape),
               " does not match ", g.oc, " output channels");
  }
  return g;
}

Window2d conv_geometry(const Inputs& in, Conv2dOptions o, const char* op) {
  return conv_geometry(TensorMeta::of(in[0]), TensorMeta::of(in[1]), TensorMeta::of(in[2]), o, op);
}

TensorMeta conv2d_meta(OpId, const Metas& in, const Conv2dOptions& o) {
  const Window2d g = conv_geometry(in[0], in[1], in[2], o, "conv2d");
  return {{g.n, g.oc, g.oh, g.ow}, in[0].dtype};
}

TensorMeta pool_meta(OpId id, const Metas& in, const Pool2dOptions& o) {
  const Window2d g = pool_geometry(in[0], o, autograd::op_name(id));
  return {{g.n, g.c, g.oh, g.ow}, in[0].dtype};
}

OpOutput conv2d_forward(OpId, const Inputs& in, const Conv2dOptions& o) {
  const Tensor &x = in[0], &weight = in[1], &bias = in[2];
  const Window2d g = conv_geometry(in, o, "conv2d");
  Tensor xc = x.contiguous(), wc = weight.contiguous();
  Tensor bc = bias.defined() ? bias.contiguous() : Tensor();
  Tensor y = Tensor::empty({g.n, g.oc, g.oh, g.ow}, x.dtype(), x.device());
  kernels::conv2d_forward_kernels()(g, xc, wc, bc, y);
  const bool gx = x.requires_grad(), gw = weight.requires_grad();
  return {y, [g, xc, wc, gx, gw, has_bias = bias.defined()](const Tensor& gy) {
            Tensor gyc = gy.contiguous();
            Tensor grad_x, grad_w, grad_b;
            if (gx) {
              grad_x = Tensor::empty(xc.shape(), xc.dtype(), xc.device());
              kernels::conv2d_backward_input_kernels()(g, gyc, wc, grad_x);
            }
            if (gw) {
              grad_w = Tensor::empty(wc.shape(), wc.dtype(), wc.device());
              kernels::conv2d_backward_weight_kernels()(g, xc, gyc, grad_w);
            }
            if (has_bias)
              grad_b = sum(gyc, {0, 2, 3});
            return std::vector<Tensor>{grad_x, grad_w, grad_b};
          }};
}

OpOutput max_pool2d_forward(OpId, const Inputs& in, const Pool2dOptions& o) {
  const Tensor& x = in[0];
  Window2d g = pool_geometry(TensorMeta::of(x), o, "max_pool2d");
  Tensor xc = x.contiguous();
  Tensor y = Tensor::empty({g.n, g.c, g.oh, g.ow}, x.dtype(), x.device());
  // NOTE [Pool indices]
  // Max pooling's winner indices are written only when the forward will record a
  // backward (autograd::needs_grad, the test dispatch applies): inference and
  // no-grad evaluation skip a quarter of the pooled input's traffic in int32 writes.
  Tensor argmax = autograd::needs_grad({x}) ? Tensor::empty({g.n, g.c, g.oh, g.ow}, DType::i32, x.device()) : Tensor();
  kernels::max_pool2d_forward_kernels()(g, xc, y, argmax);
  return {y, [g, argmax, xs = x.shape(), dtype = x.dtype()](const Tensor& gy) {
            Tensor gx = Tensor::empty(xs, dtype);
            kernels::max_pool2d_backward_kernels()(g, gy.contiguous(), argmax, gx);
            return std::vector<Tensor>{gx};
          }};
}

OpOutput avg_pool2d_forward(OpId, const Inputs& in, const Pool2dOptions& o) {
  const Tensor& x = in[0];
  Window2d g = pool_geometry(TensorMeta::of(x), o, "avg_pool2d");
  Tensor y = Tensor::empty({g.n, g.c, g.oh, g.ow}, x.dtype(), x.device());
  kernels::avg_pool2d_forward_kernels()(g, x.contiguous(), y);
  return {y, [g, xs = x.shape(), dtype = x.dtype()](const Tensor& gy) {
            Tensor gx = Tensor::empty(xs, dtype);
            kernels::avg_pool2d_backward_kernels()(g, gy.contiguous(), gx);
            return std::vector<Tensor>{gx};
          }};
}

}  // namespace

// NOTE [Fused conv + max-pool]
// conv2d followed by max_pool2d, as one op, so the convolution's output (the
// largest tensor of a small CNN: 6.4 MB for the reference CNN's first layer at
// batch 64) never goes through memory. The batch is split statically over the
// threads (balance211, one slice each); each thread walks its slice a few images at
// a time, as many as keep one step's conv output under kStepBytes, runs the conv
// kernel list on the step into a buffer that stays in its L2 and pools it straight
// into the output. Backward does the same in reverse: per step it scatters the
// pooled gradient into the buffer (max_pool2d's backward), then runs the conv's
// backward-input kernels into grad_x's rows and the backward-weight kernels into a
// per-step buffer added to the slice's sum, and sums the bias gradient from the
// buffer. Slices' weight and bias sums are added in slice order, so the bits depend
// only on the thread count. The kernels called per step run inline on the calling
// thread (they are inside a parallel region). Values equal conv2d then max_pool2d
// up to the order of the weight and bias gradients' sums.
//
// A ReLU runs on each step's pooled rows while they are in cache (relu(max(z)) ==
// max(relu(z)), NOTE [Fusion passes]), and backward masks each step's rows of
// the output gradient by output > 0 before the scatter. That is the separate relu
// op's arithmetic, without its two passes over the pooled map in memory: 2% of the
// reference CNN's step.
namespace {

constexpr int64_t kStepBytes = 256 * 1024;

// Block i of `shape` in a contiguous tensor holding several such blocks back to back.
Tensor block(const Tensor& t, int64_t i, const Shape& shape) {
  return t.as_strided(shape, contiguous_strides(shape), t.impl()->offset + i * shape_numel(shape));
}

// Images [lo, lo + n) of a contiguous [N, ...] tensor, as a view.
Tensor batch_rows(const Tensor& t, int64_t lo, int64_t n) {
  Shape shape = t.shape();
  shape[0] = n;
  return t.as_strided(shape, t.strides(), t.impl()->offset + lo * t.strides()[0]);
}

// First image of slice t when n images are split balance211 over `parts`.
int64_t slice_begin(int64_t n, int64_t parts, int64_t t) { return t * (n / parts) + std::min(t, n % parts); }

// Runs fn(slice, step_begin, step_end) for each step of each thread's slice.
template <typename Fn>
void for_each_step(int64_t n, int64_t parts, int64_t step, Fn&& fn) {
  runtime::parallel_for(0, parts, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t lo = slice_begin(n, parts, t), hi = slice_begin(n, parts, t + 1);
      for (int64_t s = lo; s < hi; s += step)
        fn(t, s, std::min(hi, s + step));
    }
  });
}

Window2d with_batch(Window2d g, int64_t n) {
  g.n = n;
  return g;
}

// What the fused op's backward needs from its forward.
struct ConvPoolSaved {
  Window2d conv, pool;
  Tensor x, weight, argmax;
  Tensor relu_out;  // the output, when a ReLU is fused (NOTE [Saved outputs]: detached)
  bool grad_x, grad_weight, bias;
  int64_t step, parts;
};

// Per-slice sums of a gradient of one shape, for a slice's steps to add into and for
// the slices to be added in slice order. Two blocks per slice: the slice's sum, and
// a scratch for each later step's part. Allocated before the threads start, so how
// many buffers exist does not depend on which thread ran which slice (the
// steady-state allocation test); zeroed, so a slice without images adds nothing.
class SliceSums {
 public:
  SliceSums(const Shape& shape, int64_t parts, DType dtype) : shape_(shape), parts_(parts) {
    Shape all{2 * parts};
    all.insert(all.end(), shape.begin(), shape.end());
    buf_ = Tensor::zeros(all, dtype);
  }
  // Where a slice's first step writes (its sum), or a later step (the scratch).
  Tensor target(int64_t t, bool first_step) const { return block(buf_, 2 * t + (first_step ? 0 : 1), shape_); }
  // After a later step wrote target(t, false): adds it to the slice's sum.
  void fold(int64_t t) const {
    kernels::binary_kernels()(kernels::BinaryOp::add, target(t, true), target(t, false), target(t, true));
  }
  // The slices' sums added in slice order.
  Tensor total() const {
    Tensor out = Tensor::empty(shape_, buf_.dtype());
    out.copy_(target(0, true));
    for (int64_t t = 1; t < parts_; ++t)
      kernels::binary_kernels()(kernels::BinaryOp::add, out, target(t, true), out);
    return out;
  }

 private:
  Shape shape_;
  int64_t parts_;
  Tensor buf_;
};

std::vector<Tensor> conv_max_pool_backward(const ConvPoolSaved& s, const Tensor& gy) {
  Tensor gyc = gy.contiguous();
  const DType dtype = s.x.dtype();
  const Window2d& gc = s.conv;
  Tensor grad_x = s.grad_x ? Tensor::empty(s.x.shape(), dtype, s.x.device()) : Tensor();
  // Per slice (every slice has at least one image): a step's output gradient and
  // per-image channel sums, and the weight and bias gradients' sums; all allocated
  // before the threads start (see SliceSums).
  Tensor dy_all = Tensor::empty({s.parts * s.step, gc.oc, gc.oh, gc.ow}, dtype, s.x.device());
  Tensor channel_sums = s.bias ? Tensor::empty({s.parts * s.step, gc.oc}, dtype, s.x.device()) : Tensor();
  Tensor masked_all = s.relu_out.defined()
                          ? Tensor::empty({s.parts * s.step, gc.oc, s.pool.oh, s.pool.ow}, dtype, s.x.device())
                          : Tensor();
  std::optional<SliceSums> w_sums, b_sums;
  if (s.grad_weight)
    w_sums.emplace(s.weight.shape(), s.parts, dtype);
  if (s.bias)
    b_sums.emplace(Shape{gc.oc}, s.parts, dtype);
  for_each_step(gc.n, s.parts, s.step, [&](int64_t t, int64_t lo, int64_t hi) {
    const int64_t m = hi - lo;
    const Window2d gcm = with_batch(gc, m);
    const bool first = lo == slice_begin(gc.n, s.parts, t);
    Tensor dy = batch_rows(dy_all, t * s.step, m);
    Tensor gy_step = batch_rows(gyc, lo, m);
    if (s.relu_out.defined()) {  // relu's backward on the step's rows
      Tensor masked = batch_rows(masked_all, t * s.step, m);
      kernels::binary_kernels()(kernels::BinaryOp::relu_backward, gy_step, batch_rows(s.relu_out, lo, m), masked);
      gy_step = masked;
    }
    kernels::max_pool2d_backward_kernels()(with_batch(s.pool, m), gy_step, batch_rows(s.argmax, lo, m), dy);
    if (s.grad_x)
      kernels::conv2d_backward_input_kernels()(gcm, dy, s.weight, batch_rows(grad_x, lo, m));
    if (s.grad_weight) {
      kernels::conv2d_backward_weight_kernels()(gcm, batch_rows(s.x, lo, m), dy, w_sums->target(t, first));
      if (!first)
        w_sums->fold(t);
    }
    if (s.bias) {  // sum over each image's positions, then over the step's images
      Tensor per_image = batch_rows(channel_sums, t * s.step, m);
      kernels::reduce_kernels()(kernels::ReduceOp::sum, dy, per_image, m * gc.oc, gc.oh * gc.ow, 1);
      kernels::reduce_kernels()(kernels::ReduceOp::sum, per_image, b_sums->target(t, first), 1, m, gc.oc);
      if (!first)
        b_sums->fold(t);
    }
  });
  Tensor grad_w = w_sums ? w_sums->total() : Tensor(), grad_b = b_sums ? b_sums->total() : Tensor();
  return {grad_x, grad_w, grad_b};
}

struct ConvPoolAttrs {
  Conv2dOptions conv;
  Pool2dOptions pool;
  Activation act = Activation::none;
  template <typename V>
  void fields(V&& v) {
    v("stride_h", conv.stride_h);
    v("stride_w", conv.stride_w);
    v("pad_h", conv.pad_h);
    v("pad_w", conv.pad_w);
    v("pool_kernel_h", pool.kernel_h);
    v("pool_kernel_w", pool.kernel_w);
    v("pool_stride_h", pool.stride_h);
    v("pool_stride_w", pool.stride_w);
    v("pool_pad_h", pool.pad_h);
    v("pool_pad_w", pool.pad_w);
    v("activation", act);
  }
};

// The conv's and the pool's windows, checked as the two ops check them.
std::pair<Window2d, Window2d> conv_pool_geometry(const Metas& in, const ConvPoolAttrs& a) {
  LOOM_CHECK(a.act == Activation::none || a.act == Activation::relu,
             "conv2d_max_pool2d: the fused activation must be none or relu");
  const Window2d gc = conv_geometry(in[0], in[1], in[2], a.conv, "conv2d_max_pool2d");
  return {gc, pool_geometry_of({gc.n, gc.oc, gc.oh, gc.ow}, a.pool, "conv2d_max_pool2d")};
}

TensorMeta conv_pool_meta(OpId, const Metas& in, const ConvPoolAttrs& a) {
  const Window2d gp = conv_pool_geometry(in, a).second;
  return {{gp.n, gp.c, gp.oh, gp.ow}, in[0].dtype};
}

OpOutput conv_pool_forward(OpId, const Inputs& in, const ConvPoolAttrs& a) {
  const Tensor &x = in[0], &weight = in[1], &bias = in[2];
  const Activation act = a.act;
  ConvPoolSaved s;
  std::tie(s.conv, s.pool) = conv_pool_geometry(metas_of(in), a);
  const Window2d& gc = s.conv;
  s.x = x.contiguous();
  s.weight = weight.contiguous();
  Tensor bc = bias.defined() ? bias.contiguous() : Tensor();
  const DType dtype = x.dtype();
  Tensor y = Tensor::empty({gc.n, gc.oc, s.pool.oh, s.pool.ow}, dtype, x.device());
  if (autograd::needs_grad({x, weight, bias}))  // NOTE [Pool indices]
    s.argmax = Tensor::empty(y.shape(), DType::i32, x.device());
  const int64_t image_bytes = gc.oc * gc.oh * gc.ow * static_cast<int64_t>(dtype_size(dtype));
  s.step = std::max<int64_t>(1, kStepBytes / image_bytes);
  s.parts = std::max<int64_t>(1, std::min<int64_t>(runtime::num_threads(), gc.n));
  // One step buffer per slice, allocated before the threads start (see the backward).
  Tensor bufs = Tensor::empty({s.parts * s.step, gc.oc, gc.oh, gc.ow}, dtype, x.device());
  for_each_step(gc.n, s.parts, s.step, [&](int64_t t, int64_t lo, int64_t hi) {
    const int64_t m = hi - lo;
    Tensor buf = batch_rows(bufs, t * s.step, m);
    kernels::conv2d_forward_kernels()(with_batch(gc, m), batch_rows(s.x, lo, m), s.weight, bc, buf);
    Tensor y_step = batch_rows(y, lo, m);
    kernels::max_pool2d_forward_kernels()(with_batch(s.pool, m), buf, y_step,
                                          s.argmax.defined() ? batch_rows(s.argmax, lo, m) : Tensor());
    if (act == Activation::relu)
      kernels::unary_kernels()(kernels::UnaryOp::relu, y_step, y_step, 0.0, 0.0);
  });
  if (act == Activation::relu)
    s.relu_out = y.detach();
  s.grad_x = x.requires_grad();
  s.grad_weight = weight.requires_grad();
  s.bias = bias.defined();
  return {y, [s](const Tensor& gy) { return conv_max_pool_backward(s, gy); }};
}

constexpr OpDef<Conv2dOptions> kConv2d{
    OpId::conv2d,  2, 3, "conv2d_forward, conv2d_backward_input, conv2d_backward_weight, reduce", conv2d_meta,
    conv2d_forward};
constexpr OpDef<Pool2dOptions> kMaxPool2d{OpId::max_pool2d,  1, 1, "max_pool2d_forward, max_pool2d_backward", pool_meta,
                                          max_pool2d_forward};
constexpr OpDef<Pool2dOptions> kAvgPool2d{OpId::avg_pool2d,  1, 1, "avg_pool2d_forward, avg_pool2d_backward", pool_meta,
                                          avg_pool2d_forward};
constexpr OpDef<ConvPoolAttrs> kConvMaxPool{
    OpId::conv2d_max_pool2d,
    2,
    3,
    "conv2d_forward, max_pool2d_forward, unary, binary, max_pool2d_backward, conv2d_backward_input, "
    "conv2d_backward_weight, reduce",
    conv_pool_meta,
    conv_pool_forward};

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Conv2dOptions options) {
  return dispatch(kConv2d, {x, weight, bias}, options);
}
Tensor max_pool2d(const Tensor& x, Pool2dOptions options) { return dispatch(kMaxPool2d, {x}, options); }
Tensor avg_pool2d(const Tensor& x, Pool2dOptions options) { return dispatch(kAvgPool2d, {x}, options); }
Tensor conv2d_max_pool2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Conv2dOptions conv,
                         Pool2dOptions pool, Activation act) {
  return dispatch(kConvMaxPool, {x, weight, bias}, {conv, pool, act});
}

}  // namespace loom

LOOM_REGISTER_OP(conv2d, kConv2d)
LOOM_REGISTER_OP(max_pool2d, kMaxPool2d)
LOOM_REGISTER_OP(avg_pool2d, kAvgPool2d)
LOOM_REGISTER_OP(conv2d_max_pool2d, kConvMaxPool)
