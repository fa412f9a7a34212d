// Module bookkeeping: names, state_dict, train/eval, zero_grad and the parameter arena.
#include <gtest/gtest.h>

#include "../support/test_support.h"  // tests/ is on the include path, not tests/support/
#include "loom/autograd.h"
#include "loom/nn.h"

namespace loom::nn {
namespace {

std::vector<std::string> names(const NamedTensors& tensors) {
  std::vector<std::string> out;
  for (const auto& [name, t] : tensors)
    out.push_back(name);
  return out;
}

std::shared_ptr<Sequential> mlp(Generator& gen) {
  return std::make_shared<Sequential>(std::make_shared<Linear>(4, 3, true, gen), std::make_shared<ReLU>(),
                                      std::make_shared<Linear>(3, 2, true, gen));
}

// Expects `fn` to throw a loom::Error whose message contains every one of `parts`.
template <typename Fn>
void expect_error_mentions(Fn fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    for (const std::string& part : parts)
      EXPECT_NE(e.message().find(part), std::string::npos) << e.message();
  }
}

TEST(Module, SequentialNamesMatchPyTorch) {
  Generator gen(1);
  auto model = mlp(gen);
  EXPECT_EQ(names(model->named_parameters()), (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
  EXPECT_EQ(model->num_parameters(), 4 * 3 + 3 + 3 * 2 + 2);
  for (const Tensor& p : model->parameters())
    EXPECT_TRUE(p.requires_grad());
  EXPECT_EQ(model->size(), 3u);
  EXPECT_THROW((*model)[3], IndexError);
}

TEST(Module, StateDictOrdersParametersThenBuffersPerModule) {
  Sequential model;
  model.add(std::make_shared<Linear>(2, 3)).add(std::make_shared<BatchNorm1d>(3)).add(std::make_shared<ReLU>());
  model.add(std::make_shared<Linear>(3, 1, false));
  EXPECT_EQ(names(model.state_dict()),
            (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                                      "1.num_batches_tracked", "3.weight"}));
  EXPECT_EQ(names(model.named_buffers()),
            (std::vector<std::string>{"1.running_mean", "1.running_var", "1.num_batches_tracked"}));
}

TEST(Module, ReprPrintsTheTree) {
  Generator gen(1);
  auto model = mlp(gen);
  EXPECT_EQ(
      model->repr(),
      "Sequential(\n  (0): Linear(in=4, out=3, bias=true)\n  (1): ReLU()\n  (2): Linear(in=3, out=2, bias=true)\n)");
}

TEST(Module, StateDictRoundTripCopiesValuesIntoExistingTensors) {
  Generator gen_a(1), gen_b(2);
  auto a = mlp(gen_a);
  auto b = mlp(gen_b);
  const Tensor b_weight = b->named_parameters()[0].second;
  const void* b_weight_data = b_weight.raw_data();
  ASSERT_GT(testing::max_abs_diff(a->parameters()[0], b_weight), 0.0);

  NamedTensors saved;
  for (const auto& [name, t] : a->state_dict())
    saved.emplace_back(name, t.clone());
  b->load_state_dict(saved);
  EXPECT_EQ(b_weight.raw_data(), b_weight_data) << "load_state_dict must copy, not rebind";
  const NamedTensors sa = a->state_dict(), sb = b->state_dict();
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i)
    EXPECT_EQ(testing::max_abs_diff(sa[i].second, sb[i].second), 0.0);

  Tensor x = Generator(3).uniform_tensor({5, 4}, -1, 1);
  EXPECT_EQ(testing::max_abs_diff((*a)(x), (*b)(x)), 0.0);
}

TEST(Module, LoadStateDictReportsMissingUnexpectedAndShapeMismatch) {
  Generator gen(1);
  auto model = mlp(gen);
  NamedTensors state = model->state_dict();

  NamedTensors missing(state.begin() + 1, state.end());
  expect_error_mentions([&] { model->load_state_dict(missing); }, {"missing", "0.weight", "[3, 4]"});
  EXPECT_NO_THROW(model->load_state_dict(missing, /*strict=*/false));

  NamedTensors extra = state;
  extra.emplace_back("5.weight", Tensor::zeros({2}));
  expect_error_mentions([&] { model->load_state_dict(extra); }, {"unexpected", "5.weight"});
  EXPECT_NO_THROW(model->load_state_dict(extra, /*strict=*/false));

  NamedTensors wrong = state;
  wrong[2].second = Tensor::zeros({2, 5});
  const Tensor before = model->named_parameters()[0].second.clone();
  NamedTensors wrong_and_changed = wrong;
  wrong_and_changed[0].second = Tensor::full({3, 4}, 7.0);
  expect_error_mentions([&] { model->load_state_dict(wrong_and_changed, /*strict=*/false); },
                        {"2.weight", "[2, 5]", "[2, 3]"});
  // Nothing is copied when any check fails.
  EXPECT_EQ(testing::max_abs_diff(model->named_parameters()[0].second, before), 0.0);
}

TEST(Module, TrainAndEvalReachEveryChild) {
  Sequential model;
  model.add(std::make_shared<Linear>(4, 4)).add(std::make_shared<Dropout>(0.5));
  auto inner = std::make_shared<Sequential>(std::make_shared<BatchNorm1d>(4));
  model.add(inner);
  EXPECT_TRUE(inner->is_training());
  model.eval();
  EXPECT_FALSE(model.is_training());
  EXPECT_FALSE((*inner)[0]->is_training());
  model.train();
  EXPECT_TRUE((*inner)[0]->is_training());
}

TEST(Module, ZeroGradZeroesInPlace) {
  Generator gen(1);
  auto model = mlp(gen);
  sum((*model)(Tensor::ones({2, 4}))).backward();
  const Tensor g = model->parameters()[0].grad();
  ASSERT_TRUE(g.defined());
  model->zero_grad();
  EXPECT_TRUE(model->parameters()[0].grad().is_same(g));
  EXPECT_EQ(testing::max_abs_diff(g, Tensor::zeros(g.shape())), 0.0);
}

TEST(Module, PackParametersMakesViewsIntoOneArena) {
  Generator gen(1);
  auto model = mlp(gen);
  auto first = std::dynamic_pointer_cast<Linear>((*model)[0]);
  NamedTensors before;
  for (const auto& [name, p] : model->named_parameters())
    before.emplace_back(name, p.clone());
  Tensor x = Generator(5).uniform_tensor({3, 4}, -1, 1);
  const Tensor y_before = (*model)(x);
  sum(y_before).backward();  // a gradient from before packing is carried over
  const Tensor grad_before = first->weight().grad().clone();

  model->pack_parameters();
  const Tensor arena = model->parameter_arena(), grads = model->gradient_arena();
  ASSERT_TRUE(arena.defined() && grads.defined());
  EXPECT_EQ(arena.numel(), model->num_parameters());
  const float* lo = arena.data<float>();
  const float* glo = grads.data<float>();
  int64_t expected_offset = 0;
  const NamedTensors after = model->named_parameters();
  for (size_t i = 0; i < after.size(); ++i) {
    const Tensor& p = after[i].second;
    EXPECT_EQ(p.data<float>(), lo + expected_offset) << after[i].first;
    EXPECT_EQ(p.grad().data<float>(), glo + expected_offset) << after[i].first;
    EXPECT_EQ(testing::max_abs_diff(p, before[i].second), 0.0) << after[i].first;
    expected_offset += p.numel();
  }
  // The layer's own member sees the move (same TensorImpl).
  EXPECT_EQ(first->weight().data<float>(), lo);
  EXPECT_EQ(testing::max_abs_diff(first->weight().grad(), grad_before), 0.0);
  EXPECT_EQ(testing::max_abs_diff((*model)(x), y_before), 0.0);

  // Writing the arena changes the parameters; backward accumulates into the arena.
  model->zero_grad();
  sum((*model)(x)).backward();  // writes the marked-zero gradients (NOTE [Lazy zero gradient])
  EXPECT_TRUE(first->weight().grad().storage().data() == grads.storage().data());
  EXPECT_EQ(testing::max_abs_diff(first->weight().grad(), grad_before), 0.0);
  model->zero_grad();  // read through the accessor, the arena is zeros
  EXPECT_EQ(testing::max_abs_diff(model->gradient_arena(), Tensor::zeros(grads.shape())), 0.0);
  EXPECT_EQ(testing::max_abs_diff(grads, Tensor::zeros(grads.shape())), 0.0);
  arena.fill_(0.5);
  EXPECT_FLOAT_EQ(first->bias().to_vector<float>()[2], 0.5f);

  // A gradient dropped by the user is bound back into the arena by zero_grad.
  first->weight().impl()->grad.reset();
  model->zero_grad();
  EXPECT_EQ(first->weight().grad().data<float>(), glo);
}

TEST(Module, PackedModelTrainsExactlyLikeAnUnpackedOne) {
  Generator gen_a(4), gen_b(4);
  auto packed = mlp(gen_a);
  auto plain = mlp(gen_b);
  packed->pack_parameters();
  Tensor x = Generator(6).uniform_tensor({8, 4}, -1, 1);
  Tensor target = Generator(7).uniform_tensor({8, 2}, -1, 1);
  double first_loss = 0, last_loss = 0;
  for (int step = 0; step < 100; ++step) {
    packed->zero_grad();
    plain->zero_grad();
    Tensor loss = mse_loss((*packed)(x), target);
    Tensor plain_loss = mse_loss((*plain)(x), target);
    loss.backward();
    plain_loss.backward();
    ASSERT_NEAR(loss.item_double(), plain_loss.item_double(), 1e-6) << "step " << step;
    if (step == 0)
      first_loss = loss.item_double();
    last_loss = loss.item_double();
    Tensor arena = packed->parameter_arena();
    add_(arena, packed->gradient_arena(), -0.2);  // plain SGD over the whole arena at once
    for (Tensor p : plain->parameters())
      add_(p, p.grad(), -0.2);
  }
  EXPECT_LT(last_loss, 0.8 * first_loss);
}

TEST(Module, RegisteringADuplicateNameIsAnError) {
  struct Twice : Module {
    Twice() {
      register_parameter("w", Tensor::zeros({1}));
      register_parameter("w", Tensor::zeros({1}));
    }
    Tensor forward(const Tensor& x) override { return x; }
    std::string describe() const override { return "Twice()"; }
  };
  expect_error_mentions([] { Twice t; }, {"\"w\"", "already registered"});
}

TEST(Module, TiedParameterIsListedOnce) {
  struct Tied : Module {
    explicit Tied(const Tensor& shared) {
      register_parameter("a", shared);
      register_parameter("b", shared);
    }
    Tensor forward(const Tensor& x) override { return x; }
    std::string describe() const override { return "Tied()"; }
  };
  Tied t(Tensor::zeros({3}));
  EXPECT_EQ(names(t.named_parameters()), (std::vector<std::string>{"a"}));
  EXPECT_EQ(names(t.state_dict()), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(t.num_parameters(), 3);
}

}  // namespace
}  // namespace loom::nn
