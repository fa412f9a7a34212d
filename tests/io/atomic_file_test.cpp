#include "loom/io/atomic_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "support/test_support.h"

namespace loom::io {
namespace {

using loom::testing::read_file;
using loom::testing::TempDir;
using loom::testing::write_file;

// Files in `dir` other than the ones named; a leftover "<path>.tmp.<pid>" shows up here.
std::vector<std::string> entries(const TempDir& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(AtomicFile, WritesAndReplaces) {
  TempDir dir;
  const std::string path = dir.file("out.txt");
  write_text_file_atomically(path, "first");
  EXPECT_EQ(read_file(path), "first");
  write_file_atomically(path, [&](std::FILE* f) { write_all(f, "second", 6, path); });
  EXPECT_EQ(read_file(path), "second");
  EXPECT_EQ(entries(dir), std::vector<std::string>{"out.txt"});
}

TEST(AtomicFile, FailingWriterLeavesThePreviousFile) {
  TempDir dir;
  const std::string path = dir.file("ckpt");
  write_file(path, "old contents");
  EXPECT_THROW(write_file_atomically(path,
                                     [&](std::FILE* f) {
                                       write_all(f, "half of the new", 15, path);
                                       LOOM_THROW(IOError, "simulated failure half way");
                                     }),
               IOError);
  EXPECT_EQ(read_file(path), "old contents");
  EXPECT_EQ(entries(dir), std::vector<std::string>{"ckpt"}) << "the temporary file must be removed";
}

TEST(AtomicFile, ForeignExceptionsBecomeIOError) {
  TempDir dir;
  const std::string path = dir.file("x");
  try {
    write_file_atomically(path, [](std::FILE*) { throw std::runtime_error("disk on fire"); });
    FAIL() << "no error";
  } catch (const IOError& e) {
    EXPECT_NE(e.message().find(path), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("disk on fire"), std::string::npos) << e.message();
  }
  EXPECT_TRUE(entries(dir).empty());
}

TEST(AtomicFile, MissingDirectoryIsIOError) {
  TempDir dir;
  const std::string path = dir.file("no/such/dir/file");
  try {
    write_text_file_atomically(path, "x");
    FAIL() << "no error";
  } catch (const IOError& e) {
    EXPECT_NE(e.message().find(path), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace loom::io
