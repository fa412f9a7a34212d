// Tracing a model, replaying the trace, saving it and loading it again (NOTE
// [Traced graphs]): every step gives the model's outputs bit for bit.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "loom/autograd.h"
#include "loom/io.h"
#include "loom/nn.h"
#include "test_support.h"

namespace loom {
namespace {

using loom::testing::error_message;
using loom::testing::TempDir;

std::vector<float> values(const Tensor& t) { return t.contiguous().to_vector<float>(); }

Tensor forward_no_grad(nn::Module& m, const Tensor& x) {
  NoGradGuard no_grad;
  return m.forward(x);
}

// Trace at batch 8, then compare model, trace and reloaded trace at batches 8 and 5.
void check_round_trip(const std::shared_ptr<nn::Graph>& model, const std::string& name) {
  Generator gen(3);
  model->train();
  forward_no_grad(*model, gen.uniform_tensor({16, 1, 28, 28}, 0, 1));  // batch norm's running statistics move
  model->eval();
  Tensor x = gen.uniform_tensor({8, 1, 28, 28}, 0, 1);
  auto traced = nn::trace(*model, {{"image", x}});
  ASSERT_FALSE(traced->nodes().empty());
  TempDir dir;
  const std::string path = dir.file(name + ".json");
  io::save_traced_graph(*traced, path);
  auto loaded = io::load_traced_graph(path);
  EXPECT_EQ(loaded->str(), traced->str());
  for (int64_t batch : {8, 5}) {
    Tensor in = gen.uniform_tensor({batch, 1, 28, 28}, 0, 1);
    const auto want = values(forward_no_grad(*model, in));
    EXPECT_EQ(values(traced->forward(in)), want) << name << " replayed, batch " << batch;
    EXPECT_EQ(values(loaded->forward(in)), want) << name << " loaded, batch " << batch;
  }
}

TEST(TracedGraph, CnnRoundTripsBitIdentically) {
  auto cnn = io::model_from_json_text(io::builtin_model_description("cnn"), "cnn");
  check_round_trip(cnn, "cnn");
  // The fusion passes' ops are what the trace holds, with their attributes.
  auto traced = nn::trace(*cnn, {{"x", Tensor::zeros({2, 1, 28, 28})}});
  EXPECT_NE(traced->str().find("conv2d_max_pool2d(x, 0.weight, 0.bias) {stride_h=1"), std::string::npos)
      << traced->str();
  EXPECT_NE(traced->str().find("linear_act("), std::string::npos) << traced->str();
}

TEST(TracedGraph, ResidualModelRoundTripsBitIdentically) {
  auto resnet = io::load_model_description(LOOM_SOURCE_DIR "/examples/models/resnet_fmnist.json");
  check_round_trip(resnet, "resnet");
  auto traced = nn::trace(*resnet, {{"x", Tensor::zeros({2, 1, 28, 28})}});
  EXPECT_NE(traced->str().find(" = add("), std::string::npos) << traced->str();
  EXPECT_NE(traced->str().find("batch_norm("), std::string::npos) << traced->str();
  EXPECT_NE(traced->str().find("training=false"), std::string::npos) << traced->str();
}

// A module whose forward reshapes its input with a raw Tensor method.
class RawView : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override { return relu(x.view({-1})); }
  std::string describe() const override { return "RawView()"; }
};

TEST(TracedGraph, RawViewsAreRefused) {
  RawView m;
  EXPECT_NE(error_message([&] {
              nn::trace(m, {{"x", Tensor::ones({2, 3})}});
            }).find("relu reads a view of 'x'"),
            std::string::npos);
}

// Each corruption of a saved graph is an error naming the file and the node.
TEST(TracedGraph, BadFilesNameWhatIsWrong) {
  auto mlp = io::model_from_json_text(io::builtin_model_description("mlp"), "mlp");
  mlp->eval();
  auto traced = nn::trace(*mlp, {{"x", Tensor::zeros({4, 1, 28, 28})}});
  TempDir dir;
  const std::string path = dir.file("mlp.json");
  io::save_traced_graph(*traced, path);
  nlohmann::json good;
  std::ifstream(path) >> good;
  auto load_with = [&](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json j = good;
    edit(j);
    std::ofstream(path) << j.dump();
    return error_message([&] { io::load_traced_graph(path); });
  };
  const std::string first = good["nodes"][0]["name"];
  std::string e = load_with([](nlohmann::json& j) { j["nodes"][0]["op"] = "convolve"; });
  EXPECT_NE(e.find("node '" + first + "': unknown op 'convolve'"), std::string::npos) << e;
  e = load_with([](nlohmann::json& j) { j["nodes"][1]["inputs"][0] = "nowhere"; });
  EXPECT_NE(e.find("reads 'nowhere', which is not an input"), std::string::npos) << e;
  e = load_with([](nlohmann::json& j) { j["inputs"][0]["shape"] = {4, 3}; });
  const std::string second = good["nodes"][1]["name"];
  EXPECT_NE(e.find("node '" + second + "': linear_act: input has 3 features"), std::string::npos) << e;
  e = load_with([](nlohmann::json& j) { j["constants"][0]["shape"] = {7}; });
  EXPECT_NE(e.find("but " + dir.file("mlp.safetensors") + " holds"), std::string::npos) << e;
  e = load_with([](nlohmann::json& j) { j["format"] = "onnx"; });
  EXPECT_NE(e.find("not a traced graph"), std::string::npos) << e;
  std::ofstream(path) << "{\"format\": ";
  EXPECT_NE(error_message([&] { io::load_traced_graph(path); }).find("not valid JSON"), std::string::npos);
}

}  // namespace
}  // namespace loom
