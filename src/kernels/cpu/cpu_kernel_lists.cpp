// The CPU backend's entries in every kernel list (NOTE [Kernel lists] in
// loom/core/kernel_list.h): fastest first, the reference entry last, which accepts
// every CPU float case. A new ISA or CPU library adds its entry here, above the
// reference.
#include <cstdlib>

#include "kernel_lists.h"

#include "conv_kernels.h"
#include "cpu_backend.h"
#include "cpu_common.h"
#include "kernels_cpu.h"
#include "onednn_conv.h"
#include "simd_entries.h"

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

void register_cpu_kernels(KernelLists& lists) {
  register_cpu_tensor_kernels(lists);
  register_cpu_optimizer_updates(lists);
  register_cpu_quantize_kernels(lists);
  {
    auto& l = lists.unary;
    for (Isa isa : kSimdIsas)
      l.add(
          DeviceType::CPU, cpu::simd::isa_name(isa),
          [isa](UnaryOp op, const Tensor& s, const Tensor& d, double, double) {
            return cpu::simd::unary_declines(isa, op, s, d);
          },
          [isa](UnaryOp op, const Tensor& s, const Tensor& d, double a, double b) {
            cpu::simd::unary_run(isa, op, s, d, a, b);
          });
    l.add(
        DeviceType::CPU, "cpu_reference",
        [](UnaryOp, const Tensor& s, const Tensor& d, double, double) { return declines_unless_cpu_float(d, s); },
        cpu::unary_reference);
  }
  {
    auto& l = lists.binary;
    for (Isa isa : kSimdIsas)
      l.add(
          DeviceType::CPU, cpu::simd::isa_name(isa),
          [isa](BinaryOp, const Tensor& a, const Tensor& b, const Tensor& d) {
            return cpu::simd::binary_declines(isa, a, b, d);
          },
          [isa](BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& d) {
            cpu::simd::binary_run(isa, op, a, b, d);
          });
    l.add(
        DeviceType::CPU, "cpu_reference",
        [](BinaryOp, const Tensor& a, const Tensor& b, const Tensor& d) { return declines_unless_cpu_float(d, a, b); },
        cpu::binary_reference);
  }
  {
    auto& l = lists.reduce;
    for (Isa isa : kSimdIsas)
      l.add(
          DeviceType::CPU, cpu::simd::isa_name(isa),
          [isa](ReduceOp op, const Tensor& s, const Tensor& d, int64_t, int64_t r, int64_t) {
            return cpu::simd::reduce_declines(isa, op, s, d, r);
          },
          [isa](ReduceOp op, const Tensor& s, const Tensor& d, int64_t outer, int64_t r, int64_t inner) {
            cpu::simd::reduce_run(isa, op, s, d, outer, r, inner);
          });
    l.add(
        DeviceType::CPU, "cpu_reference",
        [](ReduceOp, const Tensor& s, const Tensor&, int64_t, int64_t, int64_t) {
          return declines_unless_cpu_float(s);
        },
        cpu::reduce_reference);
  }
  {
    auto& l = lists.gemm;
    auto float_cpu = [](const GemmArgs& g) -> std::string {
      if (!g.device.is_cpu())
        return "operands are on " + g.device.str();
      if (g.uniform_dtype() != DType::f32 && g.uniform_dtype() != DType::f64)
        return "dtypes " + g.dtypes_str();
      return "";
    };
    // NOTE [oneDNN sgemm]: faster than OpenBLAS on the reference models' shapes,
    // except the panel shapes onednn_declines_shape() names. LOOM_GEMM=openblas
    // skips it (for comparisons).
    l.add(
        DeviceType::CPU, "onednn_sgemm",
        [float_cpu](const GemmArgs& g) -> std::string {
          if (std::string why = float_cpu(g); !why.empty())
            return why;
          if (g.uniform_dtype() != DType::f32)
            return "dtypes " + g.dtypes_str() + " (oneDNN's sgemm is f32 only)";
          if (g.m == 0 || g.n == 0 || g.k == 0)
            return "empty GEMM";
          if (std::string why = cpu::onednn_declines_shape(g); !why.empty())
            return why;
          if (gemm_backend_override() == "openblas")
            return "LOOM_GEMM=openblas";
          return "";
        },
        cpu::gemm_onednn);
    l.add(DeviceType::CPU, "openblas", float_cpu, cpu::gemm_openblas);
    // NOTE [GEMM operand dtypes]: the low-precision references, until the fast entries.
    l.add(DeviceType::CPU, "cpu_reference_int8", cpu::gemm_int8_reference_declines, cpu::gemm_int8_reference);
    l.add(DeviceType::CPU, "cpu_reference_bf16", cpu::gemm_bf16_reference_declines, cpu::gemm_bf16_reference);
    l.add(DeviceType::CPU, "cpu_reference", float_cpu, cpu::gemm_reference);
  }
  {
    auto& l = lists.conv2d_forward;
    l.add(DeviceType::CPU, "onednn", cpu::conv2d_forward_onednn_declines, cpu::conv2d_forward_onednn);
    l.add(DeviceType::CPU, "direct_small_c", cpu::conv2d_forward_small_declines, cpu::conv2d_forward_small);
    l.add(
        DeviceType::CPU, "im2col_split",
        [](const Window2d&, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y) {
          std::string why = declines_unless_cpu_float(x, w, b, y);
          return why.empty() ? cpu::conv2d_split_declines(x) : why;
        },
        cpu::conv2d_forward_split);
    l.add(
        DeviceType::CPU, "im2col_gemm",
        [](const Window2d&, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y) {
          return declines_unless_cpu_float(x, w, b, y);
        },
        cpu::conv2d_forward_im2col);
    l.add(
        DeviceType::CPU, "cpu_reference",
        [](const Window2d&, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y) {
          return declines_unless_cpu_float(x, w, b, y);
        },
        cpu::conv2d_forward_reference);
  }
  {
    auto& l = lists.conv2d_backward_input;
    l.add(DeviceType::CPU, "onednn", cpu::conv2d_backward_input_onednn_declines, cpu::conv2d_backward_input_onednn);
    l.add(
        DeviceType::CPU, "im2col_split",
        [](const Window2d&, const Tensor& gy, const Tensor& w, const Tensor& gx) {
          std::string why = declines_unless_cpu_float(gy, w, gx);
          return why.empty() ? cpu::conv2d_split_declines(gy) : why;
        },
        cpu::conv2d_backward_input_split);
    l.add(
        DeviceType::CPU, "col2im_gemm",
        [](const Window2d&, const Tensor& gy, const Tensor& w, const Tensor& gx) {
          return declines_unless_cpu_float(gy, w, gx);
        },
        cpu::conv2d_backward_input_col2im);
    l.add(
        DeviceType::CPU, "cpu_reference",
        [](const Window2d&, const Tensor& gy, const Tensor& w, const Tensor& gx) {
          return declines_unless_cpu_float(gy, w, gx);
        },
        cpu::conv2d_backward_input_reference);
  }
  {
    auto& l = lists.conv2d_backward_weight;
    l.add(DeviceType::CPU, "onednn", cpu::conv2d_backward_weight_onednn_declines, cpu::conv2d_backward_weight_onednn);
    l.add(
        DeviceType::CPU, "im2col_split",
        [](const Window2d&, const Tensor& x, const Tensor& gy, const Tensor& gw) {
          std::string why = declines_unless_cpu_float(x, gy, gw);
          return why.empty() ? cpu::conv2d_split_declines(x) : why;
        },
        cpu::conv2d_backward_weight_split);
    l.add(
        DeviceType::CPU, "im2col_gemm",
        [](const Window2d&, const Tensor& x, const Tensor& gy, const Tensor& gw) {
          return declines_unless_cpu_float(x, gy, gw);
        },
        cpu::conv2d_backward_weight_im2col);
    l.add(
        DeviceType::CPU, "cpu_reference",
        [](const Window2d&, const Tensor& x, const Tensor& gy, const Tensor& gw) {
          return declines_unless_cpu_float(x, gy, gw);
        },
        cpu::conv2d_backward_weight_reference);
  }
  {
    auto& l = lists.max_pool2d_forward;
    for (Isa isa : kSimdIsas)
      l.add(
          DeviceType::CPU, cpu::simd::isa_name(isa),
          [isa](const Window2d& g, const Tensor& x, const Tensor& y, const Tensor&) {
            return cpu::simd::max_pool_declines(isa, g, x, y);
          },
          [isa](const Window2d& g, const Tensor& x, const Tensor& y, const Tensor& argmax) {
            cpu::simd::max_pool_forward_run(isa, g, x, y, argmax);
          });
    l.add(
        DeviceType::CPU, "cpu_reference",
        [](const Window2d&, const Tensor& x, const Tensor& y, const Tensor&) {
          return declines_unless_cpu_float(x, y);
        },
        cpu::max_pool2d_forward_reference);
  }
  {
    auto& l = lists.max_pool2d_backward;
    l.add(
        DeviceType::CPU, "cpu_reference",
        [](const Window2d&, const Tensor& gy, const Tensor&, const Tensor& gx) {
          return declines_unless_cpu_float(gy, gx);
        },
        cpu::max_pool2d_backward_reference);
  }
  {
    auto& l = lists.avg_pool2d_forward;
    l.add(
        DeviceType::CPU, "cpu_reference",
        [](const Window2d&, const Tensor& x, const Tensor& y) { return declines_unless_cpu_float(x, y); },
        cpu::avg_pool2d_forward_reference);
  }
  {
    auto& l = lists.avg_pool2d_backward;
    l.add(
        DeviceType::CPU, "cpu_reference",
        [](const Window2d&, const Tensor& gy, const Tensor& gx) { return declines_unless_cpu_float(gy, gx); },
        cpu::avg_pool2d_backward_reference);
  }
  {
    auto& l = lists.softmax_forward;
    for (Isa isa : kSimdIsas)
      l.add(
          DeviceType::CPU, cpu::simd::isa_name(isa),
          [isa](const Tensor& s, const Tensor& d, bool) { return cpu::simd::softmax_declines(isa, s, d, Tensor()); },
          [isa](const Tensor& s, const Tensor& d, bool log) { cpu::simd::softmax_forward_run(isa, s, d, log); });
    l.add(
        DeviceType::CPU, "cpu_reference",
        [](const Tensor& s, const Tensor& d, bool) { return declines_unless_cpu_float(s, d); },
        cpu::softmax_forward_reference);
  }
  {
    auto& l = lists.softmax_backward;
    for (Isa isa : kSimdIsas)
      l.add(
          DeviceType::CPU, cpu::simd::isa_name(isa),
          [isa](const Tensor& y, const Tensor& gy, const Tensor& gx, bool) {
            return cpu::simd::softmax_declines(isa, y, gy, gx);
          },
          [isa](const Tensor& y, const Tensor& gy, const Tensor& gx, bool log) {
            cpu::simd::softmax_backward_run(isa, y, gy, gx, log);
          });
    l.add(
        DeviceType::CPU, "cpu_reference",
        [](const Tensor& y, const Tensor& gy, const Tensor& gx, bool) { return declines_unless_cpu_float(y, gy, gx); },
        cpu::softmax_backward_reference);
  }
  {
    auto& l = lists.nll_loss_forward;
    l.add(
        DeviceType::CPU, "cpu_reference",
        [](const Tensor& lp, const Tensor&, const Tensor& loss) { return declines_unless_cpu_float(lp, loss); },
        cpu::nll_loss_forward_reference);
  }
  {
    auto& l = lists.nll_loss_backward;
    l.add(
        DeviceType::CPU, "cpu_reference",
        [](const Tensor&, const Tensor&, const Tensor& g) { return declines_unless_cpu_float(g); },
        cpu::nll_loss_backward_reference);
  }
  {
    auto& l = lists.index_select_rows;
    l.add(
        DeviceType::CPU, "cpu_reference",
        [](const Tensor& t, const Tensor&, const Tensor&) -> std::string {
          return t.device().is_cpu() ? "" : "tensor is on " + t.device().str();
        },
        cpu::index_select_rows_reference);
  }
  {
    auto& l = lists.index_add_rows;
    l.add(
        DeviceType::CPU, "cpu_reference",
        [](const Tensor& s, const Tensor&, const Tensor& d) { return declines_unless_cpu_float(s, d); },
        cpu::index_add_rows_reference);
  }
  {
    auto& l = lists.layer_norm_forward;
    for (Isa isa : kSimdIsas)
      l.add(
          DeviceType::CPU, cpu::simd::isa_name(isa),
          [isa](const Tensor& x, const Tensor& g, const Tensor& b, const Tensor&, const Tensor&, const Tensor&,
                double) { return cpu::simd::layer_norm_declines(isa, x, g, b); },
          [isa](const Tensor& x, const Tensor& g, const Tensor& b, const Tensor& y, const Tensor& m, const Tensor& r,
                double eps) { cpu::simd::layer_norm_forward_run(isa, x, g, b, y, m, r, eps); });
    l.add(
        DeviceType::CPU, "cpu_reference",
        [](const Tensor& x, const Tensor& g, const Tensor& b, const Tensor& y, const Tensor& m, const Tensor& r,
           double) { return declines_unless_cpu_float(x, g, b, y, m, r); },
        cpu::layer_norm_forward_reference);
  }
  {
    auto& l = lists.layer_norm_backward;
    for (Isa isa : kSimdIsas)
      l.add(
          DeviceType::CPU, cpu::simd::isa_name(isa),
          [isa](const LayerNormGrads& g) { return cpu::simd::layer_norm_declines(isa, g.x, g.gamma, g.dy); },
          [isa](const LayerNormGrads& g) { cpu::simd::layer_norm_backward_run(isa, g); });
    l.add(
        DeviceType::CPU, "cpu_reference",
        [](const LayerNormGrads& g) { return declines_unless_cpu_float(g.x, g.dy, g.gamma, g.dx, g.dgamma, g.dbeta); },
        cpu::layer_norm_backward_reference);
  }
  {
    auto& l = lists.attention_forward;
    for (Isa isa : kSimdIsas)
      l.add(
          DeviceType::CPU, cpu::simd::isa_name(isa),
          [isa](const AttentionShape&, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                const Tensor&, const Tensor&) { return cpu::simd::attention_declines(isa, q, k, v, mask); },
          [isa](const AttentionShape& a, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                const Tensor& out,
                const Tensor& lse) { cpu::simd::attention_forward_run(isa, a, q, k, v, mask, out, lse); });
    l.add(
        DeviceType::CPU, "cpu_reference",
        [](const AttentionShape&, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor&, const Tensor& out,
           const Tensor& lse) { return declines_unless_cpu_float(q, k, v, out, lse); },
        cpu::attention_forward_reference);
  }
  {
    auto& l = lists.attention_backward;
    for (Isa isa : kSimdIsas)
      l.add(
          DeviceType::CPU, cpu::simd::isa_name(isa),
          [isa](const AttentionShape&, const AttentionGrads& g) {
            return cpu::simd::attention_declines(isa, g.q, g.k, g.v, g.mask);
          },
          [isa](const AttentionShape& a, const AttentionGrads& g) { cpu::simd::attention_backward_run(isa, a, g); });
    l.add(
        DeviceType::CPU, "cpu_reference",
        [](const AttentionShape&, const AttentionGrads& g) {
          return declines_unless_cpu_float(g.q, g.k, g.v, g.grad_out, g.grad_q, g.grad_k, g.grad_v);
        },
        cpu::attention_backward_reference);
  }
  {
    auto& l = lists.bias_act;
    for (Isa isa : kSimdIsas)
      l.add(
          DeviceType::CPU, cpu::simd::isa_name(isa),
          [isa](Activation, const Tensor& b, const Tensor& y, const Tensor& pre) {
            return cpu::simd::bias_act_declines(isa, b, y, pre);
          },
          [isa](Activation act, const Tensor& b, const Tensor& y, const Tensor& pre) {
            cpu::simd::bias_act_run(isa, act, b, y, pre);
          });
    l.add(
        DeviceType::CPU, "cpu_reference",
        [](Activation, const Tensor& b, const Tensor& y, const Tensor& pre) {
          return declines_unless_cpu_float(y, b, pre);
        },
        cpu::bias_act_reference);
  }
  {
    auto& l = lists.bias_act_backward;
    for (Isa isa : kSimdIsas)
      l.add(
          DeviceType::CPU, cpu::simd::isa_name(isa),
          [isa](Activation, const Tensor& gy, const Tensor& saved, const Tensor& gz, const Tensor& gb) {
            return cpu::simd::bias_act_backward_declines(isa, gy, saved, gz, gb);
          },
          [isa](Activation act, const Tensor& gy, const Tensor& saved, const Tensor& gz, const Tensor& gb) {
            cpu::simd::bias_act_backward_run(isa, act, gy, saved, gz, gb);
          });
    l.add(
        DeviceType::CPU, "cpu_reference",
        [](Activation, const Tensor& gy, const Tensor& saved, const Tensor& gz, const Tensor& gb) {
          return declines_unless_cpu_float(gy, saved, gz, gb);
        },
        cpu::bias_act_backward_reference);
  }
}

}  // namespace loom::kernels
