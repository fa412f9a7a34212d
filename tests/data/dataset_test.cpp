#include "loom/data/dataset.h"

#include <gtest/gtest.h>

namespace loom::data {
namespace {

TensorDataset make_dataset(int64_t n) {
  std::vector<float> x(static_cast<size_t>(n * 6));
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(i);
  std::vector<int64_t> y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    y[static_cast<size_t>(i)] = i * 10;
  return TensorDataset(Tensor::from_vector(x, {n, 2, 3}), Tensor::from_vector(y, {n}));
}

TEST(TensorDataset, GetReturnsRows) {
  TensorDataset ds = make_dataset(5);
  EXPECT_EQ(ds.size(), 5);
  Example e = ds.get(3);
  EXPECT_EQ(e.input.shape(), (Shape{2, 3}));
  EXPECT_EQ(e.target.shape(), Shape{});
  EXPECT_EQ(e.input.to_vector<float>(), (std::vector<float>{18, 19, 20, 21, 22, 23}));
  EXPECT_EQ(e.target.item<int64_t>(), 30);
}

TEST(TensorDataset, BatchGathersInGivenOrder) {
  TensorDataset ds = make_dataset(5);
  Batch b = ds.batch({4, 0, 4});
  EXPECT_EQ(b.input.shape(), (Shape{3, 2, 3}));
  EXPECT_TRUE(b.input.is_contiguous());
  EXPECT_EQ(b.target.to_vector<int64_t>(), (std::vector<int64_t>{40, 0, 40}));
  auto x = b.input.to_vector<float>();
  EXPECT_EQ(x[0], 24);
  EXPECT_EQ(x[6], 0);
  EXPECT_EQ(x[17], 29);
}

TEST(TensorDataset, BatchOfNonContiguousInputs) {
  // A transposed tensor is made contiguous once, at construction.
  Tensor x = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor xt = x.as_strided({3, 2}, {1, 3}, 0);
  TensorDataset ds(xt, Tensor::arange(3));
  EXPECT_EQ(ds.batch({2, 1}).input.to_vector<float>(), (std::vector<float>{2, 5, 1, 4}));
}

TEST(TensorDataset, Errors) {
  EXPECT_THROW(TensorDataset(Tensor::zeros({4, 2}), Tensor::zeros({3}, DType::i64)), ValueError);
  TensorDataset ds = make_dataset(5);
  EXPECT_THROW(ds.get(5), IndexError);
  EXPECT_THROW(ds.get(-1), IndexError);
  EXPECT_THROW(ds.batch({0, 5}), IndexError);
  EXPECT_THROW(ds.batch({}), ValueError);
}

TEST(TensorDataset, BatchRangeIsAViewEqualToTheGather) {
  TensorDataset ds = make_dataset(5);
  Batch view = ds.batch_range(1, 4);
  Batch copy = ds.batch({1, 2, 3});
  EXPECT_EQ(view.input.shape(), copy.input.shape());
  EXPECT_EQ(view.input.to_vector<float>(), copy.input.to_vector<float>());
  EXPECT_EQ(view.target.to_vector<int64_t>(), copy.target.to_vector<int64_t>());
  // No copy: the batch's first element is the dataset's row 1.
  EXPECT_EQ(view.input.data<float>(), ds.inputs().data<float>() + 6);
  EXPECT_EQ(view.target.data<int64_t>(), ds.targets().data<int64_t>() + 1);
  EXPECT_THROW(ds.batch_range(3, 6), IndexError);
  EXPECT_THROW(ds.batch_range(2, 2), IndexError);
  EXPECT_THROW(ds.batch_range(-1, 2), IndexError);
}

TEST(TensorDataset, UnitBytesConvertAsTheyAreGathered) {
  std::vector<uint8_t> raw(2 * 300);
  for (size_t i = 0; i < raw.size(); ++i)
    raw[i] = static_cast<uint8_t>(i * 7);
  TensorDataset ds(Tensor::from_vector(raw, {2, 300}), Tensor::arange(2), StoredInputs::unit_bytes);
  auto want = [&](int64_t row) {
    std::vector<float> out;
    for (int64_t j = 0; j < 300; ++j)
      out.push_back(static_cast<float>(raw[static_cast<size_t>(row * 300 + j)]) / 255.0f);
    return out;
  };
  Batch b = ds.batch({1, 0});
  EXPECT_EQ(b.input.dtype(), DType::f32);
  std::vector<float> both = want(1), second = want(0);
  both.insert(both.end(), second.begin(), second.end());
  EXPECT_EQ(b.input.to_vector<float>(), both);
  EXPECT_EQ(ds.get(1).input.to_vector<float>(), want(1));
  EXPECT_EQ(ds.get(1).input.shape(), Shape{300});
  EXPECT_EQ(ds.batch_range(0, 1).input.to_vector<float>(), want(0));
  EXPECT_THROW(TensorDataset(Tensor::zeros({2, 3}), Tensor::arange(2), StoredInputs::unit_bytes), ValueError);
}

// A dataset that computes its samples; exercises the default Dataset::batch.
class SquaresDataset : public Dataset {
 public:
  int64_t size() const override { return 10; }
  Example get(int64_t i) const override {
    return {Tensor::full({2}, static_cast<double>(i * i)), Tensor::scalar(static_cast<double>(i), DType::i64)};
  }
};

TEST(Dataset, DefaultBatchStacksExamples) {
  SquaresDataset ds;
  Batch b = ds.batch({3, 1});
  EXPECT_EQ(b.input.shape(), (Shape{2, 2}));
  EXPECT_EQ(b.input.to_vector<float>(), (std::vector<float>{9, 9, 1, 1}));
  EXPECT_EQ(b.target.to_vector<int64_t>(), (std::vector<int64_t>{3, 1}));
}

TEST(Dataset, DefaultBatchRangeStacksTheRange) {
  SquaresDataset ds;
  Batch b = ds.batch_range(8, 10);
  EXPECT_EQ(b.input.to_vector<float>(), (std::vector<float>{64, 64, 81, 81}));
  EXPECT_EQ(b.target.to_vector<int64_t>(), (std::vector<int64_t>{8, 9}));
  EXPECT_THROW(ds.batch_range(9, 11), IndexError);
}

class RaggedDataset : public SquaresDataset {
 public:
  Example get(int64_t i) const override { return {Tensor::zeros({i + 1}), Tensor::scalar(0, DType::i64)}; }
};

TEST(Dataset, DefaultBatchRejectsRaggedExamples) {
  RaggedDataset ds;
  try {
    ds.batch({1, 2});
    FAIL() << "no error";
  } catch (const ValueError& e) {
    EXPECT_NE(e.message().find("example 2 has input f32 [3] but example 1 has f32 [2]"), std::string::npos)
        << e.message();
  }
}

}  // namespace
}  // namespace loom::data
