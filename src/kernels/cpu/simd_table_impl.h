#pragma once
// The table of one ISA's kernels, included by that ISA's file after it defines V
// (NOTE [ISA files] in simd_kernels.h).
#include "cpu/simd_attention_impl.h"
#include "cpu/simd_conv_impl.h"
#include "cpu/simd_impl.h"
#include "cpu/simd_layer_norm_impl.h"
#include "cpu/simd_pool_impl.h"

namespace loom::kernels::cpu::simd {
namespace {

Table make_table(const char* name) {
  return {name,
          unary,
          binary,
          reduce_run,
          reduce_cols,
          softmax_row,
          softmax_backward_row,
          bias_act,
          bias_act_backward,
          conv_small_forward,
          to_half,
          add_half,
          bytes_to_unit,
          adam_update,
          attention_forward,
          attention_backward,
          layer_norm_rows,
          layer_norm_backward_rows,
          max_pool_2x2};
}

}  // namespace
}  // namespace loom::kernels::cpu::simd
