#include "loom/io/safetensors.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "loom/core/generator.h"

#include "support/test_support.h"

namespace loom::io {
namespace {

using loom::testing::read_file;
using loom::testing::run_command;
using loom::testing::TempDir;
using loom::testing::write_file;

nn::NamedTensors every_dtype() {
  return {
      {"f32", Tensor::from_vector<float>({1.5f, -2.0f, 3.25f, 0.0f, 1e-20f, -1e20f}, {2, 3})},
      {"f64", Tensor::from_vector<double>({0.1, -1e300}, {2})},
      {"i64", Tensor::from_vector<int64_t>({INT64_MIN, -1, 0, INT64_MAX}, {2, 1, 2})},
      {"i32", Tensor::from_vector<int32_t>({7, -8, 9}, {3})},
      {"i8", Tensor::from_vector<int8_t>({-128, 127}, {2})},
      {"u8", Tensor::from_vector<uint8_t>({0, 255, 17}, {3})},
      {"bf16", Tensor::from_vector<float>({1.0f, -2.5f, 3.0f, 0.15625f}, {4}).to(DType::bf16)},
      {"f16", Tensor::from_vector<float>({1.0f, -0.5f, 65504.0f}, {3}).to(DType::f16)},
      {"scalar", Tensor::scalar(42.0)},
      {"empty", Tensor::zeros({0, 3})},
  };
}

void expect_same(const nn::NamedTensors& a, const nn::NamedTensors& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_EQ(a[i].second.dtype(), b[i].second.dtype()) << a[i].first;
    EXPECT_EQ(a[i].second.shape(), b[i].second.shape()) << a[i].first;
    Tensor x = a[i].second.contiguous(), y = b[i].second.contiguous();
    EXPECT_EQ(std::memcmp(x.raw_data(), y.raw_data(), x.nbytes()), 0) << a[i].first;
  }
}

TEST(Safetensors, RoundTripEveryDtypeKeepsOrderAndMetadata) {
  TempDir dir;
  const std::string path = dir.file("t.safetensors");
  auto tensors = every_dtype();
  save_safetensors(path, tensors, {{"format", "pt"}, {"note", "héllo \"quoted\""}});
  std::map<std::string, std::string> meta;
  auto back = load_safetensors(path, &meta);
  expect_same(tensors, back);
  EXPECT_EQ(meta.at("format"), "pt");
  EXPECT_EQ(meta.at("note"), "héllo \"quoted\"");
  EXPECT_EQ(read_safetensors_metadata(path), meta);
}

TEST(Safetensors, FileLayoutFollowsTheSpec) {
  TempDir dir;
  const std::string path = dir.file("t.safetensors");
  save_safetensors(path, {{"w", Tensor::from_vector<float>({1, 2, 3}, {3})}});
  const std::string bytes = read_file(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u) << "the header is padded to a multiple of 8";
  ASSERT_EQ(bytes.size(), 8 + n + 12);
  auto header = nlohmann::json::parse(bytes.substr(8, n));
  EXPECT_EQ(header["w"]["dtype"], "F32");
  EXPECT_EQ(header["w"]["shape"], nlohmann::json::array({3}));
  EXPECT_EQ(header["w"]["data_offsets"], nlohmann::json::array({0, 12}));
  float values[3];
  std::memcpy(values, bytes.data() + 8 + n, 12);
  EXPECT_EQ(values[2], 3.0f);
}

TEST(Safetensors, NonContiguousInputIsWrittenContiguously) {
  TempDir dir;
  Tensor x = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor xt = x.as_strided({3, 2}, {1, 3}, 0);
  save_safetensors(dir.file("t"), {{"xt", xt}});
  EXPECT_EQ(load_safetensors(dir.file("t"))[0].second.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

TEST(Safetensors, SaveRejectsBadNames) {
  TempDir dir;
  Tensor t = Tensor::zeros({1});
  EXPECT_THROW(save_safetensors(dir.file("a"), {{"x", t}, {"x", t}}), ValueError);
  EXPECT_THROW(save_safetensors(dir.file("a"), {{"", t}}), ValueError);
  EXPECT_THROW(save_safetensors(dir.file("a"), {{"__metadata__", t}}), ValueError);
  EXPECT_THROW(save_safetensors(dir.file("a"), {{"u", Tensor()}}), ValueError);
  EXPECT_FALSE(std::filesystem::exists(dir.file("a")));
}

// ---- corruption --------------------------------------------------------------------------

// A file with `header` as its JSON (padded) followed by `data`.
std::string make_file(const std::string& header, const std::string& data) {
  std::string h = header;
  h.append((8 - h.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  uint64_t n = h.size();
  std::memcpy(out.data(), &n, 8);
  return out + h + data;
}

void expect_load_error(const std::string& path, const std::string& fragment) {
  try {
    load_safetensors(path);
    FAIL() << "load_safetensors(" << path << ") did not throw; expected: " << fragment;
  } catch (const IOError& e) {
    EXPECT_NE(e.message().find(path), std::string::npos) << e.message();
    EXPECT_NE(e.message().find(fragment), std::string::npos) << e.message();
  }
}

TEST(SafetensorsCorrupt, MissingAndTooShort) {
  TempDir dir;
  expect_load_error(dir.file("missing"), "cannot open");
  write_file(dir.file("short"), "abc");
  expect_load_error(dir.file("short"), "too short");
}

TEST(SafetensorsCorrupt, Truncated) {
  TempDir dir;
  save_safetensors(dir.file("good"), every_dtype());
  const std::string bytes = read_file(dir.file("good"));
  write_file(dir.file("cut_data"), bytes.substr(0, bytes.size() - 5));
  expect_load_error(dir.file("cut_data"), "out of range");
  write_file(dir.file("cut_header"), bytes.substr(0, 40));
  expect_load_error(dir.file("cut_header"), "header length");
}

TEST(SafetensorsCorrupt, HeaderLengthLargerThanFile) {
  TempDir dir;
  std::string bytes = make_file(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "x");
  bytes[6] = 1;  // a header of ~2^48 bytes
  write_file(dir.file("f"), bytes);
  expect_load_error(dir.file("f"), "header length is");
}

TEST(SafetensorsCorrupt, InvalidJson) {
  TempDir dir;
  write_file(dir.file("f"), make_file(R"({"a": {"dtype": "F32", )", ""));
  expect_load_error(dir.file("f"), "not valid JSON");
  write_file(dir.file("g"), make_file(R"(["a"])", ""));
  expect_load_error(dir.file("g"), "must be a JSON object");
}

TEST(SafetensorsCorrupt, MissingFieldsAndBadDtype) {
  TempDir dir;
  write_file(dir.file("a"), make_file(R"({"t":{"shape":[1],"data_offsets":[0,4]}})", "abcd"));
  expect_load_error(dir.file("a"), "tensor 't' has no \"dtype\"");
  write_file(dir.file("b"), make_file(R"({"t":{"dtype":"F32","data_offsets":[0,4]}})", "abcd"));
  expect_load_error(dir.file("b"), "no \"shape\"");
  write_file(dir.file("c"), make_file(R"({"t":{"dtype":"F32","shape":[1]}})", "abcd"));
  expect_load_error(dir.file("c"), "no \"data_offsets\"");
  write_file(dir.file("d"), make_file(R"({"t":{"dtype":"C64","shape":[1],"data_offsets":[0,4]}})", "abcd"));
  expect_load_error(dir.file("d"), "dtype \"C64\"");
  write_file(dir.file("e"), make_file(R"({"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "abcd"));
  expect_load_error(dir.file("e"), "non-negative integer");
  write_file(dir.file("m"), make_file(R"({"__metadata__":{"k":1}})", ""));
  expect_load_error(dir.file("m"), "must be a string");
}

TEST(SafetensorsCorrupt, OffsetsOutOfRangeOverlappingOrWithGaps) {
  TempDir dir;
  write_file(dir.file("range"), make_file(R"({"t":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}})", "abcd"));
  expect_load_error(dir.file("range"), "out of range");
  write_file(dir.file("backwards"), make_file(R"({"t":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}})", "abcd"));
  expect_load_error(dir.file("backwards"), "out of range");
  write_file(dir.file("overlap"), make_file(R"({"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},)"
                                            R"("b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})",
                                            "abcd"));
  expect_load_error(dir.file("overlap"), "overlap");
  write_file(dir.file("gap"), make_file(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                                        R"("b":{"dtype":"U8","shape":[1],"data_offsets":[3,4]}})",
                                        "abcd"));
  expect_load_error(dir.file("gap"), "belong to no tensor");
  write_file(dir.file("trailing"), make_file(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", "abcd"));
  expect_load_error(dir.file("trailing"), "cover 2 bytes but the data buffer has 4");
}

TEST(SafetensorsCorrupt, ShapeTimesDtypeMustMatchOffsets) {
  TempDir dir;
  write_file(dir.file("f"),
             make_file(R"({"t":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", std::string(20, 'x')));
  expect_load_error(dir.file("f"), "F32 [2, 3] (24 bytes) but its data_offsets [0, 20] span 20 bytes");
  // A forged shape whose element count would overflow 64 bits.
  write_file(dir.file("g"), make_file(R"({"t":{"dtype":"F64","shape":[4294967296,4294967296,16],)"
                                      R"("data_offsets":[0,8]}})",
                                      std::string(8, 'x')));
  expect_load_error(dir.file("g"), "span 8 bytes");
}

TEST(SafetensorsCorrupt, DuplicateNames) {
  TempDir dir;
  write_file(dir.file("f"), make_file(R"({"t":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                                      R"("t":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})",
                                      "abcd"));
  expect_load_error(dir.file("f"), "tensor 't' appears twice");
}

// ---- compatibility with the Python package ----------------------------------------------

// A python3 with `safetensors` and numpy: $LOOM_PYTHON, else /usr/bin/python3; "" when neither has it.
std::string python_with_safetensors() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("LOOM_PYTHON"))
    candidates.emplace_back(env);
  candidates.emplace_back("/usr/bin/python3");
  for (const auto& py : candidates) {
    if (run_command(py + " -c 'import safetensors.numpy, numpy'").exit_code == 0)
      return py;
  }
  return "";
}

constexpr const char* kReadScript = R"(
import json, sys
from safetensors import safe_open
from safetensors.numpy import load_file
path = sys.argv[1]
tensors = load_file(path)
with safe_open(path, framework="np") as f:
    meta = f.metadata()
out = {k: {"dtype": str(v.dtype), "shape": list(v.shape), "values": [float(x) for x in v.ravel()]}
       for k, v in tensors.items()}
with open(sys.argv[2], "w") as f:
    json.dump({"tensors": out, "metadata": meta}, f)
)";

constexpr const char* kWriteScript = R"(
import sys
import numpy as np
from safetensors.numpy import save_file
save_file({
    "weight": np.arange(12, dtype=np.float32).reshape(3, 4) / 4,
    "bias": np.array([-1.5, 2.5], dtype=np.float64),
    "steps": np.array(7, dtype=np.int64),
    "codes": np.array([[1, -2], [3, -4]], dtype=np.int32),
    "bytes": np.array([0, 200], dtype=np.uint8),
    "small": np.array([-7], dtype=np.int8),
    "half": np.array([0.5, -3.0], dtype=np.float16),
}, sys.argv[1], metadata={"origin": "python"})
)";

TEST(SafetensorsPython, CppWritesPythonReads) {
  const std::string py = python_with_safetensors();
  if (py.empty())
    GTEST_SKIP() << "no python3 with the safetensors package (set LOOM_PYTHON to one that has it)";
  TempDir dir;
  nn::NamedTensors tensors;
  for (auto& [name, t] : every_dtype()) {
    if (name != "bf16")
      tensors.emplace_back(name, t);  // numpy has no bfloat16
  }
  save_safetensors(dir.file("c.safetensors"), tensors, {{"origin", "loom"}});
  write_file(dir.file("read.py"), kReadScript);
  auto r = run_command(py + " " + dir.file("read.py") + " " + dir.file("c.safetensors") + " " + dir.file("out.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto json = nlohmann::json::parse(read_file(dir.file("out.json")));
  EXPECT_EQ(json["metadata"]["origin"], "loom");
  const std::map<std::string, std::string> numpy_names = {
      {"f32", "float32"}, {"f64", "float64"}, {"i64", "int64"},      {"i32", "int32"},    {"i8", "int8"},
      {"u8", "uint8"},    {"f16", "float16"}, {"scalar", "float32"}, {"empty", "float32"}};
  for (const auto& [name, t] : tensors) {
    const auto& got = json["tensors"][name];
    EXPECT_EQ(got["dtype"], numpy_names.at(name)) << name;
    EXPECT_EQ(got["shape"].get<std::vector<int64_t>>(), t.shape()) << name;
    EXPECT_EQ(got["values"].get<std::vector<double>>(), t.to_vector<double>()) << name;
  }
}

TEST(SafetensorsPython, PythonWritesCppReads) {
  const std::string py = python_with_safetensors();
  if (py.empty())
    GTEST_SKIP() << "no python3 with the safetensors package (set LOOM_PYTHON to one that has it)";
  TempDir dir;
  write_file(dir.file("write.py"), kWriteScript);
  auto r = run_command(py + " " + dir.file("write.py") + " " + dir.file("p.safetensors"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::map<std::string, std::string> meta;
  auto loaded = load_safetensors(dir.file("p.safetensors"), &meta);
  EXPECT_EQ(meta.at("origin"), "python");
  std::map<std::string, Tensor> by_name(loaded.begin(), loaded.end());
  ASSERT_EQ(by_name.size(), 7u);
  EXPECT_EQ(by_name["weight"].dtype(), DType::f32);
  EXPECT_EQ(by_name["weight"].shape(), (Shape{3, 4}));
  EXPECT_EQ(by_name["weight"].to_vector<float>()[11], 2.75f);
  EXPECT_EQ(by_name["bias"].to_vector<double>(), (std::vector<double>{-1.5, 2.5}));
  EXPECT_EQ(by_name["steps"].shape(), Shape{});
  EXPECT_EQ(by_name["steps"].item<int64_t>(), 7);
  EXPECT_EQ(by_name["codes"].to_vector<int32_t>(), (std::vector<int32_t>{1, -2, 3, -4}));
  EXPECT_EQ(by_name["bytes"].to_vector<uint8_t>(), (std::vector<uint8_t>{0, 200}));
  EXPECT_EQ(by_name["small"].to_vector<int8_t>(), (std::vector<int8_t>{-7}));
  EXPECT_EQ(by_name["half"].dtype(), DType::f16);
  EXPECT_EQ(by_name["half"].to_vector<float>(), (std::vector<float>{0.5f, -3.0f}));
}

TEST(SafetensorsPython, Bfloat16ThroughTorch) {
  const std::string py = python_with_safetensors();
  if (py.empty() || run_command(py + " -c 'import torch, safetensors.torch'").exit_code != 0) {
    GTEST_SKIP() << "no python3 with safetensors and torch (set LOOM_PYTHON to one that has both)";
  }
  TempDir dir;
  Tensor t = Tensor::from_vector<float>({1.0f, -2.5f, 0.15625f}, {3}).to(DType::bf16);
  save_safetensors(dir.file("b.safetensors"), {{"b", t}});
  write_file(dir.file("rt.py"), R"(
import sys, torch
from safetensors.torch import load_file, save_file
b = load_file(sys.argv[1])["b"]
assert b.dtype == torch.bfloat16, b.dtype
print(b.float().tolist())
save_file({"b2": b * 2}, sys.argv[2])
)");
  auto r =
      run_command(py + " " + dir.file("rt.py") + " " + dir.file("b.safetensors") + " " + dir.file("b2.safetensors"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("[1.0, -2.5, 0.15625]"), std::string::npos) << r.output;
  auto back = load_safetensors(dir.file("b2.safetensors"));
  EXPECT_EQ(back[0].second.dtype(), DType::bf16);
  EXPECT_EQ(back[0].second.to_vector<float>(), (std::vector<float>{2.0f, -5.0f, 0.3125f}));
}

}  // namespace
}  // namespace loom::io

namespace loom::io {
namespace {

// Damaged files must give an error, never a crash or a wild allocation (run under
// the sanitizers in CI). Each round flips a few bytes of a valid file.
TEST(SafetensorsCorrupt, RandomDamageNeverCrashes) {
  TempDir dir;
  save_safetensors(dir.file("good"), every_dtype(), {{"k", "v"}});
  const std::string good = read_file(dir.file("good"));
  Generator gen(2024);
  int errors = 0;
  for (int round = 0; round < 300; ++round) {
    std::string bytes = good;
    const int flips = 1 + static_cast<int>(gen.below(4));
    for (int i = 0; i < flips; ++i) {
      // Mostly the length and the header, where the parser lives.
      const size_t limit = gen.below(4) == 0 ? bytes.size() : std::min<size_t>(bytes.size(), 300);
      bytes[gen.below(limit)] = static_cast<char>(gen.below(256));
    }
    if (gen.below(5) == 0)
      bytes.resize(gen.below(bytes.size()));
    write_file(dir.file("bad"), bytes);
    try {
      load_safetensors(dir.file("bad"));
    } catch (const Error&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, 100);
}

}  // namespace
}  // namespace loom::io
