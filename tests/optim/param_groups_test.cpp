// Parameter groups, the decay / no-decay split and gradient clipping.
#include <gtest/gtest.h>

#include <cmath>

#include "loom/autograd.h"
#include "loom/io/model_description.h"
#include "loom/nn.h"
#include "loom/optim.h"

namespace loom::optim {
namespace {

TEST(ParamGroups, GptDecaysOnlyWeightMatrices) {
  manual_seed(1);
  auto model = io::model_from_json_text(io::builtin_model_description("gpt"), "gpt");
  auto groups = weight_decay_groups(*model, 0.1);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].name, "decay");
  EXPECT_DOUBLE_EQ(*groups[0].weight_decay, 0.1);
  EXPECT_DOUBLE_EQ(*groups[1].weight_decay, 0.0);
  // 4 blocks x (qkv, proj, fc, proj) + head; biases, norms and both embeddings are not decayed.
  EXPECT_EQ(groups[0].params.size(), 17u);
  int64_t decayed = 0;
  for (const Tensor& p : groups[0].params) {
    EXPECT_EQ(p.dim(), 2);
    decayed += p.numel();
  }
  for (const auto& [name, p] : model->named_parameters()) {
    const bool no_decay = p.dim() < 2 || name.rfind("tok_emb", 0) == 0 || name.rfind("pos_emb", 0) == 0;
    bool in_decay = false;
    for (const Tensor& d : groups[0].params)
      in_decay = in_decay || d.impl() == p.impl();
    EXPECT_EQ(in_decay, !no_decay) << name;
  }
  EXPECT_EQ(decayed, 4 * (3 * 128 * 128 + 128 * 128 + 2 * 4 * 128 * 128) + 128 * 256);
}

// AdamW with zero gradients only decays: p *= 1 - lr * wd in the decay group,
// unchanged in the other; a group's lr_scale scales its rate.
TEST(ParamGroups, EachGroupStepsWithItsOwnDecayAndRate) {
  Tensor a = Tensor::full({3}, 2.0f).set_requires_grad(true);
  Tensor b = Tensor::full({2}, 2.0f).set_requires_grad(true);
  Tensor c = Tensor::full({2}, 2.0f).set_requires_grad(true);
  for (Tensor* t : {&a, &b, &c})
    t->set_grad(Tensor::zeros(t->shape()));
  AdamW opt(std::vector<ParamGroup>{{{a}, 0.5, 1.0, "decay"}, {{b}, 0.0, 1.0, "none"}, {{c}, std::nullopt, 2.0, "x2"}},
            {.lr = 0.1, .weight_decay = 0.25});
  opt.step();
  EXPECT_FLOAT_EQ(a.to_vector<float>()[0], 2.0f * (1 - 0.1f * 0.5f));
  EXPECT_FLOAT_EQ(b.to_vector<float>()[0], 2.0f);
  EXPECT_FLOAT_EQ(c.to_vector<float>()[0], 2.0f * (1 - 0.2f * 0.25f));  // the default decay, twice the rate
  EXPECT_THROW(SGD(std::vector<ParamGroup>{{{a}, -1.0}}, {}), ValueError);
}

TEST(ClipGradNorm, ScalesToTheMaxNormAsPyTorch) {
  Tensor a = Tensor::zeros({2}).set_requires_grad(true);
  Tensor b = Tensor::zeros({1}).set_requires_grad(true);
  a.set_grad(Tensor::from_vector<float>({3, 0}, {2}));
  b.set_grad(Tensor::from_vector<float>({4}, {1}));
  EXPECT_NEAR(clip_grad_norm({a, b}, 10.0), 5.0, 1e-6);  // under the limit: unchanged
  EXPECT_FLOAT_EQ(a.grad().to_vector<float>()[0], 3.0f);
  EXPECT_NEAR(clip_grad_norm({a, b}, 1.0), 5.0, 1e-6);
  const double k = 1.0 / (5.0 + 1e-6);
  EXPECT_NEAR(a.grad().to_vector<float>()[0], 3 * k, 1e-6);
  EXPECT_NEAR(b.grad().to_vector<float>()[0], 4 * k, 1e-6);
  // Through the optimizer: SGD lr 1 moves by the clipped gradient.
  a.set_grad(Tensor::from_vector<float>({3, 0}, {2}));
  b.set_grad(Tensor::from_vector<float>({4}, {1}));
  SGD sgd({a, b}, {.lr = 1.0, .max_grad_norm = 1.0});
  sgd.step();
  EXPECT_NEAR(sgd.last_grad_norm(), 5.0, 1e-6);
  EXPECT_NEAR(a.to_vector<float>()[0], -3 * k, 1e-6);
  EXPECT_NEAR(b.to_vector<float>()[0], -4 * k, 1e-6);
}

// Parameters of two dtypes, interleaved, so packing makes two arena groups.
class TwoDtypes : public nn::Module {
 public:
  TwoDtypes() {
    Generator g(4);
    for (auto [name, dtype] : {std::pair{"a", DType::f32}, std::pair{"b", DType::f64}, std::pair{"c", DType::f32},
                               std::pair{"d", DType::f64}})
      register_parameter(name, g.uniform_tensor({5}, -1, 1, dtype));
  }
  Tensor forward(const Tensor& x) override { return x; }
  std::string describe() const override { return "TwoDtypes()"; }
};

// Each arena group steps in one segment and gives what per-parameter updates give.
TEST(ParamGroups, FusedSegmentsPerArenaGroupEqualPerParameterUpdates) {
  TwoDtypes packed, loose;
  packed.pack_parameters();
  EXPECT_EQ(packed.arena_groups().size(), 2u);
  Adam a(packed.parameters(), {.lr = 0.01}), b(loose.parameters(), {.lr = 0.01});
  for (int step = 0; step < 3; ++step) {
    for (auto [m, opt] :
         {std::pair<nn::Module*, Optimizer*>{&packed, &a}, std::pair<nn::Module*, Optimizer*>{&loose, &b}}) {
      opt->zero_grad();
      Generator same(10 + step);
      for (Tensor& p : m->parameters()) {
        Tensor g = same.uniform_tensor(p.shape(), -1, 1, p.dtype());
        if (p.grad().defined())
          p.grad().copy_(g);
        else
          p.set_grad(g);
      }
      opt->step();
    }
  }
  auto pa = packed.parameters(), pb = loose.parameters();
  for (size_t i = 0; i < pa.size(); ++i)
    EXPECT_EQ(pa[i].to(DType::f64).to_vector<double>(), pb[i].to(DType::f64).to_vector<double>()) << i;
}

}  // namespace
}  // namespace loom::optim
