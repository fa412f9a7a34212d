// `loom train/eval/infer` on CSV data: the pipeline fitted in training travels
// with the weights, and malformed CSV input is a clear error with its line.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "loom/core/generator.h"
#include "test_support.h"

namespace loom {
namespace {

using testing::run_command;

// Two numeric features, one categorical, ~5% missing; the class is a simple
// function of them, so a small MLP learns it well.
std::string make_csv(int rows, uint64_t seed, bool with_target = true) {
  Generator g(seed);
  std::ostringstream os;
  os << "width,height,colour" << (with_target ? ",kind" : "") << "\n";
  const char* colours[] = {"red", "green", "blue"};
  for (int i = 0; i < rows; ++i) {
    const double w = g.uniform() * 10, h = g.uniform() * 10;
    const int c = static_cast<int>(g.below(3));
    const int kind = (w + h > 10 ? 1 : 0) + (c == 2 ? 1 : 0);
    if (g.uniform() < 0.05) {
      os << ",";
    } else {
      os << w << ",";
    }
    os << h << "," << colours[c];
    if (with_target)
      os << ",k" << kind;
    os << "\n";
  }
  return os.str();
}

class TabularCli : public ::testing::Test {
 protected:
  testing::CommandResult loom(const std::string& args) { return run_command(testing::loom_cli() + " " + args); }
  testing::TempDir tmp_;
  const std::string pipeline_ =
      R"('{"steps": [{"kind": "impute", "strategy": "median"}, {"kind": "one_hot"}, {"kind": "standard_scale"}]}')";
};

TEST_F(TabularCli, TrainEvalAndInferShareThePipeline) {
  const std::string train = tmp_.file("train.csv"), fresh = tmp_.file("fresh.csv"), w = tmp_.file("w.safetensors");
  testing::write_file(train, make_csv(1500, 1));
  testing::write_file(fresh, make_csv(300, 2, false));
  const std::string m = tmp_.file("m.json");
  auto r = loom("train --data " + train + " --target kind --pipeline " + pipeline_ +
                " --epochs 40 --threads 1 --quiet --save " + w + " --metrics " + m);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream f(m);
  auto j = nlohmann::json::parse(f);
  EXPECT_GT(j["validation_accuracy"].get<double>(), 0.85) << r.output;

  r = loom("eval --weights " + w + " --data " + train);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("test accuracy"), std::string::npos) << r.output;

  const std::string out = tmp_.file("pred.csv");
  r = loom("infer --weights " + w + " --data " + fresh + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::istringstream lines(testing::read_file(out));
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "kind");
  int rows = 0;
  while (std::getline(lines, line)) {
    EXPECT_TRUE(line == "k0" || line == "k1" || line == "k2") << line;
    ++rows;
  }
  EXPECT_EQ(rows, 300);
}

TEST_F(TabularCli, DelimiterTravelsWithTheWeights) {
  std::string csv = make_csv(600, 5);
  for (char& c : csv)
    if (c == ',')
      c = ';';
  const std::string train = tmp_.file("semi.csv"), w = tmp_.file("w.safetensors"), out = tmp_.file("p.csv");
  testing::write_file(train, csv);
  auto r = loom("train --data " + train + " --delimiter ';' --target kind --pipeline " + pipeline_ +
                " --epochs 5 --quiet --save " + w);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = loom("infer --weights " + w + " --data " + train + " --out " + out);  // no --delimiter: it is in the weights
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(testing::read_file(out).find("k"), std::string::npos);
}

TEST_F(TabularCli, RaggedRowNamesFileAndLine) {
  const std::string bad = tmp_.file("bad.csv");
  testing::write_file(bad, "a,b,y\n1,2,0\n3,4,1\n5,1\n");
  auto r = loom("train --data " + bad + " --target y --epochs 1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("bad.csv:4"), std::string::npos) << r.output;
}

TEST_F(TabularCli, MissingValuesWithoutImputeAreReported) {
  const std::string train = tmp_.file("train.csv");
  testing::write_file(train, make_csv(200, 3));
  auto r =
      loom("train --data " + train + " --target kind --epochs 1 --pipeline '{\"steps\": [{\"kind\": \"one_hot\"}]}'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("impute"), std::string::npos) << r.output;
}

TEST_F(TabularCli, UnknownTargetColumnIsAnError) {
  const std::string train = tmp_.file("train.csv");
  testing::write_file(train, make_csv(50, 4));
  auto r = loom("train --data " + train + " --target nope --epochs 1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("nope"), std::string::npos) << r.output;
}

TEST_F(TabularCli, InspectRejectsBinaryAndUtf16Files) {
  using namespace std::string_literals;
  const std::string binary = tmp_.file("binary.csv"), wide = tmp_.file("wide.csv");
  // Before the reader checked the encoding, these bytes came back as one label column.
  testing::write_file(binary,
                      "\x7f"
                      "ELF\x02\x01\x01\0\0\0 marker-from-the-file\n"s);
  auto r = loom("data inspect " + binary);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(binary + ":1: NUL byte at byte offset 7"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("marker-from-the-file"), std::string::npos) << r.output;

  std::string text = "\xFF\xFE"s;
  for (char c : "a,b\n1,2\n"s)
    text += std::string{c, '\0'};
  testing::write_file(wide, text);
  r = loom("data inspect " + wide);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(wide + ": the file starts with a UTF-16 LE byte-order mark"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace loom
