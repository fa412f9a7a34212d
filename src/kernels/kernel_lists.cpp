// The ordered kernel list of every family (NOTE [Kernel lists] in registry.h).
// Fastest entries first; the reference entry, last, accepts every CPU float case.
// A new backend or ISA adds its entry here, above the reference.
#include <cstdlib>

#include "cpu/conv_kernels.h"
#include "cpu/cpu_common.h"
#include "cpu/kernels_cpu.h"
#include "cpu/onednn_conv.h"
#include "cpu/simd_entries.h"

namespace loom::kernels {

using cpu::declines_unless_cpu_float;
using cpu::simd::Isa;

// The SIMD ISAs, best first: each family lists an entry per ISA above its reference.
constexpr Isa kSimdIsas[] = {Isa::avx512, Isa::avx2};

namespace {
// LOOM_GEMM=openblas makes the gemm list skip oneDNN (to compare the two).
const std::string& gemm_backend_override() {
  static const std::string value = [] {
    const char* env = std::getenv("LOOM_GEMM");
    std::string v = env ? env : "";
    LOOM_CHECK(v.empty() || v == "auto" || v == "onednn" || v == "openblas", "LOOM_GEMM='", v,
               "' is not a GEMM backend (expected auto, onednn or openblas)");
    return v;
  }();
  return value;
}
}  // namespace

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
    for (Isa isa : kSimdIsas)
      l.add(
          cpu::simd::isa_name(isa),
          [isa](UnaryOp op, const Tensor& s, const Tensor& d, double, double) {
            return cpu::simd::unary_declines(isa, op, s, d);
          },
          [isa](UnaryOp op, const Tensor& s, const Tensor& d, double a, double b) {
            cpu::simd::unary_run(isa, op, s, d, a, b);
          });
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
    for (Isa isa : kSimdIsas)
      l.add(
          cpu::simd::isa_name(isa),
          [isa](BinaryOp, const Tensor& a, const Tensor& b, const Tensor& d) {
            return cpu::simd::binary_declines(isa, a, b, d);
          },
          [isa](BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& d) {
            cpu::simd::binary_run(isa, op, a, b, d);
          });
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
    for (Isa isa : kSimdIsas)
      l.add(
          cpu::simd::isa_name(isa),
          [isa](ReduceOp op, const Tensor& s, const Tensor& d, int64_t, int64_t r, int64_t) {
            return cpu::simd::reduce_declines(isa, op, s, d, r);
          },
          [isa](ReduceOp op, const Tensor& s, const Tensor& d, int64_t outer, int64_t r, int64_t inner) {
            cpu::simd::reduce_run(isa, op, s, d, outer, r, inner);
          });
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
    // NOTE [oneDNN sgemm]: faster than OpenBLAS on the reference models' shapes,
    // except the panel shapes onednn_declines_shape() names. LOOM_GEMM=openblas
    // skips it (for comparisons).
    l.add(
        "onednn_sgemm",
        [float_cpu](const GemmArgs& g) -> std::string {
          if (std::string why = float_cpu(g); !why.empty())
            return why;
          if (g.dtype != DType::f32)
            return std::string("dtype ") + dtype_name(g.dtype) + " (oneDNN's sgemm is f32 only)";
          if (g.m == 0 || g.n == 0 || g.k == 0)
            return "empty GEMM";
          if (std::string why = cpu::onednn_declines_shape(g); !why.empty())
            return why;
          if (gemm_backend_override() == "openblas")
            return "LOOM_GEMM=openblas";
          return "";
        },
        cpu::gemm_onednn);
    l.add("openblas", float_cpu, cpu::gemm_openblas);
    l.add("cpu_reference", float_cpu, cpu::gemm_reference);
    return l;
  }();
  return list;
}

Conv2dForwardKernels& conv2d_forward_kernels() {
  static Conv2dForwardKernels list = [] {
    Conv2dForwardKernels l("conv2d_forward");
    l.add("onednn", cpu::conv2d_forward_onednn_declines, cpu::conv2d_forward_onednn);
    l.add("direct_small_c", cpu::conv2d_forward_small_declines, cpu::conv2d_forward_small);
    l.add(
        "im2col_split",
        [](const Window2d&, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y) {
          std::string why = declines_unless_cpu_float(x, w, b, y);
          return why.empty() ? cpu::conv2d_split_declines(x) : why;
        },
        cpu::conv2d_forward_split);
    l.add(
        "im2col_gemm",
        [](const Window2d&, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y) {
          return declines_unless_cpu_float(x, w, b, y);
        },
        cpu::conv2d_forward_im2col);
    l.add(
        "cpu_reference",
        [](const Window2d&, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y) {
          return declines_unless_cpu_float(x, w, b, y);
        },
        cpu::conv2d_forward_reference);
    return l;
  }();
  return list;
}

Conv2dBackwardInputKernels& conv2d_backward_input_kernels() {
  static Conv2dBackwardInputKernels list = [] {
    Conv2dBackwardInputKernels l("conv2d_backward_input");
    l.add("onednn", cpu::conv2d_backward_input_onednn_declines, cpu::conv2d_backward_input_onednn);
    l.add(
        "im2col_split",
        [](const Window2d&, const Tensor& gy, const Tensor& w, const Tensor& gx) {
          std::string why = declines_unless_cpu_float(gy, w, gx);
          return why.empty() ? cpu::conv2d_split_declines(gy) : why;
        },
        cpu::conv2d_backward_input_split);
    l.add(
        "col2im_gemm",
        [](const Window2d&, const Tensor& gy, const Tensor& w, const Tensor& gx) {
          return declines_unless_cpu_float(gy, w, gx);
        },
        cpu::conv2d_backward_input_col2im);
    l.add(
        "cpu_reference",
        [](const Window2d&, const Tensor& gy, const Tensor& w, const Tensor& gx) {
          return declines_unless_cpu_float(gy, w, gx);
        },
        cpu::conv2d_backward_input_reference);
    return l;
  }();
  return list;
}

Conv2dBackwardWeightKernels& conv2d_backward_weight_kernels() {
  static Conv2dBackwardWeightKernels list = [] {
    Conv2dBackwardWeightKernels l("conv2d_backward_weight");
    l.add("onednn", cpu::conv2d_backward_weight_onednn_declines, cpu::conv2d_backward_weight_onednn);
    l.add(
        "im2col_split",
        [](const Window2d&, const Tensor& x, const Tensor& gy, const Tensor& gw) {
          std::string why = declines_unless_cpu_float(x, gy, gw);
          return why.empty() ? cpu::conv2d_split_declines(x) : why;
        },
        cpu::conv2d_backward_weight_split);
    l.add(
        "im2col_gemm",
        [](const Window2d&, const Tensor& x, const Tensor& gy, const Tensor& gw) {
          return declines_unless_cpu_float(x, gy, gw);
        },
        cpu::conv2d_backward_weight_im2col);
    l.add(
        "cpu_reference",
        [](const Window2d&, const Tensor& x, const Tensor& gy, const Tensor& gw) {
          return declines_unless_cpu_float(x, gy, gw);
        },
        cpu::conv2d_backward_weight_reference);
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
    for (Isa isa : kSimdIsas)
      l.add(
          cpu::simd::isa_name(isa),
          [isa](const Tensor& s, const Tensor& d, bool) { return cpu::simd::softmax_declines(isa, s, d, Tensor()); },
          [isa](const Tensor& s, const Tensor& d, bool log) { cpu::simd::softmax_forward_run(isa, s, d, log); });
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
    for (Isa isa : kSimdIsas)
      l.add(
          cpu::simd::isa_name(isa),
          [isa](const Tensor& y, const Tensor& gy, const Tensor& gx, bool) {
            return cpu::simd::softmax_declines(isa, y, gy, gx);
          },
          [isa](const Tensor& y, const Tensor& gy, const Tensor& gx, bool log) {
            cpu::simd::softmax_backward_run(isa, y, gy, gx, log);
          });
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

BiasActKernels& bias_act_kernels() {
  static BiasActKernels list = [] {
    BiasActKernels l("bias_act");
    for (Isa isa : kSimdIsas)
      l.add(
          cpu::simd::isa_name(isa),
          [isa](Activation, const Tensor& b, const Tensor& y, const Tensor& pre) {
            return cpu::simd::bias_act_declines(isa, b, y, pre);
          },
          [isa](Activation act, const Tensor& b, const Tensor& y, const Tensor& pre) {
            cpu::simd::bias_act_run(isa, act, b, y, pre);
          });
    l.add(
        "cpu_reference",
        [](Activation, const Tensor& b, const Tensor& y, const Tensor& pre) {
          return declines_unless_cpu_float(y, b, pre);
        },
        cpu::bias_act_reference);
    return l;
  }();
  return list;
}

BiasActBackwardKernels& bias_act_backward_kernels() {
  static BiasActBackwardKernels list = [] {
    BiasActBackwardKernels l("bias_act_backward");
    for (Isa isa : kSimdIsas)
      l.add(
          cpu::simd::isa_name(isa),
          [isa](Activation, const Tensor& gy, const Tensor& saved, const Tensor& gz, const Tensor& gb) {
            return cpu::simd::bias_act_backward_declines(isa, gy, saved, gz, gb);
          },
          [isa](Activation act, const Tensor& gy, const Tensor& saved, const Tensor& gz, const Tensor& gb) {
            cpu::simd::bias_act_backward_run(isa, act, gy, saved, gz, gb);
          });
    l.add(
        "cpu_reference",
        [](Activation, const Tensor& gy, const Tensor& saved, const Tensor& gz, const Tensor& gb) {
          return declines_unless_cpu_float(gy, saved, gz, gb);
        },
        cpu::bias_act_backward_reference);
    return l;
  }();
  return list;
}

}  // namespace loom::kernels
