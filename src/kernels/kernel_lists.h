#pragma once
// Every kernel family's list, one object per family (NOTE [Kernel lists]). Each
// backend adds its entries, for its device type, from its own files; the lists are
// built once, on first use, by calling every backend this build has.
#include "loom/core/tensor_kernels.h"
#include "loom/kernels/attention.h"
#include "loom/kernels/elementwise.h"
#include "loom/kernels/fused.h"
#include "loom/kernels/gemm.h"
#include "loom/kernels/nn_kernels.h"
#include "loom/kernels/optimizer_updates.h"
#include "loom/kernels/quantize.h"
#include "loom/kernels/reduce.h"

namespace loom::kernels {

struct KernelLists {
  // core's tensor operations (loom/core/tensor_kernels.h)
  CopyKernels copy{"copy"};
  CastKernels cast{"cast"};
  FillKernels fill{"fill"};
  RandomFillKernels random_fill{"random_fill"};
  // ops
  UnaryKernels unary{"unary"};
  BinaryKernels binary{"binary"};
  ReduceKernels reduce{"reduce"};
  GemmKernels gemm{"gemm"};
  Conv2dForwardKernels conv2d_forward{"conv2d_forward"};
  Conv2dBackwardInputKernels conv2d_backward_input{"conv2d_backward_input"};
  Conv2dBackwardWeightKernels conv2d_backward_weight{"conv2d_backward_weight"};
  MaxPoolForwardKernels max_pool2d_forward{"max_pool2d_forward"};
  MaxPoolBackwardKernels max_pool2d_backward{"max_pool2d_backward"};
  AvgPoolKernels avg_pool2d_forward{"avg_pool2d_forward"};
  AvgPoolKernels avg_pool2d_backward{"avg_pool2d_backward"};
  SoftmaxForwardKernels softmax_forward{"softmax_forward"};
  SoftmaxBackwardKernels softmax_backward{"softmax_backward"};
  NllForwardKernels nll_loss_forward{"nll_loss_forward"};
  NllBackwardKernels nll_loss_backward{"nll_loss_backward"};
  GatherKernels index_select_rows{"index_select_rows"};
  ScatterKernels index_add_rows{"index_add_rows"};
  AttentionForwardKernels attention_forward{"attention_forward"};
  AttentionBackwardKernels attention_backward{"attention_backward"};
  LayerNormForwardKernels layer_norm_forward{"layer_norm_forward"};
  LayerNormBackwardKernels layer_norm_backward{"layer_norm_backward"};
  BiasActKernels bias_act{"bias_act"};
  BiasActBackwardKernels bias_act_backward{"bias_act_backward"};
  QuantizeKernels quantize{"quantize"};
  DequantizeKernels dequantize{"dequantize"};
  // optimizer updates
  SgdUpdateKernels sgd_update{"sgd_update"};
  AdamUpdateKernels adam_update{"adam_update"};
  RmspropUpdateKernels rmsprop_update{"rmsprop_update"};
};

// The backends, each in its own directory. A new device adds its function here
// and a call in kernel_lists.cpp.
void register_cpu_kernels(KernelLists& lists);   // src/kernels/cpu/cpu_kernel_lists.cpp
void register_meta_kernels(KernelLists& lists);  // src/kernels/meta/meta_kernels.cpp

}  // namespace loom::kernels
