#include "loom/data/text.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "loom/core/error.h"

namespace loom::data {
namespace fs = std::filesystem;

namespace {

std::vector<std::string> text_files(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(path, ec);
  if (ec || !fs::exists(st))
    LOOM_THROW(IOError, "text data ", path, ": no such file or directory");
  if (!fs::is_directory(fs::status(path, ec)))
    return {path};
  std::vector<std::string> files;
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_symlink() || !it->is_regular_file())
      continue;  // fortunes' .u8 files are links to the plain ones
    if (it->path().extension() == ".dat")
      continue;  // strfile's binary index of a fortune file
    files.push_back(it->path().string());
  }
  if (ec)
    LOOM_THROW(IOError, "text data ", path, ": cannot list the directory: ", ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TextCorpus read_text_corpus(const std::string& path, double validation_fraction) {
  LOOM_CHECK(validation_fraction >= 0 && validation_fraction < 1, "read_text_corpus: validation_fraction must be in",
             " [0, 1), got ", validation_fraction);
  TextCorpus corpus;
  corpus.files = text_files(path);
  std::vector<uint8_t> bytes;
  for (const std::string& f : corpus.files) {
    std::ifstream in(f, std::ios::binary);
    if (!in.good())
      LOOM_THROW(IOError, "text data ", f, ": cannot open: ", std::strerror(errno));
    bytes.insert(bytes.end(), std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad())
      LOOM_THROW(IOError, "text data ", f, ": read error");
  }
  if (bytes.empty())
    LOOM_THROW(IOError, "text data ", path, ": no bytes to train on",
               corpus.files.empty() ? " (the directory holds no regular files)" : "");
  const auto n = static_cast<int64_t>(bytes.size());
  Tensor all = Tensor::empty({n}, DType::u8);
  std::memcpy(all.raw_data(), bytes.data(), bytes.size());
  const int64_t n_val = static_cast<int64_t>(static_cast<double>(n) * validation_fraction);
  corpus.train = all.as_strided({n - n_val}, {1}, 0);
  corpus.validation = all.as_strided({n_val}, {1}, n - n_val);
  return corpus;
}

TokenWindows::TokenWindows(Tensor tokens, int64_t context, int64_t stride)
    : tokens_(tokens.contiguous()), context_(context), stride_(stride) {
  LOOM_CHECK(tokens_.dtype() == DType::u8 && tokens_.dim() == 1, "TokenWindows: expected u8 [n] bytes, got ",
             dtype_name(tokens_.dtype()), " ", shape_str(tokens_.shape()));
  LOOM_CHECK(context > 0 && stride > 0, "TokenWindows: context and stride must be positive, got ", context, " and ",
             stride);
  const int64_t n = tokens_.size(0);
  LOOM_CHECK(n >= context + 1, "TokenWindows: ", n, " tokens hold no window of ", context,
             " inputs and their next-token targets (need at least ", context + 1, ")");
  size_ = (n - context - 1) / stride + 1;
}

Example TokenWindows::get(int64_t index) const {
  Batch b = batch({index});
  return {b.input.view({context_}), b.target.view({context_})};
}

Batch TokenWindows::batch(const std::vector<int64_t>& indices) const {
  const auto rows = static_cast<int64_t>(indices.size());
  Batch out{Tensor::empty({rows, context_}, DType::i64), Tensor::empty({rows, context_}, DType::i64)};
  const auto* src = static_cast<const uint8_t*>(tokens_.raw_data());
  auto* in = static_cast<int64_t*>(out.input.raw_data());
  auto* target = static_cast<int64_t*>(out.target.raw_data());
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t i = indices[static_cast<size_t>(r)];
    if (i < 0 || i >= size_)
      LOOM_THROW(IndexError, "TokenWindows: window ", i, " is outside [0, ", size_, ")");
    const uint8_t* w = src + i * stride_;
    for (int64_t t = 0; t < context_; ++t) {
      in[r * context_ + t] = w[t];
      target[r * context_ + t] = w[t + 1];
    }
  }
  return out;
}

}  // namespace loom::data
