#include "loom/data/idx.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "idx_test_util.h"
#include "loom/core/generator.h"
#include "support/test_support.h"

namespace loom::data {
namespace {

using loom::testing::gzip_bytes;
using loom::testing::idx_header;
using loom::testing::idx_ubyte;
using loom::testing::TempDir;
using loom::testing::write_file;

// Runs read_idx expecting an IOError whose message contains `path` and `fragment`.
void expect_idx_error(const std::string& path, const std::string& fragment, const std::string& contents = "data") {
  try {
    read_idx(path, contents);
    FAIL() << "read_idx(" << path << ") did not throw; expected: " << fragment;
  } catch (const IOError& e) {
    EXPECT_NE(e.message().find(path), std::string::npos) << e.message();
    EXPECT_NE(e.message().find(fragment), std::string::npos) << e.message();
  }
}

TEST(Idx, ReadsUbytePlainAndGzip) {
  TempDir dir;
  const std::string bytes = idx_ubyte({3, 4, 5});
  write_file(dir.file("plain"), bytes);
  write_file(dir.file("packed.gz"), gzip_bytes(bytes));
  for (const std::string name : {"plain", "packed.gz"}) {
    Tensor t = read_idx(dir.file(name));
    EXPECT_EQ(t.dtype(), DType::u8);
    EXPECT_EQ(t.shape(), (Shape{3, 4, 5}));
    auto v = t.to_vector<uint8_t>();
    for (size_t i = 0; i < v.size(); ++i)
      ASSERT_EQ(v[i], i % 256) << name;
  }
}

TEST(Idx, DetectsGzipByMagicNotName) {
  TempDir dir;
  write_file(dir.file("no_suffix"), gzip_bytes(idx_ubyte({7})));
  EXPECT_EQ(read_idx(dir.file("no_suffix")).shape(), (Shape{7}));
}

TEST(Idx, ReadsConcatenatedGzipMembers) {
  TempDir dir;
  const std::string bytes = idx_ubyte({100});
  write_file(dir.file("multi.gz"), gzip_bytes(bytes.substr(0, 30)) + gzip_bytes(bytes.substr(30)));
  auto v = read_idx(dir.file("multi.gz")).to_vector<uint8_t>();
  ASSERT_EQ(v.size(), 100u);
  EXPECT_EQ(v[99], 99);
}

TEST(Idx, WriteReadRoundTripEveryType) {
  TempDir dir;
  std::vector<Tensor> tensors = {
      Tensor::from_vector<uint8_t>({0, 1, 255, 7}, {2, 2}),
      Tensor::from_vector<int8_t>({-128, -1, 0, 127}, {4}),
      Tensor::from_vector<int32_t>({-2147483647 - 1, -5, 0, 2147483647, 9, 10}, {3, 2}),
      Tensor::from_vector<float>({-1.5f, 0.0f, 3.25f, 1e-30f}, {1, 4}),
      Tensor::from_vector<double>({-1e300, 0.1, 2.5}, {3}),
  };
  for (size_t k = 0; k < tensors.size(); ++k) {
    const std::string path = dir.file("t" + std::to_string(k));
    write_idx(path, tensors[k]);
    Tensor back = read_idx(path);
    EXPECT_EQ(back.dtype(), tensors[k].dtype());
    EXPECT_EQ(back.shape(), tensors[k].shape());
    EXPECT_EQ(std::memcmp(back.raw_data(), tensors[k].raw_data(), back.nbytes()), 0) << dtype_name(back.dtype());
  }
}

TEST(Idx, ShortBecomesI32BigEndian) {
  TempDir dir;
  std::string bytes = idx_header(0x0B, {3});
  bytes += std::string("\x00\x01\xff\xfe\x80\x00", 6);  // 1, -2, -32768
  write_file(dir.file("s"), bytes);
  Tensor t = read_idx(dir.file("s"));
  EXPECT_EQ(t.dtype(), DType::i32);
  EXPECT_EQ(t.to_vector<int32_t>(), (std::vector<int32_t>{1, -2, -32768}));
}

TEST(Idx, MissingFile) {
  TempDir dir;
  expect_idx_error(dir.file("nope"), "cannot open");
}

TEST(Idx, EmptyAndTooShort) {
  TempDir dir;
  write_file(dir.file("empty"), "");
  expect_idx_error(dir.file("empty"), "too short");
  write_file(dir.file("header_cut"), idx_header(0x08, {5, 5}).substr(0, 9));
  expect_idx_error(dir.file("header_cut"), "truncated");
}

TEST(Idx, BadMagic) {
  TempDir dir;
  write_file(dir.file("text"), "hello world, this is not IDX");
  expect_idx_error(dir.file("text"), "bad magic");
}

TEST(Idx, UnsupportedType) {
  TempDir dir;
  write_file(dir.file("t"), idx_header(0x0A, {2}) + "ab");
  expect_idx_error(dir.file("t"), "unsupported IDX element type 0x0a");
}

TEST(Idx, ZeroAndAbsurdDimensions) {
  TempDir dir;
  write_file(dir.file("nodims"), idx_header(0x08, {}));
  expect_idx_error(dir.file("nodims"), "0 dimensions");
  write_file(dir.file("zero"), idx_header(0x08, {4, 0}));
  expect_idx_error(dir.file("zero"), "dimension 1 is 0");
  // 2^32-1 cubed would overflow 64 bits if multiplied unchecked.
  write_file(dir.file("huge"), idx_header(0x0E, {0xffffffffu, 0xffffffffu, 0xffffffffu}) + "x");
  expect_idx_error(dir.file("huge"), "the header is corrupt");
}

TEST(Idx, TruncatedDataNamesTheSizes) {
  TempDir dir;
  std::string bytes = idx_ubyte({60000, 28, 28}).substr(0, 16 + 1234);
  write_file(dir.file("images"), bytes);
  expect_idx_error(dir.file("images"), "expected 47040000 bytes of image data, found 1234; the file is truncated",
                   "image data");
  write_file(dir.file("images.gz"), gzip_bytes(bytes));
  expect_idx_error(dir.file("images.gz"), "expected 47040000 bytes of image data, found 1234", "image data");
}

TEST(Idx, TrailingGarbage) {
  TempDir dir;
  write_file(dir.file("extra"), idx_ubyte({4}) + "junk");
  expect_idx_error(dir.file("extra"), "4 bytes of trailing data");
  write_file(dir.file("extra.gz"), gzip_bytes(idx_ubyte({4})) + "junk!");
  expect_idx_error(dir.file("extra.gz"), "5 bytes of trailing data after the gzip stream");
}

TEST(Idx, TruncatedGzipStream) {
  TempDir dir;
  std::string gz = gzip_bytes(idx_ubyte({50, 50}));
  write_file(dir.file("cut.gz"), gz.substr(0, gz.size() / 2));
  expect_idx_error(dir.file("cut.gz"), "the gzip stream ends early");
  // Losing only the 8-byte trailer (CRC and size) is still a truncation.
  write_file(dir.file("notrailer.gz"), gz.substr(0, gz.size() - 8));
  expect_idx_error(dir.file("notrailer.gz"), "truncated");
}

TEST(Idx, CorruptGzipStream) {
  TempDir dir;
  std::string gz = gzip_bytes(idx_ubyte({50, 50}));
  // Damage the deflate data (past the 10-byte gzip header); the CRC catches
  // anything the block decoder does not.
  for (size_t i = 12; i < gz.size() - 8; i += 3)
    gz[i] = static_cast<char>(gz[i] ^ 0x5a);
  write_file(dir.file("bad.gz"), gz);
  expect_idx_error(dir.file("bad.gz"), "corrupt gzip stream");
}

TEST(Idx, CorruptGzipChecksum) {
  TempDir dir;
  std::string gz = gzip_bytes(idx_ubyte({50, 50}));
  gz[gz.size() - 6] = static_cast<char>(gz[gz.size() - 6] ^ 1);  // CRC32
  write_file(dir.file("crc.gz"), gz);
  expect_idx_error(dir.file("crc.gz"), "corrupt gzip stream");
}

}  // namespace
}  // namespace loom::data

namespace loom::data {
namespace {

// Damaged files (plain and gzip) must give an IOError, never a crash or a huge allocation.
TEST(Idx, RandomDamageNeverCrashes) {
  TempDir dir;
  const std::string plain = idx_ubyte({20, 6, 6});
  const std::string gz = gzip_bytes(plain);
  Generator gen(7);
  int errors = 0;
  for (int round = 0; round < 400; ++round) {
    std::string bytes = round % 2 ? gz : plain;
    const int flips = 1 + static_cast<int>(gen.below(3));
    for (int i = 0; i < flips; ++i) {
      const size_t limit = gen.below(3) == 0 ? bytes.size() : std::min<size_t>(bytes.size(), 24);
      bytes[gen.below(limit)] = static_cast<char>(gen.below(256));
    }
    if (gen.below(5) == 0)
      bytes.resize(gen.below(bytes.size()));
    write_file(dir.file("bad"), bytes);
    try {
      read_idx(dir.file("bad"));
    } catch (const IOError&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, 150);
}

}  // namespace
}  // namespace loom::data
