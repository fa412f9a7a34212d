#include "loom/io/model_description.h"

#include <gtest/gtest.h>

#include "loom/nn/linear.h"
#include "loom/nn/sequential.h"
#include "support/test_support.h"

namespace loom::io {
namespace {

using loom::testing::TempDir;
using loom::testing::write_file;

void expect_error(const std::string& text, const std::vector<std::string>& fragments) {
  try {
    parse_model_description(text, "model.json");
    FAIL() << "no error for " << text;
  } catch (const ValueError& e) {
    EXPECT_EQ(e.message().rfind("model.json: ", 0), 0u) << e.message();
    for (const auto& f : fragments)
      EXPECT_NE(e.message().find(f), std::string::npos) << e.message();
  }
}

TEST(ModelDescription, BuiltinMlp) {
  ModelDescription d = parse_model_description(builtin_model_description("mlp"), "builtin:mlp");
  EXPECT_EQ(d.name, "mlp");
  EXPECT_EQ(d.input_shape, (Shape{1, 28, 28}));
  EXPECT_EQ(d.output_shape, (Shape{10}));
  ASSERT_EQ(d.layers.size(), 6u);
  EXPECT_EQ(d.layers[0].output_shape, (Shape{784}));
  ASSERT_TRUE(d.training.has_value());
  EXPECT_EQ(d.training->optimizer, "sgd");
  EXPECT_DOUBLE_EQ(d.training->lr, 0.05);
  EXPECT_DOUBLE_EQ(d.training->momentum, 0.9);
  EXPECT_EQ(d.training->batch, 64);
  EXPECT_EQ(d.training->epochs, std::optional<int64_t>(3));  // the reference run: 3 epochs
}

TEST(ModelDescription, BuiltinCnnShapes) {
  ModelDescription d = parse_model_description(builtin_model_description("cnn"), "builtin:cnn");
  EXPECT_EQ(d.layers[2].output_shape, (Shape{32, 14, 14}));
  EXPECT_EQ(d.layers[5].output_shape, (Shape{64, 7, 7}));
  EXPECT_EQ(d.layers[6].output_shape, (Shape{3136}));
  EXPECT_EQ(d.output_shape, (Shape{10}));
  EXPECT_EQ(d.training->optimizer, "adam");
  EXPECT_DOUBLE_EQ(d.training->lr, 1e-3);
  EXPECT_EQ(d.training->batch, 64);
}

TEST(ModelDescription, BuiltinModelsRunForward) {
  for (const std::string name : {"mlp", "cnn"}) {
    auto model = model_from_json_text(builtin_model_description(name), "builtin:" + name);
    Generator gen(3);
    Tensor x = gen.uniform_tensor({5, 1, 28, 28}, 0, 1);
    Tensor y = model->forward(x);
    EXPECT_EQ(y.shape(), (Shape{5, 10})) << name;
  }
  auto mlp = model_from_json_text(builtin_model_description("mlp"), "mlp");
  EXPECT_EQ(mlp->num_parameters(), 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
  auto cnn = model_from_json_text(builtin_model_description("cnn"), "cnn");
  EXPECT_EQ(cnn->num_parameters(), 32 * 9 + 32 + 64 * 32 * 9 + 64 + 3136 * 128 + 128 + 128 * 10 + 10);
  // PyTorch's nn.Sequential names, so state dicts line up with the reference models.
  auto names = mlp->state_dict();
  EXPECT_EQ(names.front().first, "1.weight");
  EXPECT_EQ(names.back().first, "5.bias");
  EXPECT_THROW(builtin_model_description("resnet"), ValueError);
  EXPECT_EQ(builtin_model_names(), (std::vector<std::string>{"mlp", "cnn", "gpt"}));
}

TEST(ModelDescription, SameGeneratorSameWeights) {
  ModelDescription d = parse_model_description(builtin_model_description("mlp"), "mlp");
  Generator a(11), b(11);
  auto m1 = build_model(d, a), m2 = build_model(d, b);
  auto s1 = m1->state_dict(), s2 = m2->state_dict();
  for (size_t i = 0; i < s1.size(); ++i)
    EXPECT_EQ(loom::testing::max_abs_diff(s1[i].second, s2[i].second), 0.0);
}

TEST(ModelDescription, EveryLayerType) {
  const std::string text = R"({
    "name": "zoo", "input_shape": [3, 16, 16],
    "layers": [
      {"type": "conv2d", "in": 3, "out": 8, "kernel": 3, "stride": 2, "padding": 1, "bias": false},
      {"type": "batchnorm2d", "features": 8},
      {"type": "gelu"},
      {"type": "avgpool2d", "kernel": 2},
      {"type": "maxpool2d", "kernel": 3, "stride": 1, "padding": 1},
      {"type": "flatten"},
      {"type": "dropout", "p": 0.25},
      {"type": "linear", "in": 128, "out": 32},
      {"type": "batchnorm1d", "features": 32, "eps": 0.001},
      {"type": "layernorm", "shape": 32},
      {"type": "tanh"},
      {"type": "sigmoid"},
      {"type": "linear", "in": 32, "out": 4}
    ],
    "training": {"optimizer": "adamw", "lr": 0.01, "weight_decay": 0.05, "batch": 16, "epochs": 3}
  })";
  ModelDescription d = parse_model_description(text, "zoo.json");
  EXPECT_EQ(d.layers[0].output_shape, (Shape{8, 8, 8}));
  EXPECT_EQ(d.layers[3].output_shape, (Shape{8, 4, 4}));
  EXPECT_EQ(d.layers[4].output_shape, (Shape{8, 4, 4}));
  EXPECT_EQ(d.output_shape, (Shape{4}));
  EXPECT_EQ(d.training->epochs, 3);
  EXPECT_DOUBLE_EQ(d.training->weight_decay, 0.05);
  auto model = build_model(d);
  EXPECT_EQ(model->nodes().size(), 13u);
  EXPECT_EQ(model->forward(Tensor::ones({2, 3, 16, 16})).shape(), (Shape{2, 4}));
}

TEST(ModelDescription, EmbeddingAndFlattenAxes) {
  ModelDescription d = parse_model_description(R"({"input_shape": [6], "layers": [
      {"type": "embedding", "num": 100, "dim": 8},
      {"type": "flatten", "start": 1, "end": 2},
      {"type": "linear", "in": 48, "out": 2}]})",
                                               "emb.json");
  EXPECT_EQ(d.layers[0].output_shape, (Shape{6, 8}));
  EXPECT_EQ(d.output_shape, (Shape{2}));
}

TEST(ModelDescription, ShapeMismatchNamesLayerAndShapes) {
  std::string text = builtin_model_description("cnn");
  text.replace(text.find("3136"), 4, "3000");
  expect_error(text,
               {"layer 7 (linear) expects 3000 input features but layer 6 (flatten) produces 3136 (shape [3136])"});
  expect_error(R"({"input_shape": [64, 7, 7], "layers": [{"type": "linear", "in": 3136, "out": 10}]})",
               {"layer 0 (linear) expects 3136 input features but input_shape gives 7 (shape [64, 7, 7])",
                "add {\"type\": \"flatten\"}"});
  expect_error(R"({"input_shape": [1, 28, 28], "layers": [{"type": "conv2d", "in": 3, "out": 4, "kernel": 3}]})",
               {"layer 0 (conv2d) expects 3 input channels but input_shape gives 1 (shape [1, 28, 28])"});
  expect_error(R"({"input_shape": [1, 4, 4], "layers": [{"type": "maxpool2d", "kernel": 5}]})",
               {"layer 0 (maxpool2d)", "does not fit the 4x4 input"});
  expect_error(R"({"input_shape": [784], "layers": [{"type": "conv2d", "in": 1, "out": 4, "kernel": 3}]})",
               {"expects a [channels, height, width] input but input_shape gives shape [784]"});
  expect_error(R"({"input_shape": [8, 4, 4], "layers": [{"type": "batchnorm2d", "features": 4}]})",
               {"layer 0 (batchnorm2d) expects 4 features"});
  expect_error(R"({"input_shape": [10], "layers": [{"type": "layernorm", "shape": [12]}]})",
               {"normalises trailing axes [12]"});
  expect_error(R"({"input_shape": [10], "layers": [{"type": "flatten", "start": 0}]})", {"batch axis"});
}

TEST(ModelDescription, SchemaErrors) {
  expect_error(R"({"input_shape": [4], "layers": [{"type": "linaer", "in": 4, "out": 2}]})",
               {"layer 0 has unknown type \"linaer\"", "linear, conv2d"});
  expect_error(R"({"input_shape": [4], "layers": [{"type": "linear", "in": 4}]})",
               {"layer 0 (linear) is missing the field \"out\""});
  expect_error(R"({"input_shape": [4], "layers": [{"type": "linear", "in": 4, "out": 2, "outt": 3}]})",
               {"unknown field \"outt\""});
  expect_error(R"({"input_shape": [4], "layers": [{"type": "linear", "in": "4", "out": 2}]})",
               {"field \"in\" must be an integer, found \"4\""});
  expect_error(R"({"input_shape": [4], "layers": [{"type": "linear", "in": 0, "out": 2}]})", {"must be positive"});
  expect_error(R"({"input_shape": [4], "layers": [{"type": "dropout", "p": 1.5}]})", {"\"p\" must be in [0, 1]"});
  expect_error(R"({"layers": [{"type": "relu"}]})", {"missing \"input_shape\""});
  expect_error(R"({"input_shape": [4], "layers": []})", {"\"layers\" must be a non-empty array"});
  expect_error(R"({"input_shape": [4], "layers": [{"type": "relu"}], "training": {"optimizer": "lbfgs", "lr": 1}})",
               {"unknown optimizer \"lbfgs\""});
  expect_error(R"({"input_shape": [4], "layers": [{"type": "relu"}], "training": {"optimizer": "sgd"}})",
               {"missing the field \"lr\""});
  expect_error(R"({"input_shape": [4], "layer": []})", {"unknown field \"layer\""});
}

TEST(ModelDescription, BadJsonGivesPosition) {
  expect_error("{\n  \"input_shape\": [4],\n  \"layers\": [{\"type\": \"relu\"},]\n}", {"invalid JSON", "line 3"});
}

TEST(ModelDescription, Files) {
  TempDir dir;
  write_file(dir.file("mlp.json"), builtin_model_description("mlp"));
  auto model = load_model_description(dir.file("mlp.json"));
  EXPECT_EQ(model->nodes().size(), 6u);
  ModelDescription d = read_model_description(dir.file("mlp.json"));
  EXPECT_EQ(d.source, dir.file("mlp.json"));
  EXPECT_EQ(d.text, builtin_model_description("mlp"));
  EXPECT_THROW(load_model_description(dir.file("missing.json")), IOError);
  write_file(dir.file("bad.json"), R"({"input_shape": [4], "layers": [{"type": "nope"}]})");
  try {
    load_model_description(dir.file("bad.json"));
    FAIL() << "no error";
  } catch (const ValueError& e) {
    EXPECT_NE(e.message().find(dir.file("bad.json")), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace loom::io

namespace loom::io {
namespace {

TEST(ModelDescriptionGraph, ResidualExampleParsesAndBuildsAGraph) {
  ModelDescription d = read_model_description(LOOM_SOURCE_DIR "/examples/models/resnet_fmnist.json");
  EXPECT_TRUE(d.graph);
  EXPECT_EQ(d.output_shape, (Shape{10}));
  auto find = [&](const std::string& name) -> const LayerSpec& {
    for (const LayerSpec& l : d.layers)
      if (l.name == name)
        return l;
    throw std::runtime_error("no layer " + name);
  };
  EXPECT_EQ(find("block1_add").inputs, (std::vector<std::string>{"block1_bn2", "stem_relu"}));
  EXPECT_EQ(find("block2_conv1").inputs, (std::vector<std::string>{"pool1"}));  // defaulted to the previous layer
  EXPECT_EQ(find("block2_add").output_shape, (Shape{32, 14, 14}));
  auto model = build_model(d);
  EXPECT_EQ(model->forward(Tensor::ones({2, 1, 28, 28})).shape(), (Shape{2, 10}));
  EXPECT_EQ(model->named_parameters().front().first, "stem_conv.weight");
  // The passes rewrote the block's ReLU + pool, so the program is shorter than the node list.
  EXPECT_LT(model->program().steps.size(), model->nodes().size());
}

// examples/models/gpt.json is the built-in gpt written out: the same layers, the
// same fields, the same weights from the same seed; and token models say so.
TEST(ModelDescriptionGraph, GptExampleIsTheBuiltin) {
  ModelDescription file = read_model_description(LOOM_SOURCE_DIR "/examples/models/gpt.json");
  ModelDescription builtin = parse_model_description(builtin_model_description("gpt"), "gpt");
  EXPECT_EQ(file.inputs.front().dtype, DType::i64);
  ASSERT_EQ(file.layers.size(), builtin.layers.size());
  for (size_t i = 0; i < file.layers.size(); ++i) {
    EXPECT_EQ(file.layers[i].name, builtin.layers[i].name);
    EXPECT_EQ(file.layers[i].type, builtin.layers[i].type);
    EXPECT_EQ(file.layers[i].params, builtin.layers[i].params) << file.layers[i].name;
    EXPECT_EQ(file.layers[i].inputs, builtin.layers[i].inputs) << file.layers[i].name;
  }
  ASSERT_TRUE(file.training && builtin.training);
  EXPECT_EQ(file.training->steps, builtin.training->steps);
  EXPECT_DOUBLE_EQ(file.training->beta2, 0.95);
  EXPECT_EQ(file.output_shape, (Shape{64, 256}));
  Generator a(5), b(5);
  EXPECT_EQ(build_model(file, a)->state_dict().back().second.to_vector<float>(),
            build_model(builtin, b)->state_dict().back().second.to_vector<float>());
  // An attention layer's width must split into its heads; positions must fit the context.
  auto bad = [](const std::string& layer) { return R"({"input_shape": [8, 6], "layers": [)" + layer + "]}"; };
  EXPECT_THROW(parse_model_description(bad(R"({"type": "attention", "width": 6, "heads": 4})"), "t"), ValueError);
  EXPECT_THROW(parse_model_description(bad(R"({"type": "position_embedding", "context": 4, "dim": 6})"), "t"),
               ValueError);
  EXPECT_THROW(
      parse_model_description(R"({"input_shape": [4], "input_dtype": "u8", "layers": [{"type": "relu"}]})", "t"),
      ValueError);
}

// A chain stays a Sequential, with PyTorch's index names.
TEST(ModelDescriptionGraph, ChainsStaySequential) {
  ModelDescription d = parse_model_description(builtin_model_description("cnn"), "cnn");
  EXPECT_FALSE(d.graph);
  EXPECT_NE(std::dynamic_pointer_cast<nn::Sequential>(build_model(d)), nullptr);
}

TEST(ModelDescriptionGraph, TwoInputsAndTwoOutputs) {
  ModelDescription d = parse_model_description(R"({
    "inputs": [{"name": "a", "shape": [4]}, {"name": "b", "shape": [3]}],
    "outputs": ["head", "joined"],
    "layers": [
      {"name": "joined", "type": "concat", "inputs": ["a", "b"]},
      {"name": "head", "type": "linear", "in": 7, "out": 2}
    ]})",
                                               "two.json");
  EXPECT_EQ(d.input_shape, (Shape{4}));
  EXPECT_EQ(d.output_shape, (Shape{2}));
  auto model = build_model(d);
  EXPECT_EQ(model->input_names(), (std::vector<std::string>{"a", "b"}));
  auto outs = model->forward_all({Tensor::ones({5, 4}), Tensor::zeros({5, 3})});
  ASSERT_EQ(outs.size(), 2u);
  EXPECT_EQ(outs[0].shape(), (Shape{5, 2}));
  EXPECT_EQ(outs[1].shape(), (Shape{5, 7}));
}

TEST(ModelDescriptionGraph, GraphErrorsNameTheLayer) {
  expect_error(
      R"({"input_shape": [4], "layers": [{"type": "relu", "inputs": ["later"]}, {"name": "later", "type": "relu"}]})",
      {"layer 0 (relu) reads \"later\", which is neither an input nor an earlier layer"});
  expect_error(R"({"input_shape": [4], "layers": [{"type": "relu", "name": "x"}, {"type": "relu", "name": "x"}]})",
               {"layer 1 (relu) is named \"x\", which an input or an earlier layer already is"});
  expect_error(R"({"input_shape": [4], "layers": [{"type": "add"}]})",
               {"layer 0 (add) reads 2 or more inputs but only one is given"});
  expect_error(
      R"({"input_shape": [4], "layers": [{"type": "relu", "name": "r"}, {"type": "relu", "inputs": ["r", "input"]}]})",
      {"layer 1 (relu) reads one input but \"inputs\" lists 2"});
  expect_error(R"({"inputs": [{"name": "a", "shape": [4]}, {"name": "b", "shape": [3]}],
                   "layers": [{"type": "add", "inputs": ["a", "b"]}]})",
               {"layer 0 (add) cannot broadcast its inputs' shapes [4], [3]"});
  expect_error(R"({"inputs": [{"name": "a", "shape": [2, 4]}, {"name": "b", "shape": [3, 3]}],
                   "layers": [{"type": "concat", "axis": 1, "inputs": ["a", "b"]}]})",
               {"layer 0 (concat) joins along axis 1 inputs whose other axes differ"});
  expect_error(R"({"input_shape": [4], "inputs": [{"name": "a", "shape": [4]}], "layers": [{"type": "relu"}]})",
               {"both \"input_shape\" and \"inputs\""});
  expect_error(R"({"input_shape": [4], "outputs": ["nothing"], "layers": [{"type": "relu"}]})",
               {"output \"nothing\" is neither an input nor a layer"});
  expect_error(R"({"input_shape": [4], "layers": [{"type": "relu", "name": "a.b"}]})", {"cannot contain '.'"});
}

}  // namespace
}  // namespace loom::io
