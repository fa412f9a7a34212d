// Text corpora and token windows.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "loom/data.h"

namespace loom::data {
namespace {
namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("loom_text_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

TEST(TextCorpus, ReadsADirectorySortedWithoutIndexesOrLinks) {
  const fs::path d = fresh_dir("dir");
  write(d / "b", "world");
  write(d / "a", "hello ");
  write(d / "a.dat", "BINARY");  // strfile's index: left out
  fs::create_directories(d / "sub");
  write(d / "sub" / "c", "!!!!!!!!!");
  fs::create_symlink(d / "a", d / "a.u8");  // a link to a file already read: left out
  TextCorpus c = read_text_corpus(d.string(), 0.2);
  ASSERT_EQ(c.files.size(), 3u);
  EXPECT_EQ(fs::path(c.files[0]).filename(), "a");
  EXPECT_EQ(fs::path(c.files[2]).filename(), "c");
  auto bytes = [](const Tensor& t) {
    std::string s;
    for (auto v : t.to(DType::i64).to_vector<int64_t>())
      s.push_back(static_cast<char>(v));
    return s;
  };
  EXPECT_EQ(bytes(c.train) + bytes(c.validation), "hello world!!!!!!!!!");
  EXPECT_EQ(c.validation.numel(), 4);  // the last 20% of 20 bytes
  fs::remove_all(d);
}

TEST(TextCorpus, MissingOrEmptyInputIsAnIOError) {
  EXPECT_THROW(read_text_corpus("/nonexistent/loom/text"), IOError);
  const fs::path d = fresh_dir("empty");
  EXPECT_THROW(read_text_corpus(d.string()), IOError);
  write(d / "f", "");
  EXPECT_THROW(read_text_corpus((d / "f").string()), IOError);
  fs::remove_all(d);
}

TEST(TokenWindows, TargetsAreTheNextTokens) {
  Tensor t = Tensor::from_vector<uint8_t>({10, 11, 12, 13, 14, 15, 16}, {7});
  TokenWindows every(t, 3);
  EXPECT_EQ(every.size(), 4);  // starts 0..3: each needs 3 inputs and the next token
  Batch b = every.batch({3, 0});
  EXPECT_EQ(b.input.dtype(), DType::i64);
  EXPECT_EQ(b.input.to_vector<int64_t>(), (std::vector<int64_t>{13, 14, 15, 10, 11, 12}));
  EXPECT_EQ(b.target.to_vector<int64_t>(), (std::vector<int64_t>{14, 15, 16, 11, 12, 13}));
  TokenWindows disjoint(t, 3, 3);
  EXPECT_EQ(disjoint.size(), 2);
  EXPECT_EQ(disjoint.get(1).input.to_vector<int64_t>(), (std::vector<int64_t>{13, 14, 15}));
  EXPECT_THROW(every.batch({4}), IndexError);
  EXPECT_THROW(TokenWindows(t, 7), ValueError);  // no room for a target
}

}  // namespace
}  // namespace loom::data
