#pragma once
// Text as bytes for byte-level language models (the `gpt` model's data).
//
//   loom::data::TextCorpus corpus = loom::data::read_text_corpus("/usr/share/games/fortunes");
//   auto train = std::make_shared<loom::data::TokenWindows>(corpus.train, 64);       // every window
//   auto val = std::make_shared<loom::data::TokenWindows>(corpus.validation, 64, 64); // disjoint windows
//
// A sample of TokenWindows is input = tokens[i, i + context) and target =
// tokens[i + 1, i + context + 1) as i64 [context] (next-byte prediction). Shuffled
// by the DataLoader (NOTE [Epoch order]), the training windows are random windows
// from a seeded generator: the same seed gives the same batches.
#include <cstdint>
#include <string>
#include <vector>

#include "loom/core/tensor.h"
#include "loom/data/dataset.h"

namespace loom::data {

struct TextCorpus {
  Tensor train, validation;  // u8 [n] views of one buffer: the first 90% and the last 10%
  std::vector<std::string> files;
};

// A file, or a directory's regular files (links and strfile's ".dat" indexes left
// out, subdirectories included) sorted by path and concatenated, as bytes.
// IOError naming the path when it cannot be read or holds no bytes;
// `validation_fraction` of the bytes (the end) is the validation split.
TextCorpus read_text_corpus(const std::string& path, double validation_fraction = 0.1);

class TokenWindows : public Dataset {
 public:
  // Windows of `context` tokens starting every `stride` tokens (1: every start).
  // ValueError when the tokens hold no window (fewer than context + 1).
  TokenWindows(Tensor tokens, int64_t context, int64_t stride = 1);
  int64_t size() const override { return size_; }
  Example get(int64_t index) const override;
  Batch batch(const std::vector<int64_t>& indices) const override;
  int64_t context() const { return context_; }

 private:
  Tensor tokens_;  // u8, contiguous
  int64_t context_, stride_, size_;
};

}  // namespace loom::data
