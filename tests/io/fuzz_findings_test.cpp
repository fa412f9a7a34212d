// Inputs the fuzz targets (fuzz/, scripts/fuzz.sh) found escaping as raw JSON
// library exceptions; each must now be a loom::Error naming the file.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "loom/io/model_description.h"
#include "loom/io/safetensors.h"
#include "loom/io/traced_graph_file.h"
#include "support/test_support.h"

namespace loom::io {
namespace {

void write(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(FuzzFindings, AModelDescriptionWithANumberTooLargeIsAnError) {
  const std::string msg = loom::testing::error_message([] { model_from_json_text("292e7590", "big.json"); });
  EXPECT_NE(msg.find("big.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("invalid JSON"), std::string::npos) << msg;
}

TEST(FuzzFindings, ASafetensorsHeaderWithANumberTooLargeIsAnError) {
  loom::testing::TempDir tmp;
  const std::string header = R"({"__metadata__":{"a":"1"},"x":{"dtype":"F32","shape":[8e02816],"data_offsets":[0,4]}})";
  std::string file(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(file.data(), &n, 8);
  write(tmp.file("big.safetensors"), file + header + std::string(4, '\0'));
  const std::string msg = loom::testing::error_message([&] { load_safetensors(tmp.file("big.safetensors")); });
  EXPECT_NE(msg.find("big.safetensors"), std::string::npos) << msg;
}

TEST(FuzzFindings, ATracedGraphWithAFieldOfTheWrongTypeIsAnError) {
  loom::testing::TempDir tmp;
  write(tmp.file("g.json"), R"({"format": "loom.traced_graph", "version": ["x"], "inputs": []})");
  const std::string msg = loom::testing::error_message([&] { load_traced_graph(tmp.file("g.json")); });
  EXPECT_NE(msg.find("g.json"), std::string::npos) << msg;
}

}  // namespace
}  // namespace loom::io
