// Builds every kernel list once, from every backend this build has (NOTE [Kernel
// lists] in loom/core/kernel_list.h), and hands out each family's list.
#include "kernel_lists.h"

namespace loom {
namespace kernels {

namespace {
// Never destroyed: kernels may run from static destructors.
KernelLists& kernel_lists() {
  static KernelLists* lists = [] {
    auto* l = new KernelLists;
    register_cpu_kernels(*l);
    register_meta_kernels(*l);
    return l;
  }();
  return *lists;
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

UnaryKernels& unary_kernels() { return kernel_lists().unary; }
BinaryKernels& binary_kernels() { return kernel_lists().binary; }
ReduceKernels& reduce_kernels() { return kernel_lists().reduce; }
GemmKernels& gemm_kernels() { return kernel_lists().gemm; }
Conv2dForwardKernels& conv2d_forward_kernels() { return kernel_lists().conv2d_forward; }
Conv2dBackwardInputKernels& conv2d_backward_input_kernels() { return kernel_lists().conv2d_backward_input; }
Conv2dBackwardWeightKernels& conv2d_backward_weight_kernels() { return kernel_lists().conv2d_backward_weight; }
MaxPoolForwardKernels& max_pool2d_forward_kernels() { return kernel_lists().max_pool2d_forward; }
MaxPoolBackwardKernels& max_pool2d_backward_kernels() { return kernel_lists().max_pool2d_backward; }
AvgPoolKernels& avg_pool2d_forward_kernels() { return kernel_lists().avg_pool2d_forward; }
AvgPoolKernels& avg_pool2d_backward_kernels() { return kernel_lists().avg_pool2d_backward; }
SoftmaxForwardKernels& softmax_forward_kernels() { return kernel_lists().softmax_forward; }
SoftmaxBackwardKernels& softmax_backward_kernels() { return kernel_lists().softmax_backward; }
NllForwardKernels& nll_loss_forward_kernels() { return kernel_lists().nll_loss_forward; }
NllBackwardKernels& nll_loss_backward_kernels() { return kernel_lists().nll_loss_backward; }
GatherKernels& index_select_rows_kernels() { return kernel_lists().index_select_rows; }
ScatterKernels& index_add_rows_kernels() { return kernel_lists().index_add_rows; }
LayerNormForwardKernels& layer_norm_forward_kernels() { return kernel_lists().layer_norm_forward; }
LayerNormBackwardKernels& layer_norm_backward_kernels() { return kernel_lists().layer_norm_backward; }
AttentionForwardKernels& attention_forward_kernels() { return kernel_lists().attention_forward; }
AttentionBackwardKernels& attention_backward_kernels() { return kernel_lists().attention_backward; }
BiasActKernels& bias_act_kernels() { return kernel_lists().bias_act; }
BiasActBackwardKernels& bias_act_backward_kernels() { return kernel_lists().bias_act_backward; }
QuantizeKernels& quantize_kernels() { return kernel_lists().quantize; }
DequantizeKernels& dequantize_kernels() { return kernel_lists().dequantize; }
SgdUpdateKernels& sgd_update_kernels() { return kernel_lists().sgd_update; }
AdamUpdateKernels& adam_update_kernels() { return kernel_lists().adam_update; }
RmspropUpdateKernels& rmsprop_update_kernels() { return kernel_lists().rmsprop_update; }

}  // namespace kernels

// core's families (declared in loom/core/tensor_kernels.h)
CopyKernels& copy_kernels() { return kernels::kernel_lists().copy; }
CastKernels& cast_kernels() { return kernels::kernel_lists().cast; }
FillKernels& fill_kernels() { return kernels::kernel_lists().fill; }
RandomFillKernels& random_fill_kernels() { return kernels::kernel_lists().random_fill; }

}  // namespace loom
