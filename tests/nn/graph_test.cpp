// Graph models: DAGs of modules over named values, their compiled programs and
// the fusion passes over them (NOTE [Graph programs], NOTE [Fusion passes]).
#include <gtest/gtest.h>

#include <cmath>

#include "../support/test_support.h"
#include "loom/autograd.h"
#include "loom/nn.h"

namespace loom::nn {
namespace {

using loom::testing::error_message;

std::vector<std::string> step_kinds(const Program& p) {
  std::vector<std::string> kinds;
  for (const ProgramStep& s : p.steps)
    kinds.push_back(s.kind);
  return kinds;
}

// A residual block: the skip connection reads the block's input.
std::shared_ptr<Graph> residual_block(Generator& gen) {
  auto g = std::make_shared<Graph>();
  g->add_node("fc1", std::make_shared<Linear>(6, 6, true, gen))
      .add_node("act", std::make_shared<ReLU>())
      .add_node("fc2", std::make_shared<Linear>(6, 6, true, gen))
      .add_node("sum", std::make_shared<Add>(), {"fc2", "input"})
      .add_node("out", std::make_shared<Tanh>());
  return g;
}

TEST(Graph, ResidualBlockEqualsItsOpsWrittenOut) {
  Generator gen(3);
  auto g = residual_block(gen);
  Tensor x = Generator(4).normal_tensor({5, 6}, 0, 1);
  auto fc1 = std::dynamic_pointer_cast<Linear>(g->children()[0].second);
  auto fc2 = std::dynamic_pointer_cast<Linear>(g->children()[2].second);
  Tensor want = loom::tanh(add(linear(relu(linear(x, fc1->weight(), fc1->bias())), fc2->weight(), fc2->bias()), x));
  EXPECT_LT(testing::max_abs_diff(g->forward(x), want), 1e-6);
  EXPECT_EQ(g->named_parameters().front().first, "fc1.weight");
  EXPECT_EQ(g->output_names(), std::vector<std::string>{"out"});
}

// The passes fuse Linear+ReLU in the block, and the fused program gives the
// plain one's outputs and gradients.
TEST(Graph, FusedProgramMatchesThePlainOne) {
  Generator gen(8);
  auto g = residual_block(gen);
  EXPECT_EQ(step_kinds(g->program()), (std::vector<std::string>{"linear_act", "call", "call", "call"}));
  Tensor x0 = Generator(9).normal_tensor({7, 6}, 0, 1);
  auto run = [&](bool fusion) {
    g->set_fusion(fusion);
    g->zero_grad();
    Tensor x = x0.detach().set_requires_grad(true);
    Tensor y = g->forward(x);
    sum(mul(y, Generator(10).normal_tensor(y.shape(), 0, 1))).backward();
    std::vector<std::vector<float>> out = {y.to_vector<float>(), x.grad().to_vector<float>()};
    for (const auto& [name, p] : g->named_parameters())
      out.push_back(p.grad().to_vector<float>());
    return out;
  };
  auto fused = run(true), plain = run(false);
  EXPECT_EQ(step_kinds(g->program()).size(), 5u);  // fusion off: one step a node
  for (size_t i = 0; i < fused.size(); ++i) {
    ASSERT_EQ(fused[i].size(), plain[i].size());
    for (size_t k = 0; k < fused[i].size(); ++k)
      EXPECT_NEAR(fused[i][k], plain[i][k], 1e-5 + 1e-5 * std::abs(plain[i][k])) << "tensor " << i << " at " << k;
  }
}

// A value read twice (or returned) is not fused away: the ReLU's input is also
// an output here, so the Linear runs alone.
TEST(Graph, AValueReadElsewhereIsNotFused) {
  Generator gen(1);
  auto g = std::make_shared<Graph>();
  g->add_node("fc", std::make_shared<Linear>(3, 3, true, gen))
      .add_node("act", std::make_shared<ReLU>())
      .set_outputs({"act", "fc"});
  EXPECT_EQ(step_kinds(g->program()), (std::vector<std::string>{"call", "call"}));
  Tensor x = Generator(2).normal_tensor({2, 3}, 0, 1);
  auto outs = g->forward_all({x});
  ASSERT_EQ(outs.size(), 2u);
  EXPECT_EQ(testing::max_abs_diff(outs[0], relu(outs[1])), 0.0);
  EXPECT_NE(error_message([&] { g->forward(x); }).find("2 outputs"), std::string::npos);

  auto conv_graph = std::make_shared<Graph>();
  conv_graph->add_node("conv", std::make_shared<Conv2d>(1, 2, 3, 1, 1, true, gen))
      .add_node("act", std::make_shared<ReLU>())
      .add_node("pool", std::make_shared<MaxPool2d>(2))
      .add_node("skip", std::make_shared<MaxPool2d>(2), {"conv"})
      .add_node("sum", std::make_shared<Add>(), {"pool", "skip"});
  // conv is read twice, so only ReLU+pool is rewritten.
  EXPECT_EQ(step_kinds(conv_graph->program()), (std::vector<std::string>{"call", "max_pool2d_relu", "call", "call"}));
}

TEST(Graph, TwoInputsAndConcat) {
  Generator gen(5);
  auto g = std::make_shared<Graph>();
  g->add_input("image").add_input("extra");
  g->add_node("flat", std::make_shared<Flatten>(), {"image"})
      .add_node("joined", std::make_shared<Concat>(1), {"flat", "extra"})
      .add_node("head", std::make_shared<Linear>(12, 2, true, gen));
  Tensor image = Generator(6).normal_tensor({3, 1, 3, 3}, 0, 1);
  Tensor extra = Generator(7).normal_tensor({3, 3}, 0, 1);
  Tensor y = g->forward_inputs({image, extra});
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  auto head = std::dynamic_pointer_cast<Linear>(g->children()[2].second);
  Tensor want = linear(concat({flatten(image), extra}, 1), head->weight(), head->bias());
  EXPECT_LT(testing::max_abs_diff(y, want), 1e-6);
  EXPECT_NE(error_message([&] { g->forward(image); }).find("takes 2 input(s) but was given 1"), std::string::npos);
}

TEST(Graph, BadStructureIsAClearError) {
  Graph g;
  g.add_node("a", std::make_shared<ReLU>());
  EXPECT_NE(error_message([&] {
              g.add_node("b", std::make_shared<ReLU>(), {"later"});
            }).find("reads \"later\", which is neither an input nor an earlier node"),
            std::string::npos);
  EXPECT_NE(error_message([&] { g.add_node("a", std::make_shared<ReLU>()); }).find("already an input or a node"),
            std::string::npos);
  EXPECT_NE(error_message([&] { g.add_input("x"); }).find("after the first node"), std::string::npos);
  EXPECT_NE(error_message([&] { g.set_outputs({"nope"}); }).find("\"nope\""), std::string::npos);
  Graph merge;
  merge.add_node("sum", std::make_shared<Add>());
  EXPECT_NE(error_message([&] { merge.forward(Tensor::ones({2})); }).find("two or more inputs"), std::string::npos);
}

// Sequential compiles to the same kind of program as a graph.
TEST(Graph, SequentialIsAChainGraph) {
  Generator gen(2);
  Sequential s{std::make_shared<Conv2d>(1, 4, 3, 1, 1, true, gen),
               std::make_shared<ReLU>(),
               std::make_shared<MaxPool2d>(2),
               std::make_shared<Flatten>(),
               std::make_shared<Linear>(16, 8, true, gen),
               std::make_shared<GELU>(),
               std::make_shared<Linear>(8, 2, true, gen)};
  EXPECT_EQ(step_kinds(s.program()), (std::vector<std::string>{"conv2d_max_pool2d", "call", "linear_act", "call"}));
  EXPECT_NE(s.program().str().find("conv2d_max_pool2d[0 Conv2d, 1 ReLU, 2 MaxPool2d](%input)"), std::string::npos)
      << s.program().str();
  EXPECT_EQ(Sequential{}.forward(Tensor::ones({2})).to_vector<float>(), (std::vector<float>{1, 1}));
}

}  // namespace
}  // namespace loom::nn
