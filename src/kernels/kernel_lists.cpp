// The ordered kernel list of every family (NOTE [Kernel lists] in registry.h).
// Fastest entries first; the reference entry, last, accepts every CPU float case.
// A new backend or ISA adds its entry here, above the reference.
#include "cpu/cpu_common.h"
#include "cpu/kernels_cpu.h"

namespace loom::kernels {

using cpu::declines_unless_cpu_float;

const char* unary_op_name(UnaryOp op) {
  static const char* const kNames[] = {"neg",  "relu",  "gelu", "tanh",   "sigmoid",    "exp",         "log",
                                       "sqrt", "rsqrt", "abs",  "square", "reciprocal", "scale_shift", "pow"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<size_t>(UnaryOp::kCount));
  return kNames[static_cast<size_t>(op)];
}

const char* binary_op_name(BinaryOp op) {
  static const char* const kNames[] = {"add",     "sub",           "mul",           "div",           "maximum",
                                       "minimum", "relu_backward", "gelu_backward", "tanh_backward", "sigmoid_backward",
                                       "greater", "equal"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<size_t>(BinaryOp::kCount));
  return kNames[static_cast<size_t>(op)];
}

UnaryKernels& unary_kernels() {
  static UnaryKernels list = [] {
    UnaryKernels l("unary");
    l.add(
        "cpu_reference",
        [](UnaryOp, const Tensor& s, const Tensor& d, double, double) { return declines_unless_cpu_float(d, s); },
        cpu::unary_reference);
    return l;
  }();
  return list;
}

BinaryKernels& binary_kernels() {
  static BinaryKernels list = [] {
    BinaryKernels l("binary");
    l.add(
        "cpu_reference",
        [](BinaryOp, const Tensor& a, const Tensor& b, const Tensor& d) { return declines_unless_cpu_float(d, a, b); },
        cpu::binary_reference);
    return l;
  }();
  return list;
}

ReduceKernels& reduce_kernels() {
  static ReduceKernels list = [] {
    ReduceKernels l("reduce");
    l.add(
        "cpu_reference",
        [](ReduceOp, const Tensor& s, const Tensor&, int64_t, int64_t, int64_t) {
          return declines_unless_cpu_float(s);
        },
        cpu::reduce_reference);
    return l;
  }();
  return list;
}

GemmKernels& gemm_kernels() {
  static GemmKernels list = [] {
    GemmKernels l("gemm");
    auto float_cpu = [](const GemmArgs& g) -> std::string {
      if (!g.device.is_cpu())
        return "operands are on " + g.device.str();
      if (g.dtype != DType::f32 && g.dtype != DType::f64)
        return std::string("dtype ") + dtype_name(g.dtype);
      return "";
    };
    l.add("openblas", float_cpu, cpu::gemm_openblas);
    l.add("cpu_reference", float_cpu, cpu::gemm_reference);
    return l;
  }();
  return list;
}

Conv2dForwardKernels& conv2d_forward_kernels() {
  static Conv2dForwardKernels list = [] {
    Conv2dForwardKernels l("conv2d_forward");
    l.add(
        "im2col_gemm",
        [](const Window2d&, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y) {
          return declines_unless_cpu_float(x, w, b, y);
        },
        cpu::conv2d_forward_im2col);
    return l;
  }();
  return list;
}

Conv2dBackwardInputKernels& conv2d_backward_input_kernels() {
  static Conv2dBackwardInputKernels list = [] {
    Conv2dBackwardInputKernels l("conv2d_backward_input");
    l.add(
        "col2im_gemm",
        [](const Window2d&, const Tensor& gy, const Tensor& w, const Tensor& gx) {
          return declines_unless_cpu_float(gy, w, gx);
        },
        cpu::conv2d_backward_input_col2im);
    return l;
  }();
  return list;
}

Conv2dBackwardWeightKernels& conv2d_backward_weight_kernels() {
  static Conv2dBackwardWeightKernels list = [] {
    Conv2dBackwardWeightKernels l("conv2d_backward_weight");
    l.add(
        "im2col_gemm",
        [](const Window2d&, const Tensor& x, const Tensor& gy, const Tensor& gw) {
          return declines_unless_cpu_float(x, gy, gw);
        },
        cpu::conv2d_backward_weight_im2col);
    return l;
  }();
  return list;
}

MaxPoolForwardKernels& max_pool2d_forward_kernels() {
  static MaxPoolForwardKernels list = [] {
    MaxPoolForwardKernels l("max_pool2d_forward");
    l.add(
        "cpu_reference",
        [](const Window2d&, const Tensor& x, const Tensor& y, const Tensor&) {
          return declines_unless_cpu_float(x, y);
        },
        cpu::max_pool2d_forward_reference);
    return l;
  }();
  return list;
}

MaxPoolBackwardKernels& max_pool2d_backward_kernels() {
  static MaxPoolBackwardKernels list = [] {
    MaxPoolBackwardKernels l("max_pool2d_backward");
    l.add(
        "cpu_reference",
        [](const Window2d&, const Tensor& gy, const Tensor&, const Tensor& gx) {
          return declines_unless_cpu_float(gy, gx);
        },
        cpu::max_pool2d_backward_reference);
    return l;
  }();
  return list;
}

AvgPoolKernels& avg_pool2d_forward_kernels() {
  static AvgPoolKernels list = [] {
    AvgPoolKernels l("avg_pool2d_forward");
    l.add(
        "cpu_reference",
        [](const Window2d&, const Tensor& x, const Tensor& y) { return declines_unless_cpu_float(x, y); },
        cpu::avg_pool2d_forward_reference);
    return l;
  }();
  return list;
}

AvgPoolKernels& avg_pool2d_backward_kernels() {
  static AvgPoolKernels list = [] {
    AvgPoolKernels l("avg_pool2d_backward");
    l.add(
        "cpu_reference",
        [](const Window2d&, const Tensor& gy, const Tensor& gx) { return declines_unless_cpu_float(gy, gx); },
        cpu::avg_pool2d_backward_reference);
    return l;
  }();
  return list;
}

SoftmaxForwardKernels& softmax_forward_kernels() {
  static SoftmaxForwardKernels list = [] {
    SoftmaxForwardKernels l("softmax_forward");
    l.add(
        "cpu_reference", [](const Tensor& s, const Tensor& d, bool) { return declines_unless_cpu_float(s, d); },
        cpu::softmax_forward_reference);
    return l;
  }();
  return list;
}

SoftmaxBackwardKernels& softmax_backward_kernels() {
  static SoftmaxBackwardKernels list = [] {
    SoftmaxBackwardKernels l("softmax_backward");
    l.add(
        "cpu_reference",
        [](const Tensor& y, const Tensor& gy, const Tensor& gx, bool) { return declines_unless_cpu_float(y, gy, gx); },
        cpu::softmax_backward_reference);
    return l;
  }();
  return list;
}

NllForwardKernels& nll_loss_forward_kernels() {
  static NllForwardKernels list = [] {
    NllForwardKernels l("nll_loss_forward");
    l.add(
        "cpu_reference",
        [](const Tensor& lp, const Tensor&, const Tensor& loss) { return declines_unless_cpu_float(lp, loss); },
        cpu::nll_loss_forward_reference);
    return l;
  }();
  return list;
}

NllBackwardKernels& nll_loss_backward_kernels() {
  static NllBackwardKernels list = [] {
    NllBackwardKernels l("nll_loss_backward");
    l.add(
        "cpu_reference", [](const Tensor&, const Tensor&, const Tensor& g) { return declines_unless_cpu_float(g); },
        cpu::nll_loss_backward_reference);
    return l;
  }();
  return list;
}

GatherKernels& index_select_rows_kernels() {
  static GatherKernels list = [] {
    GatherKernels l("index_select_rows");
    l.add(
        "cpu_reference",
        [](const Tensor& t, const Tensor&, const Tensor&) -> std::string {
          return t.device().is_cpu() ? "" : "tensor is on " + t.device().str();
        },
        cpu::index_select_rows_reference);
    return l;
  }();
  return list;
}

ScatterKernels& index_add_rows_kernels() {
  static ScatterKernels list = [] {
    ScatterKernels l("index_add_rows");
    l.add(
        "cpu_reference",
        [](const Tensor& s, const Tensor&, const Tensor& d) { return declines_unless_cpu_float(s, d); },
        cpu::index_add_rows_reference);
    return l;
  }();
  return list;
}

}  // namespace loom::kernels
