#pragma once
// NOTE [Op table]
// Every differentiable op has one entry here. The X-macro gives each an OpId and a
// name (used by autograd nodes, the profiler, graph files and error messages) and
// generates the schema registry's table (src/autograd/dispatch.cpp), so an op
// without LOOM_REGISTER_OP in its file fails to link; the gradient-check test
// walks this table and fails for any op without a finite-difference case (which
// also checks its schema), so an op cannot be half-added (NOTE [Op schema]).
#include <cstddef>

namespace loom::autograd {

// clang-format off
#define LOOM_DIFFERENTIABLE_OPS(X)                                                       \
  X(add) X(sub) X(mul) X(div) X(neg) X(add_scalar) X(mul_scalar) X(pow_scalar)           \
  X(maximum) X(matmul) X(linear) X(relu) X(gelu) X(tanh) X(sigmoid) X(exp) X(log)        \
  X(sqrt) X(abs) X(sum) X(mean) X(amax) X(softmax) X(log_softmax) X(nll_loss)            \
  X(cross_entropy) X(mse_loss) X(conv2d) X(max_pool2d) X(avg_pool2d) X(batch_norm)       \
  X(layer_norm) X(dropout) X(embedding) X(reshape) X(flatten) X(permute) X(transpose)    \
  X(slice) X(expand) X(squeeze) X(unsqueeze) X(contiguous) X(sum_to) X(concat)        \
  X(linear_act) X(conv2d_max_pool2d) X(scaled_dot_product_attention) \
  X(qkv_attention)
// Ops of the distributed layer (loom/distributed/collective_ops.h): they take a
// process group and register their schemas from there, at start-up of a program
// that links them (NOTE [Late-registered ops] in src/autograd/dispatch.h).
#define LOOM_COLLECTIVE_OPS(X) X(all_reduce) X(all_gather) X(reduce_scatter) X(send) X(recv)
// clang-format on
#define LOOM_ALL_OPS(X) LOOM_DIFFERENTIABLE_OPS(X) LOOM_COLLECTIVE_OPS(X)

enum class OpId : unsigned short {
#define LOOM_OP_ENUM(name) name,
  LOOM_ALL_OPS(LOOM_OP_ENUM)
#undef LOOM_OP_ENUM
      kCount
};

constexpr const char* kOpNames[] = {
#define LOOM_OP_NAME(name) #name,
    LOOM_ALL_OPS(LOOM_OP_NAME)
#undef LOOM_OP_NAME
};
static_assert(sizeof(kOpNames) / sizeof(kOpNames[0]) == static_cast<size_t>(OpId::kCount), "every op needs a name");
// Adding an op? Add its gradcheck case in tests/autograd/gradcheck_test.cpp, then this count.
static_assert(static_cast<size_t>(OpId::kCount) == 54, "update the op count with the new op's gradcheck case");

constexpr const char* op_name(OpId id) { return kOpNames[static_cast<size_t>(id)]; }
constexpr size_t kNumOps = static_cast<size_t>(OpId::kCount);
constexpr size_t kNumCollectiveOps = 0
#define LOOM_OP_COUNT(name) +1
    LOOM_COLLECTIVE_OPS(LOOM_OP_COUNT)
#undef LOOM_OP_COUNT
    ;
// Ops registered at link time by autograd itself come first; the collectives last.
constexpr size_t kNumAutogradOps = kNumOps - kNumCollectiveOps;

}  // namespace loom::autograd
