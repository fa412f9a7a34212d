#include "loom/data/mnist.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>

#include "idx_test_util.h"
#include "support/test_support.h"

namespace loom::data {
namespace {

using loom::testing::gzip_bytes;
using loom::testing::idx_header;
using loom::testing::TempDir;
using loom::testing::write_file;

std::string images(uint32_t n) {
  std::string b = idx_header(0x08, {n, 28, 28});
  for (uint32_t i = 0; i < n * 784; ++i)
    b.push_back(static_cast<char>(i % 256));
  return b;
}
std::string labels(const std::vector<uint8_t>& values) {
  std::string b = idx_header(0x08, {static_cast<uint32_t>(values.size())});
  for (uint8_t v : values)
    b.push_back(static_cast<char>(v));
  return b;
}

void expect_io_error(const std::function<void()>& fn, const std::vector<std::string>& fragments) {
  try {
    fn();
    FAIL() << "no error";
  } catch (const IOError& e) {
    for (const auto& f : fragments)
      EXPECT_NE(e.message().find(f), std::string::npos) << e.message();
  }
}

TEST(Mnist, LoadsGzipAndPlainFiles) {
  TempDir dir;
  write_file(dir.file("train-images-idx3-ubyte.gz"), gzip_bytes(images(3)));
  write_file(dir.file("train-labels-idx1-ubyte.gz"), gzip_bytes(labels({9, 0, 3})));
  write_file(dir.file("t10k-images-idx3-ubyte"), images(2));
  write_file(dir.file("t10k-labels-idx1-ubyte"), labels({1, 2}));

  auto train = load_fashion_mnist(dir.path().string(), true);
  EXPECT_EQ(train->size(), 3);
  EXPECT_EQ(train->inputs().shape(), (Shape{3, 1, 28, 28}));
  EXPECT_EQ(train->inputs().dtype(), DType::f32);
  EXPECT_EQ(train->targets().dtype(), DType::i64);
  EXPECT_EQ(train->targets().to_vector<int64_t>(), (std::vector<int64_t>{9, 0, 3}));
  auto x = train->inputs().to_vector<float>();
  EXPECT_EQ(x[0], 0.0f);
  EXPECT_EQ(x[255], 1.0f);
  EXPECT_EQ(x[100], 100.0f / 255.0f);

  auto test = load_mnist(dir.path().string(), false);
  EXPECT_EQ(test->size(), 2);
}

TEST(Mnist, MissingFilesListWhatWasTried) {
  TempDir dir;
  const std::string base = dir.file("train-images-idx3-ubyte");
  expect_io_error([&] { load_fashion_mnist(dir.path().string(), true); }, {base + ".gz", base});
}

TEST(Mnist, CountMismatchNamesBothFiles) {
  TempDir dir;
  write_file(dir.file("train-images-idx3-ubyte"), images(3));
  write_file(dir.file("train-labels-idx1-ubyte"), labels({1, 2}));
  expect_io_error([&] { load_fashion_mnist(dir.path().string(), true); },
                  {dir.file("train-images-idx3-ubyte"), dir.file("train-labels-idx1-ubyte"), "3 images", "2 labels"});
}

TEST(Mnist, LabelOutOfRange) {
  TempDir dir;
  write_file(dir.file("train-images-idx3-ubyte"), images(2));
  write_file(dir.file("train-labels-idx1-ubyte"), labels({1, 10}));
  expect_io_error([&] { load_fashion_mnist(dir.path().string(), true); },
                  {dir.file("train-labels-idx1-ubyte"), "label 1 is 10"});
}

TEST(Mnist, WrongImageShape) {
  TempDir dir;
  write_file(dir.file("train-images-idx3-ubyte"), loom::testing::idx_ubyte({2, 32, 32}));
  write_file(dir.file("train-labels-idx1-ubyte"), labels({1, 2}));
  expect_io_error([&] { load_fashion_mnist(dir.path().string(), true); },
                  {dir.file("train-images-idx3-ubyte"), "[N, 28, 28]", "[2, 32, 32]"});
}

TEST(Mnist, TruncatedImagesNameTheFile) {
  TempDir dir;
  write_file(dir.file("train-images-idx3-ubyte.gz"), gzip_bytes(images(3).substr(0, 1000)));
  write_file(dir.file("train-labels-idx1-ubyte.gz"), gzip_bytes(labels({1, 2, 3})));
  expect_io_error([&] { load_fashion_mnist(dir.path().string(), true); },
                  {dir.file("train-images-idx3-ubyte.gz"), "expected 2352 bytes of image data, found 984"});
}

// load_fashion_mnist_bytes keeps the bytes and converts while gathering: the same
// samples, bit for bit, from every way of taking them.
TEST(Mnist, BytesLoaderGivesTheSameSamples) {
  TempDir dir;
  write_file(dir.file("train-images-idx3-ubyte.gz"), gzip_bytes(images(5)));
  write_file(dir.file("train-labels-idx1-ubyte.gz"), gzip_bytes(labels({9, 0, 3, 1, 2})));
  auto floats = load_fashion_mnist(dir.path().string(), true);
  auto bytes = load_fashion_mnist_bytes(dir.path().string(), true);
  EXPECT_EQ(bytes->inputs().dtype(), DType::u8);
  EXPECT_EQ(bytes->stored_inputs(), StoredInputs::unit_bytes);
  auto same = [](const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && a.dtype() == b.dtype() && a.to_vector<float>() == b.to_vector<float>();
  };
  const std::vector<int64_t> order{4, 0, 2, 2};
  EXPECT_TRUE(same(bytes->batch(order).input, floats->batch(order).input));
  EXPECT_EQ(bytes->batch(order).target.to_vector<int64_t>(), floats->batch(order).target.to_vector<int64_t>());
  EXPECT_TRUE(same(bytes->batch_range(1, 4).input, floats->batch_range(1, 4).input));
  EXPECT_TRUE(same(bytes->get(3).input, floats->get(3).input));
}

TEST(Mnist, RealFashionMnist) {
  const std::string dir = kFashionMnistDir;
  if (!std::filesystem::exists(std::filesystem::path(dir) / "train-images-idx3-ubyte.gz") &&
      !std::filesystem::exists(std::filesystem::path(dir) / "train-images-idx3-ubyte")) {
    GTEST_SKIP() << "Fashion-MNIST is not installed in " << dir << " (scripts/setup.sh puts it there)";
  }
  auto train = load_fashion_mnist(dir, true);
  auto test = load_fashion_mnist(dir, false);
  ASSERT_EQ(train->size(), 60000);
  ASSERT_EQ(test->size(), 10000);
  auto first = [](const TensorDataset& ds) {
    auto t = ds.targets().to_vector<int64_t>();
    return std::vector<int64_t>(t.begin(), t.begin() + 10);
  };
  EXPECT_EQ(first(*train), (std::vector<int64_t>{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}));
  EXPECT_EQ(first(*test), (std::vector<int64_t>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7}));
  auto x = train->inputs().to_vector<float>();
  EXPECT_EQ(*std::min_element(x.begin(), x.end()), 0.0f);
  EXPECT_EQ(*std::max_element(x.begin(), x.end()), 1.0f);
  double first_image = 0;
  for (int i = 0; i < 784; ++i)
    first_image += x[static_cast<size_t>(i)];
  EXPECT_NEAR(first_image, 76247.0 / 255.0, 1e-3);  // sum of its bytes, from Python's gzip
}

}  // namespace
}  // namespace loom::data
