#include "csv_chunk.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "loom/core/error.h"

namespace loom::data::csv {
namespace {

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

class ChunkParser {
 public:
  ChunkParser(const ChunkTask& task, const Layout& layout, const std::vector<Mode>& modes,
              const std::vector<double*>& dst)
      : task_(task), d_(*layout.dialect), layout_(layout), mode_(modes), dst_(dst) {
    result_.columns.resize(modes.size());
    for (size_t c = 0; c < modes.size(); ++c)
      result_.columns[c].labels_complete = modes[c] == Mode::label;
  }

  ChunkResult run();

 private:
  // Returns false (with result_ filled in) when the chunk cannot go on.
  bool parse_row();
  bool parse_field_slow(size_t c, double* out);
  void switch_to_label(size_t c);
  int64_t count_fields_to_line_end();
  bool fail(bool value_error, int64_t line, std::string message);
  const std::string& name(size_t c) const { return (*layout_.names)[c]; }

  const ChunkTask& task_;
  const Dialect& d_;
  const Layout& layout_;
  std::vector<Mode> mode_;
  const std::vector<double*>& dst_;
  ChunkResult result_;
  const char* p_ = nullptr;
  int64_t line_ = 0;
  int64_t row_ = 0;
  RawField field_;
  std::string scratch_;
};

bool ChunkParser::fail(bool value_error, int64_t line, std::string message) {
  result_.status = ChunkStatus::error;
  result_.error = ChunkError{value_error, line, std::move(message)};
  return false;
}

// Once a column shows a non-number it is categorical; its earlier values in this
// chunk were stored as numbers, so unless they were all missing the chunk must be
// re-read for their labels (csv_reader.cpp does that).
void ChunkParser::switch_to_label(size_t c) {
  mode_[c] = Mode::label;
  bool any_number = false;
  for (int64_t r = 0; r < row_ && !any_number; ++r)
    any_number = !std::isnan(dst_[c][r]);
  result_.columns[c].labels_complete = !any_number;
}

bool ChunkParser::parse_field_slow(size_t c, double* out) {
  const int64_t field_line = line_;
  const char* const end = task_.end;
  ScanStatus status = scan_field(p_, end, d_, field_, line_);
  if (status == ScanStatus::unterminated) {
    if (!task_.is_last) {
      result_.status = ChunkStatus::spilled;
      return false;
    }
    return fail(false, field_line,
                loom::detail::concat("quoted field starting here is never closed (column '", name(c),
                                     "'); a quote inside a quoted field is written as two quotes"));
  }
  if (status == ScanStatus::junk_after_quote) {
    return fail(false, line_,
                loom::detail::concat("column '", name(c), "': unexpected ", describe_char(*p_),
                                     " after the closing quote of a quoted field; expected the delimiter or the end of "
                                     "the line (a quote inside a quoted field is written as two quotes)"));
  }
  Mode m = mode_[c];
  if (m == Mode::skip)
    return true;
  std::string_view value = field_value(field_, d_.quote, scratch_);
  std::string_view trimmed = trim(value, d_);
  if (d_.is_missing(trimmed)) {
    *out = kMissing;
    return true;
  }
  if (m != Mode::label) {
    double v;
    if (parse_number(trimmed, v)) {
      *out = v;
      return true;
    }
    if (m == Mode::numeric) {
      constexpr size_t kShown = 40;
      std::string shown(value.substr(0, kShown));
      return fail(true, field_line,
                  loom::detail::concat("column '", name(c), "': '", shown, value.size() > kShown ? "...'" : "'",
                                       " is not a number (the column is forced numeric)"));
    }
    switch_to_label(c);
  }
  *out = static_cast<double>(result_.columns[c].dict.code(value));
  return true;
}

// After too many fields: how many the row really has, for the message.
int64_t ChunkParser::count_fields_to_line_end() {
  int64_t n = 1;
  RawField f;
  int64_t lines = line_;
  for (;;) {
    if (scan_field(p_, task_.end, d_, f, lines) != ScanStatus::ok)
      return n;
    if (p_ < task_.end && *p_ == d_.delim) {
      ++p_;
      ++n;
      continue;
    }
    return n;
  }
}

bool ChunkParser::parse_row() {
  const char* const end = task_.end;
  const size_t ncols = mode_.size();
  const int64_t row_line = line_;
  // NOTE: the reader sizes capacity from the newline count and the bytes a row
  // needs, so this holds for any text; checked because a wrong bound would write
  // out of bounds.
  LOOM_ASSERT(row_ < task_.capacity);
  size_t c = 0;
  for (;;) {
    const Mode m = mode_[c];
    double* out = dst_[c] == nullptr ? nullptr : dst_[c] + row_;
    bool done = false;
    // Fast path: most fields are plain numbers; parse straight from the text and
    // check that the number is the whole field.
    if ((m == Mode::infer || m == Mode::numeric) && d_.number_fast_path) {
      double v;
      const char* ptr = parse_plain_decimal(p_, end, v);
      if (ptr == nullptr || !at_field_end(ptr, end, d_.delim)) {
        auto [q, ec] = std::from_chars(p_, end, v);
        ptr = ec == std::errc() ? q : nullptr;
      }
      if (ptr != nullptr && at_field_end(ptr, end, d_.delim)) {
        *out = v;
        p_ = ptr;
        done = true;
      }
    }
    if (!done && !parse_field_slow(c, out))
      return false;
    if (p_ < end && *p_ == d_.delim) {
      ++p_;
      if (++c == ncols) {
        int64_t found = static_cast<int64_t>(ncols) + count_fields_to_line_end();
        return fail(false, row_line,
                    loom::detail::concat("expected ", ncols, " fields (as in the ",
                                         layout_.has_header ? "header" : "first row", "), found ", found));
      }
      continue;
    }
    break;
  }
  if (c + 1 != ncols) {
    return fail(false, row_line,
                loom::detail::concat("expected ", ncols, " fields (as in the ",
                                     layout_.has_header ? "header" : "first row", "), found ", c + 1));
  }
  skip_line_end(p_, end, line_);
  ++row_;
  return true;
}

ChunkResult ChunkParser::run() {
  p_ = task_.begin;
  const char* const end = task_.end;
  while (p_ < end) {
    if (task_.max_rows > 0 && row_ >= task_.max_rows)
      break;
    if (at_line_end(p_, end)) {  // blank line
      skip_line_end(p_, end, line_);
      continue;
    }
    if (!parse_row())
      break;
  }
  result_.rows = row_;
  for (size_t c = 0; c < mode_.size(); ++c)
    result_.columns[c].mode = mode_[c];
  return std::move(result_);
}

}  // namespace

ChunkResult parse_chunk(const ChunkTask& task, const Layout& layout, const std::vector<Mode>& modes,
                        const std::vector<double*>& dst) {
  return ChunkParser(task, layout, modes, dst).run();
}

}  // namespace loom::data::csv
