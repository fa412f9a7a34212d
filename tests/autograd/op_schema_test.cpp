// The op registry's type-erased view, the dispatch path's checks, the meta
// device and the tracer (NOTE [Op schema], NOTE [Meta device], NOTE [Tracer]).
#include <gtest/gtest.h>

#include "loom/autograd.h"
#include "loom/autograd/op_schema.h"
#include "loom/autograd/tracer.h"
#include "support/test_support.h"

namespace loom {
namespace {

using autograd::AttrMap;
using autograd::OpId;
using autograd::TensorMeta;
using loom::testing::error_message;

TEST(OpSchema, EveryOpIsRegisteredUnderItsName) {
  for (size_t i = 0; i < autograd::kNumOps; ++i) {
    const auto& schema = autograd::op_schema(static_cast<OpId>(i));
    EXPECT_EQ(static_cast<size_t>(schema.id), i);
    EXPECT_STREQ(schema.name, autograd::kOpNames[i]);
    EXPECT_GE(schema.min_inputs, 1) << schema.name;
    EXPECT_TRUE(schema.max_inputs < 0 || schema.max_inputs >= schema.min_inputs) << schema.name;
    EXPECT_NE(std::string(schema.kernels), "") << schema.name;
  }
  EXPECT_FALSE(autograd::op_from_name("no_such_op"));
}

TEST(OpSchema, DefaultAttributesNameEveryField) {
  AttrMap conv = autograd::op_schema(OpId::conv2d).default_attrs();
  EXPECT_EQ(conv.str(), "stride_h=1, stride_w=1, pad_h=0, pad_w=0");
  EXPECT_TRUE(autograd::op_schema(OpId::add).default_attrs().items().empty());
}

TEST(OpSchema, ShapeRuleErrorsNameTheOp) {
  const TensorMeta x{{2, 3, 8, 8}, DType::f32}, w{{4, 2, 3, 3}, DType::f32};
  EXPECT_NE(error_message([&] {
              autograd::infer_meta(OpId::conv2d, {x, w});
            }).find("conv2d: input has 3 channels"),
            std::string::npos);
  const TensorMeta a{{2, 3}, DType::f32}, b{{4}, DType::f32};
  EXPECT_NE(error_message([&] { autograd::infer_meta(OpId::add, {a, b}); }).find("add"), std::string::npos);
  EXPECT_EQ(autograd::infer_meta(OpId::linear, {{{5, 3}, DType::f32}, {{7, 3}, DType::f32}}),
            (TensorMeta{{5, 7}, DType::f32}));
}

// A window larger than the padded input has no position, whatever the stride (the
// rule once let (4 - 5) / 2 + 1 == 1 through).
TEST(OpSchema, WindowLargerThanTheInputIsAnError) {
  const TensorMeta x{{1, 1, 4, 4}, DType::f32};
  AttrMap pool;
  pool.set("kernel_h", int64_t{5});
  pool.set("kernel_w", int64_t{5});
  EXPECT_NE(error_message([&] { autograd::infer_meta(OpId::max_pool2d, {x}, pool); }).find("does not fit"),
            std::string::npos);
  AttrMap stride;
  stride.set("stride_h", int64_t{2});
  stride.set("stride_w", int64_t{2});
  const TensorMeta w{{1, 1, 5, 5}, DType::f32};
  EXPECT_NE(error_message([&] {
              autograd::infer_meta(OpId::conv2d, {x, w}, stride);
            }).find("does not fit"),
            std::string::npos);
}

TEST(OpSchema, BadAttributesAndArityAreClearErrors) {
  Tensor x = Tensor::ones({1, 1, 4, 4}), w = Tensor::ones({1, 1, 3, 3});
  AttrMap typo;
  typo.set("strid", int64_t{2});
  EXPECT_NE(error_message([&] {
              autograd::run_op(OpId::conv2d, {x, w}, typo);
            }).find("conv2d: unknown attribute 'strid'"),
            std::string::npos);
  AttrMap wrong_type;
  wrong_type.set("stride_h", true);
  EXPECT_NE(error_message([&] {
              autograd::run_op(OpId::conv2d, {x, w}, wrong_type);
            }).find("attribute 'stride_h' must be an integer, got a boolean"),
            std::string::npos);
  EXPECT_NE(error_message([&] { autograd::run_op(OpId::add, {x}); }).find("add: takes 2 inputs, got 1"),
            std::string::npos);
  AttrMap act;
  act.set("activation", std::string("swish"));
  EXPECT_NE(error_message([&] {
              autograd::run_op(OpId::linear_act, {Tensor::ones({2, 3}), Tensor::ones({4, 3})}, act);
            }).find("unknown activation 'swish'"),
            std::string::npos);
}

TEST(OpSchema, NodesKeepTheirAttributes) {
  Tensor x = Tensor::ones({1, 1, 6, 6}).set_requires_grad(true);
  Tensor w = Tensor::ones({2, 1, 3, 3});
  Tensor y = conv2d(x, w, Tensor(), {.stride_h = 2, .stride_w = 1, .pad_h = 1, .pad_w = 0});
  ASSERT_TRUE(y.grad_fn());
  AttrMap attrs = autograd::node_attrs(*y.grad_fn());
  EXPECT_EQ(attrs.get_int("stride_h", "test"), 2);
  EXPECT_EQ(attrs.get_int("pad_w", "test"), 0);
  EXPECT_TRUE(autograd::node_attrs(*relu(x).grad_fn()).items().empty());
}

TEST(MetaDevice, OpsFollowShapesWithoutStorage) {
  Tensor x = Tensor::empty({64, 1, 28, 28}, DType::f32, Device::meta());
  Tensor w = Tensor::empty({32, 1, 3, 3}, DType::f32, Device::meta());
  Tensor y = conv2d_max_pool2d(x, w, Tensor(), {.pad_h = 1, .pad_w = 1}, {}, Activation::relu);
  EXPECT_TRUE(y.device().is_meta());
  EXPECT_EQ(y.shape(), (Shape{64, 32, 14, 14}));
  Tensor z = linear(flatten(y), Tensor::empty({10, 32 * 14 * 14}, DType::f32, Device::meta()));
  EXPECT_EQ(z.shape(), (Shape{64, 10}));
  EXPECT_EQ(z.storage().data(), nullptr);
  EXPECT_NE(error_message([&] { z.to_vector<float>(); }).find("meta device"), std::string::npos);
  // The shape rule's errors hold on meta too.
  Tensor bad = Tensor::empty({64, 3, 28, 28}, DType::f32, Device::meta());
  EXPECT_NE(error_message([&] { conv2d(bad, w); }).find("channels"), std::string::npos);
}

TEST(MetaDevice, MixingDevicesNamesBoth) {
  Tensor cpu = Tensor::ones({2, 3});
  Tensor meta = Tensor::empty({2, 3}, DType::f32, Device::meta());
  EXPECT_NE(error_message([&] { add(cpu, meta); }).find("add: input 1 is on meta but input 0 is on cpu"),
            std::string::npos);
}

TEST(Tracer, SeesOutermostCallsOnly) {
  Tensor x = Tensor::ones({2, 3, 4});
  autograd::TraceScope trace;
  Tensor y = layer_norm(flatten(x, 1), 1);  // flatten calls reshape; layer_norm calls mean, sub, ...
  ASSERT_EQ(trace.calls().size(), 2u);
  EXPECT_EQ(trace.calls()[0].op, OpId::flatten);
  EXPECT_EQ(trace.calls()[1].op, OpId::layer_norm);
  EXPECT_TRUE(trace.calls()[1].inputs[0].is_same(trace.calls()[0].output));
  EXPECT_TRUE(trace.calls()[1].output.is_same(y));
  EXPECT_EQ(trace.calls()[1].attrs.get_int("normalized_axes", "test"), 1);
  EXPECT_NE(error_message([] { autograd::TraceScope second; }).find("already being recorded"), std::string::npos);
}

}  // namespace
}  // namespace loom
