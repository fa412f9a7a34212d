// Each optimizer against torch.optim's update rule, written out in plain doubles here,
// on a small quadratic: loss = sum(a * p^2) / 2 + sum(c * p), so grad = a * p + c.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "../support/test_support.h"  // tests/ is on the include path, not tests/support/
#include "loom/autograd.h"
#include "loom/nn.h"
#include "loom/optim.h"

namespace loom::optim {
namespace {

// Two parameters ([3] and [2, 2]) so a packed model exercises the fused update.
class Quadratic : public nn::Module {
 public:
  explicit Quadratic(DType dtype) {
    p1_ = register_parameter("p1", Tensor::from_vector<double>({1.0, -2.0, 0.5}, {3}).to(dtype));
    p2_ = register_parameter("p2", Tensor::from_vector<double>({0.3, -0.7, 2.0, -1.5}, {2, 2}).to(dtype));
    a1_ = Tensor::from_vector<double>({1.0, 0.5, 2.0}, {3}).to(dtype);
    a2_ = Tensor::from_vector<double>({3.0, 0.2, 1.0, 0.8}, {2, 2}).to(dtype);
    c1_ = Tensor::from_vector<double>({0.1, 0.0, -0.3}, {3}).to(dtype);
    c2_ = Tensor::from_vector<double>({0.0, 0.4, 0.0, -0.2}, {2, 2}).to(dtype);
  }
  Tensor forward(const Tensor&) override {
    Tensor q = add(sum(mul(a1_, mul(p1_, p1_))), sum(mul(a2_, mul(p2_, p2_))));
    return add(mul_scalar(q, 0.5), add(sum(mul(c1_, p1_)), sum(mul(c2_, p2_))));
  }
  std::string describe() const override { return "Quadratic()"; }

  static std::vector<double> initial() { return {1.0, -2.0, 0.5, 0.3, -0.7, 2.0, -1.5}; }
  static std::vector<double> gradient(const std::vector<double>& p) {
    const std::vector<double> a{1.0, 0.5, 2.0, 3.0, 0.2, 1.0, 0.8}, c{0.1, 0.0, -0.3, 0.0, 0.4, 0.0, -0.2};
    std::vector<double> g(p.size());
    for (size_t i = 0; i < p.size(); ++i)
      g[i] = a[i] * p[i] + c[i];
    return g;
  }
  std::vector<double> values() const {
    std::vector<double> out = p1_.to_vector<double>();
    for (double v : p2_.to_vector<double>())
      out.push_back(v);
    return out;
  }

 private:
  Tensor p1_, p2_, a1_, a2_, c1_, c2_;
};

// ---- torch.optim's rules, element by element ------------------------------------------

using Reference = std::function<void(std::vector<double>& p, const std::vector<double>& g, int step)>;

Reference sgd_reference(const OptimizerOptions& o) {
  auto buf = std::make_shared<std::vector<double>>();
  return [o, buf](std::vector<double>& p, const std::vector<double>& g, int t) {
    if (buf->empty())
      buf->assign(p.size(), 0.0);
    const bool first = t == 1;  // every parameter has a gradient from the first step on
    for (size_t i = 0; i < p.size(); ++i) {
      double d = g[i] + o.weight_decay * p[i];
      if (o.momentum != 0) {
        (*buf)[i] = first ? d : o.momentum * (*buf)[i] + (1 - o.dampening) * d;
        d = o.nesterov ? d + o.momentum * (*buf)[i] : (*buf)[i];
      }
      p[i] -= o.lr * d;
    }
  };
}

Reference adam_reference(const OptimizerOptions& o, bool decoupled) {
  auto m = std::make_shared<std::vector<double>>(), v = std::make_shared<std::vector<double>>();
  return [o, decoupled, m, v](std::vector<double>& p, const std::vector<double>& grad, int t) {
    if (m->empty())
      m->assign(p.size(), 0.0), v->assign(p.size(), 0.0);
    for (size_t i = 0; i < p.size(); ++i) {
      double g = grad[i];
      if (decoupled) {
        p[i] *= 1 - o.lr * o.weight_decay;
      } else {
        g += o.weight_decay * p[i];
      }
      (*m)[i] = o.beta1 * (*m)[i] + (1 - o.beta1) * g;
      (*v)[i] = o.beta2 * (*v)[i] + (1 - o.beta2) * g * g;
      const double m_hat = (*m)[i] / (1 - std::pow(o.beta1, t));
      const double v_hat = (*v)[i] / (1 - std::pow(o.beta2, t));
      p[i] -= o.lr * m_hat / (std::sqrt(v_hat) + o.eps);
    }
  };
}

Reference rmsprop_reference(const OptimizerOptions& o) {
  auto sq = std::make_shared<std::vector<double>>(), buf = std::make_shared<std::vector<double>>();
  return [o, sq, buf](std::vector<double>& p, const std::vector<double>& grad, int) {
    if (sq->empty())
      sq->assign(p.size(), 0.0), buf->assign(p.size(), 0.0);
    for (size_t i = 0; i < p.size(); ++i) {
      const double g = grad[i] + o.weight_decay * p[i];
      (*sq)[i] = o.alpha * (*sq)[i] + (1 - o.alpha) * g * g;
      const double avg = std::sqrt((*sq)[i]) + o.eps;
      if (o.momentum > 0) {
        (*buf)[i] = o.momentum * (*buf)[i] + g / avg;
        p[i] -= o.lr * (*buf)[i];
      } else {
        p[i] -= o.lr * g / avg;
      }
    }
  };
}

void train(Quadratic& model, Optimizer& opt, int steps) {
  for (int s = 0; s < steps; ++s) {
    opt.zero_grad();
    model(Tensor()).backward();
    opt.step();
  }
}

// Runs `steps` updates of `name` on the quadratic, packed or not, in f64 or f32,
// and compares every parameter with the reference after each step.
void check_against_reference(const std::string& name, const OptimizerOptions& o, const Reference& reference,
                             bool packed, DType dtype = DType::f64) {
  SCOPED_TRACE(name + (packed ? " packed" : " unpacked") + " " + dtype_name(dtype));
  Quadratic model(dtype);
  if (packed)
    model.pack_parameters();
  auto opt = make_optimizer(name, model.parameters(), o);
  std::vector<double> p = Quadratic::initial();
  const double tolerance = dtype == DType::f64 ? 1e-12 : 2e-5;
  for (int t = 1; t <= 6; ++t) {
    train(model, *opt, 1);
    reference(p, Quadratic::gradient(p), t);
    const std::vector<double> got = model.values();
    for (size_t i = 0; i < p.size(); ++i)
      ASSERT_NEAR(got[i], p[i], tolerance) << "step " << t << " element " << i;
  }
  EXPECT_EQ(opt->steps(), 6);
}

struct Case {
  const char* label;
  const char* optimizer;
  std::function<void(OptimizerOptions&)> configure;
};

std::vector<Case> cases() {
  return {
      {"sgd", "sgd", [](OptimizerOptions& o) { o.lr = 0.1; }},
      {"sgd_momentum_dampening", "sgd", [](OptimizerOptions& o) { o.lr = 0.05, o.momentum = 0.9, o.dampening = 0.1; }},
      {"sgd_nesterov", "sgd", [](OptimizerOptions& o) { o.lr = 0.05, o.momentum = 0.9, o.nesterov = true; }},
      {"sgd_weight_decay", "sgd", [](OptimizerOptions& o) { o.lr = 0.1, o.momentum = 0.5, o.weight_decay = 0.05; }},
      {"adam", "adam", [](OptimizerOptions& o) { o.lr = 0.1; }},
      {"adam_l2", "adam", [](OptimizerOptions& o) { o.lr = 0.05, o.weight_decay = 0.1, o.beta1 = 0.8; }},
      {"adamw", "adamw", [](OptimizerOptions& o) { o.lr = 0.05, o.weight_decay = 0.1, o.beta2 = 0.99; }},
      {"rmsprop", "rmsprop", [](OptimizerOptions& o) { o.lr = 0.01; }},
      {"rmsprop_momentum_decay", "rmsprop",
       [](OptimizerOptions& o) { o.lr = 0.01, o.momentum = 0.9, o.weight_decay = 0.1, o.alpha = 0.9; }},
  };
}

Reference reference_for(const std::string& optimizer, const OptimizerOptions& o) {
  if (optimizer == "sgd")
    return sgd_reference(o);
  if (optimizer == "adam")
    return adam_reference(o, false);
  if (optimizer == "adamw")
    return adam_reference(o, true);
  return rmsprop_reference(o);
}

TEST(Optimizer, EveryRuleMatchesItsReferencePackedAndUnpacked) {
  for (const Case& c : cases()) {
    OptimizerOptions o;
    c.configure(o);
    for (bool packed : {false, true}) {
      SCOPED_TRACE(c.label);
      check_against_reference(c.optimizer, o, reference_for(c.optimizer, o), packed);
    }
  }
}

TEST(Optimizer, F32ParametersFollowTheReferenceToFloatPrecision) {
  for (const Case& c : cases()) {
    OptimizerOptions o;
    c.configure(o);
    SCOPED_TRACE(c.label);
    check_against_reference(c.optimizer, o, reference_for(c.optimizer, o), true, DType::f32);
  }
}

// Values worked out by hand, independent of the reference code above: p = 1 with
// grad = p, lr 0.1, momentum 0.9 gives buf 1, 1.8, 2.34 and p 0.9, 0.72, 0.486.
TEST(SGD, MomentumStepsWorkedByHand) {
  Tensor p = Tensor::ones({1}, DType::f64).set_requires_grad(true);
  OptimizerOptions o;
  o.lr = 0.1;
  o.momentum = 0.9;
  SGD opt({p}, o);
  for (double expected : {0.9, 0.72, 0.486}) {
    p.set_grad(p.clone());
    opt.step();
    EXPECT_NEAR(p.item<double>(), expected, 1e-15);
  }
}

// Adam's first step is lr * g / (|g| + eps) whatever the gradient's scale.
TEST(Adam, FirstStepIsLearningRateTimesSign) {
  Tensor p = Tensor::from_vector<double>({1.0, 1.0}, {2}).set_requires_grad(true);
  p.set_grad(Tensor::from_vector<double>({250.0, -0.004}, {2}));
  OptimizerOptions o;
  o.lr = 0.1;
  Adam opt({p}, o);
  opt.step();
  auto v = p.to_vector<double>();
  EXPECT_NEAR(v[0], 0.9, 1e-9);
  EXPECT_NEAR(v[1], 1.1, 1e-6);
}

TEST(Optimizer, ParametersWithoutGradientAreSkipped) {
  Tensor a = Tensor::ones({2}, DType::f64).set_requires_grad(true);
  Tensor b = Tensor::ones({2}, DType::f64).set_requires_grad(true);
  OptimizerOptions o;
  o.lr = 0.1;
  o.momentum = 0.9;
  o.weight_decay = 0.5;
  SGD opt({a, b}, o);
  a.set_grad(Tensor::ones({2}, DType::f64));
  opt.step();
  EXPECT_EQ(b.to_vector<double>(), (std::vector<double>{1.0, 1.0}));
  EXPECT_NEAR(a.to_vector<double>()[0], 1 - 0.1 * 1.5, 1e-15);
  // b's first gradient arrives at step 2: its momentum buffer starts from that gradient.
  b.set_grad(Tensor::ones({2}, DType::f64));
  opt.step();
  EXPECT_NEAR(b.to_vector<double>()[0], 1 - 0.1 * 1.5, 1e-15);
}

TEST(Optimizer, NonContiguousParameterIsUpdatedThroughItsView) {
  Tensor base = Tensor::zeros({2, 3}, DType::f64);
  Tensor p = base.as_strided({3, 2}, {1, 3}, 0);  // the transpose
  p.set_requires_grad(true);
  p.set_grad(Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {3, 2}));
  OptimizerOptions o;
  o.lr = 1.0;
  SGD opt({p}, o);
  opt.step();
  EXPECT_EQ(base.to_vector<double>(), (std::vector<double>{-1, -3, -5, -2, -4, -6}));
}

TEST(Optimizer, ZeroGradKeepsGradientBuffers) {
  Quadratic model(DType::f32);
  auto opt = make_optimizer("adam", model.parameters(), {});
  model(Tensor()).backward();
  const Tensor g = model.parameters()[1].grad();
  opt->zero_grad();
  EXPECT_TRUE(model.parameters()[1].grad().is_same(g));
  EXPECT_EQ(testing::max_abs_diff(g, Tensor::zeros(g.shape())), 0.0);
}

// Resuming from a state_dict continues exactly as the uninterrupted run, also when
// the resumed model is packed and the original is not.
TEST(Optimizer, StateDictRoundTripGivesIdenticalSteps) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.label);
    OptimizerOptions o;
    c.configure(o);
    Quadratic original(DType::f64);
    auto opt = make_optimizer(c.optimizer, original.parameters(), o);
    train(original, *opt, 3);
    const nn::NamedTensors state = opt->state_dict();
    nn::NamedTensors weights;
    for (const auto& [name, t] : original.state_dict())
      weights.emplace_back(name, t.clone());
    train(original, *opt, 1);  // the snapshot must not follow the live state

    Quadratic resumed(DType::f64);
    resumed.load_state_dict(weights);
    resumed.pack_parameters();
    auto opt2 = make_optimizer(c.optimizer, resumed.parameters(), o);
    opt2->load_state_dict(state);
    EXPECT_EQ(opt2->steps(), 3);
    train(resumed, *opt2, 1);
    train(original, *opt, 2);
    train(resumed, *opt2, 2);
    const auto a = original.values(), b = resumed.values();
    for (size_t i = 0; i < a.size(); ++i)
      EXPECT_NEAR(a[i], b[i], 1e-14) << i;
  }
}

TEST(Optimizer, StateDictNamesSlotsByParameterIndex) {
  Quadratic model(DType::f32);
  auto opt = make_optimizer("adam", model.parameters(), {});
  train(model, *opt, 2);
  std::vector<std::string> names;
  for (const auto& [name, t] : opt->state_dict())
    names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"0.exp_avg", "0.exp_avg_sq", "1.exp_avg", "1.exp_avg_sq", "step"}));
  EXPECT_EQ(opt->state_dict().back().second.item<int64_t>(), 2);
  EXPECT_EQ(opt->state_dict()[2].second.shape(), (Shape{2, 2}));
}

std::string load_error(Optimizer& opt, const nn::NamedTensors& state) {
  try {
    opt.load_state_dict(state);
  } catch (const Error& e) {
    return e.message();
  }
  return "(no error)";
}

TEST(Optimizer, LoadStateDictErrorsNameTheProblem) {
  Quadratic model(DType::f32);
  auto opt = make_optimizer("adam", model.parameters(), {});
  train(model, *opt, 1);
  const nn::NamedTensors good = opt->state_dict();

  nn::NamedTensors no_step(good.begin(), good.end() - 1);
  EXPECT_NE(load_error(*opt, no_step).find("missing \"step\""), std::string::npos);

  nn::NamedTensors no_slot = good;
  no_slot.erase(no_slot.begin() + 3);  // 1.exp_avg_sq
  const std::string missing = load_error(*opt, no_slot);
  EXPECT_NE(missing.find("missing slot \"1.exp_avg_sq\""), std::string::npos) << missing;

  nn::NamedTensors bad_shape = good;
  bad_shape[0].second = Tensor::zeros({4});
  const std::string shape = load_error(*opt, bad_shape);
  EXPECT_NE(shape.find("0.exp_avg"), std::string::npos) << shape;
  EXPECT_NE(shape.find("[4]"), std::string::npos) << shape;
  EXPECT_NE(shape.find("[3]"), std::string::npos) << shape;

  nn::NamedTensors foreign = good;
  foreign.emplace_back("7.exp_avg", Tensor::zeros({3}));
  EXPECT_NE(load_error(*opt, foreign).find("has 2 parameters"), std::string::npos);

  auto sgd = make_optimizer("sgd", model.parameters(), {});
  const std::string unexpected = load_error(*sgd, good);
  EXPECT_NE(unexpected.find("unexpected slot \"0.exp_avg\""), std::string::npos) << unexpected;

  // A failed load leaves the optimizer as it was.
  EXPECT_EQ(opt->steps(), 1);
  EXPECT_EQ(load_error(*opt, good), "(no error)");
}

TEST(Optimizer, FactoryAndOptionChecks) {
  Quadratic model(DType::f32);
  for (const char* name : {"sgd", "adam", "adamw", "rmsprop"}) {
    EXPECT_EQ(make_optimizer(name, model.parameters(), {})->name(), name);
  }
  try {
    make_optimizer("lbfgs", model.parameters(), {});
    ADD_FAILURE() << "expected an error";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.message()).find("sgd, adam, adamw, rmsprop"), std::string::npos) << e.message();
  }
  OptimizerOptions nesterov_without_momentum;
  nesterov_without_momentum.nesterov = true;
  EXPECT_THROW(SGD(model.parameters(), nesterov_without_momentum), ValueError);
  OptimizerOptions bad_beta;
  bad_beta.beta2 = 1.0;
  EXPECT_THROW(AdamW(model.parameters(), bad_beta), ValueError);
  std::vector<Tensor> twice{model.parameters()[0], model.parameters()[0]};
  EXPECT_THROW(SGD(twice, {}), ValueError);
  EXPECT_THROW(SGD({Tensor::zeros({2}, DType::i64)}, {}), ValueError);
}

// Long enough for the update loop to be split across the pool's threads.
TEST(Optimizer, LargePackedUpdateEqualsPerParameterUpdate) {
  Generator g1(8), g2(8);
  nn::Linear packed(300, 200, true, g1), plain(300, 200, true, g2);
  packed.pack_parameters();
  Tensor x = Generator(9).uniform_tensor({4, 300}, -1, 1);
  OptimizerOptions o;
  o.lr = 0.01;
  o.weight_decay = 0.01;
  auto opt_packed = make_optimizer("adamw", packed.parameters(), o);
  auto opt_plain = make_optimizer("adamw", plain.parameters(), o);
  for (int step = 0; step < 3; ++step) {
    opt_packed->zero_grad();
    opt_plain->zero_grad();
    sum(mul(packed(x), packed(x))).backward();
    sum(mul(plain(x), plain(x))).backward();
    opt_packed->step();
    opt_plain->step();
  }
  EXPECT_EQ(testing::max_abs_diff(packed.weight(), plain.weight()), 0.0);
  EXPECT_EQ(testing::max_abs_diff(packed.bias(), plain.bias()), 0.0);
  Generator g3(8);
  EXPECT_GT(testing::max_abs_diff(packed.weight(), nn::Linear(300, 200, true, g3).weight()), 0.0) << "no update ran";
}

TEST(Optimizer, TrainsAPackedMlp) {
  Generator gen(3);
  auto model =
      std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, 16, true, gen), std::make_shared<nn::Tanh>(),
                                       std::make_shared<nn::Linear>(16, 3, true, gen));
  model->pack_parameters();
  Tensor x = Generator(5).uniform_tensor({32, 4}, -1, 1);
  std::vector<int64_t> labels(32);
  auto xv = x.to_vector<float>();
  for (int i = 0; i < 32; ++i)
    labels[i] = xv[i * 4] > 0 ? (xv[i * 4 + 1] > 0 ? 0 : 1) : 2;
  Tensor y = Tensor::from_vector(labels, {32});
  OptimizerOptions o;
  o.lr = 0.05;
  auto opt = make_optimizer("adam", model->parameters(), o);
  double first = 0, last = 0;
  for (int step = 0; step < 100; ++step) {
    opt->zero_grad();
    Tensor loss = cross_entropy((*model)(x), y);
    loss.backward();
    opt->step();
    (step == 0 ? first : last) = loss.item_double();
  }
  EXPECT_LT(last, 0.25 * first);
  EXPECT_EQ(opt->state_dict().size(), 4u * 2 + 1);  // two slots per parameter, and "step"
}

}  // namespace
}  // namespace loom::optim
