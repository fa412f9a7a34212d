// conv2d, max_pool2d and avg_pool2d over NCHW tensors.
#include "loom/kernels/nn_kernels.h"
#include "ops/op_util.h"

namespace loom {
using autograd::OpId;
using autograd::record;
using kernels::Window2d;
using namespace ops_detail;

namespace {

int64_t window_output(int64_t in, int64_t k, int64_t stride, int64_t pad) { return (in + 2 * pad - k) / stride + 1; }

Window2d pool_geometry(const Tensor& x, const Pool2dOptions& o, const char* op) {
  check_float(x, op);
  LOOM_CHECK(x.dim() == 4, op, ": expected an [n, c, h, w] input, got shape ", shape_str(x.shape()));
  Window2d g;
  g.n = x.size(0);
  g.c = x.size(1);
  g.h = x.size(2);
  g.w = x.size(3);
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
  LOOM_CHECK(g.oh > 0 && g.ow > 0, op, ": a ", g.kh, "x", g.kw, " window does not fit input ", shape_str(x.shape()));
  return g;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Conv2dOptions o) {
  check_float(x, "conv2d");
  check_float(weight, "conv2d");
  check_same_dtype(x, weight, "conv2d");
  LOOM_CHECK(x.dim() == 4, "conv2d: expected an [n, c, h, w] input, got shape ", shape_str(x.shape()));
  LOOM_CHECK(weight.dim() == 4, "conv2d: weight must be [out, in, kh, kw], got ", shape_str(weight.shape()));
  LOOM_CHECK(x.size(1) == weight.size(1), "conv2d: input has ", x.size(1), " channels but the layer expects ",
             weight.size(1), " (input shape ", shape_str(x.shape()), "); check the data's channel count");
  LOOM_CHECK(o.stride_h > 0 && o.stride_w > 0 && o.pad_h >= 0 && o.pad_w >= 0,
             "conv2d: stride must be positive and padding non-negative");
  Window2d g;
  g.n = x.size(0);
  g.c = x.size(1);
  g.h = x.size(2);
  g.w = x.size(3);
  g.oc = weight.size(0);
  g.kh = weight.size(2);
  g.kw = weight.size(3);
  g.sh = o.stride_h;
  g.sw = o.stride_w;
  g.ph = o.pad_h;
  g.pw = o.pad_w;
  g.oh = window_output(g.h, g.kh, g.sh, g.ph);
  g.ow = window_output(g.w, g.kw, g.sw, g.pw);
  LOOM_CHECK(g.oh > 0 && g.ow > 0, "conv2d: a ", g.kh, "x", g.kw, " kernel does not fit input ", shape_str(x.shape()),
             " with padding ", g.ph, "x", g.pw);
  if (bias.defined()) {
    check_same_dtype(x, bias, "conv2d");
    LOOM_CHECK(bias.dim() == 1 && bias.size(0) == g.oc, "conv2d: bias shape ", shape_str(bias.shape()),
               " does not match ", g.oc, " output channels");
  }
  Tensor xc = x.contiguous(), wc = weight.contiguous();
  Tensor bc = bias.defined() ? bias.contiguous() : Tensor();
  Tensor y = Tensor::empty({g.n, g.oc, g.oh, g.ow}, x.dtype(), x.device());
  kernels::conv2d_forward_kernels()(g, xc, wc, bc, y);
  const bool gx = x.requires_grad(), gw = weight.requires_grad();
  return record(OpId::conv2d, y, {x, weight, bias}, [g, xc, wc, gx, gw, has_bias = bias.defined()](const Tensor& gy) {
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
  });
}

Tensor max_pool2d(const Tensor& x, Pool2dOptions o) {
  Window2d g = pool_geometry(x, o, "max_pool2d");
  Tensor xc = x.contiguous();
  Tensor y = Tensor::empty({g.n, g.c, g.oh, g.ow}, x.dtype(), x.device());
  Tensor argmax = Tensor::empty({g.n, g.c, g.oh, g.ow}, DType::i64, x.device());
  kernels::max_pool2d_forward_kernels()(g, xc, y, argmax);
  return record(OpId::max_pool2d, y, {x}, [g, argmax, xs = x.shape(), dtype = x.dtype()](const Tensor& gy) {
    Tensor gx = Tensor::empty(xs, dtype);
    kernels::max_pool2d_backward_kernels()(g, gy.contiguous(), argmax, gx);
    return std::vector<Tensor>{gx};
  });
}

Tensor avg_pool2d(const Tensor& x, Pool2dOptions o) {
  Window2d g = pool_geometry(x, o, "avg_pool2d");
  Tensor y = Tensor::empty({g.n, g.c, g.oh, g.ow}, x.dtype(), x.device());
  kernels::avg_pool2d_forward_kernels()(g, x.contiguous(), y);
  return record(OpId::avg_pool2d, y, {x}, [g, xs = x.shape(), dtype = x.dtype()](const Tensor& gy) {
    Tensor gx = Tensor::empty(xs, dtype);
    kernels::avg_pool2d_backward_kernels()(g, gy.contiguous(), gx);
    return std::vector<Tensor>{gx};
  });
}

}  // namespace loom
