#pragma once
// Parsing one chunk of CSV rows straight into the output columns. Private to the
// data layer; see NOTE [Parallel CSV] in csv_reader.cpp for how chunks are cut and
// stitched back together.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "csv_scan.h"

namespace loom::data::csv {

// What the parser does with a column's fields.
enum class Mode : uint8_t {
  infer,    // numbers while they parse; on the first non-number switch to label
  numeric,  // forced numeric: a non-number is a ValueError
  label,    // categorical: store a chunk-local category code
  skip,     // only step over the field (used when re-reading a chunk for labels)
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Labels seen in one chunk, numbered in order of first appearance. The reader
// merges these into one sorted category list per column afterwards.
struct LabelDict {
  // Most categorical columns have a handful of labels; comparing with each is then
  // cheaper than hashing, so the hash index is only built past this many.
  static constexpr size_t kLinearLabels = 16;
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> index;
  std::vector<std::string> labels;

  int32_t code(std::string_view label) {
    if (labels.size() <= kLinearLabels) {
      for (size_t i = 0; i < labels.size(); ++i) {
        if (labels[i] == label)
          return static_cast<int32_t>(i);
      }
      return add(label);
    }
    auto it = index.find(label);
    return it != index.end() ? it->second : add(label);
  }

 private:
  int32_t add(std::string_view label) {
    const auto id = static_cast<int32_t>(labels.size());
    labels.emplace_back(label);
    if (labels.size() > kLinearLabels) {
      if (index.empty()) {
        for (size_t i = 0; i < labels.size(); ++i)
          index.emplace(labels[i], static_cast<int32_t>(i));
      } else {
        index.emplace(labels.back(), id);
      }
    }
    return id;
  }
};

struct ColumnResult {
  Mode mode = Mode::infer;  // at the end of the chunk
  // True when every non-missing value of the chunk went through `dict`, so the
  // chunk need not be re-read if the column turns out categorical.
  bool labels_complete = false;
  LabelDict dict;
};

enum class ChunkStatus : uint8_t {
  ok,
  // The chunk ended inside a quoted field: its end was not a row boundary, so the
  // chunks after it started in the wrong state and must be parsed again.
  spilled,
  error,
};

struct ChunkError {
  bool value_error = false;  // ValueError (a value) rather than IOError (the structure)
  int64_t line = 0;          // 0-based, relative to the chunk's first line
  std::string message;
};

struct ChunkResult {
  ChunkStatus status = ChunkStatus::ok;
  int64_t rows = 0;
  ChunkError error;
  std::vector<ColumnResult> columns;
};

struct ChunkTask {
  const char* begin = nullptr;
  const char* end = nullptr;
  bool is_last = false;  // reaching `end` inside quotes is a real error, not a bad split
  int64_t capacity = 0;  // rows the destination has room for
  int64_t max_rows = 0;  // stop after this many rows (0 = no limit)
};

struct Layout {
  const Dialect* dialect = nullptr;
  const std::vector<std::string>* names = nullptr;
  bool has_header = true;
};

// Parses the rows of `task` into dst[c][0 .. rows): numbers, or chunk-local codes
// for label columns, NaN for missing. dst[c] may be null for Mode::skip columns.
// Never throws for bad input: problems come back in the result.
ChunkResult parse_chunk(const ChunkTask& task, const Layout& layout, const std::vector<Mode>& modes,
                        const std::vector<double*>& dst);

}  // namespace loom::data::csv
