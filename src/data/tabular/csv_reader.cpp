// NOTE [Parallel CSV]
// The text after the header is cut into one chunk per thread, each cut just after a
// newline. Every chunk is parsed on its own thread straight into the final column
// arrays, at a row offset reserved for it beforehand: each chunk gets room for as
// many rows as it could possibly hold (its newline count, and its bytes divided by
// the bytes a row needs), so no thread waits for another, and the rows come out in
// file order whatever the thread count. Line numbers in errors come from the same
// per-chunk newline counts.
//
// A cut is only right when it is not inside a quoted field. When the text holds no
// quote character every newline is a row boundary; otherwise cuts are placed where
// the number of quotes before them is even, which is right for every RFC 4180 file.
// Each chunk also checks itself: chunk k+1 began in the right state exactly when
// chunk k (itself begun right) ended outside quotes. The first chunk that ends
// inside a quote ("spilled") is parsed again serially together with everything
// after it, so even a file with stray quotes gives the serial answer.
//
// Column types are decided after all chunks are done: a chunk switches a column to
// labels at its first non-number, and a column is categorical when any chunk did.
// Chunks that stored numbers for a column that turned out categorical are read
// again for that column's labels (rare: it needs a numeric-looking prefix). Each
// chunk numbers its labels locally; the reader then sorts the union into the
// column's categories and rewrites the codes.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <unordered_map>

#include "csv_chunk.h"
#include "csv_source.h"
#include "loom/core/error.h"
#include "loom/data/tabular/csv.h"
#include "loom/runtime/parallel.h"

namespace loom::data {
namespace {

using csv::ChunkResult;
using csv::ChunkStatus;
using csv::ChunkTask;
using csv::Dialect;
using csv::Mode;

// Below this, one thread parses faster than several can be started.
constexpr int64_t kMinAutoChunkBytes = int64_t{1} << 20;

struct Chunk {
  ChunkTask task;
  int64_t first_line = 1;  // 1-based line number of the chunk's first line
  int64_t row_offset = 0;  // where its rows go in the columns
};

void check_options(const CsvOptions& o) {
  auto is_newline = [](char c) { return c == '\n' || c == '\r'; };
  LOOM_CHECK(!is_newline(o.delimiter) && !is_newline(o.quote),
             "CsvOptions: the delimiter and the quote character cannot be a line ending");
  LOOM_CHECK(o.delimiter != o.quote, "CsvOptions: the delimiter and the quote character are both '", o.delimiter,
             "'; they must differ");
  LOOM_CHECK(o.max_rows >= 0, "CsvOptions: max_rows must be >= 0 (0 = all), found ", o.max_rows);
  LOOM_CHECK(o.skip_rows >= 0, "CsvOptions: skip_rows must be >= 0, found ", o.skip_rows);
  LOOM_CHECK(o.chunk_bytes >= 0, "CsvOptions: chunk_bytes must be >= 0 (0 = one chunk per thread), found ",
             o.chunk_bytes);
}

[[noreturn]] void throw_at(bool value_error, const std::string& source, int64_t line, const std::string& message) {
  if (value_error)
    LOOM_THROW(ValueError, source, ":", line, ": ", message);
  LOOM_THROW(IOError, source, ":", line, ": ", message);
}

// The fields of one line as strings (header names, or counting the first row).
std::vector<std::string> read_line_fields(const char*& p, const char* end, const Dialect& d, int64_t& line,
                                          const std::string& source) {
  std::vector<std::string> fields;
  std::string scratch;
  csv::RawField f;
  for (;;) {
    const int64_t field_line = line;
    csv::ScanStatus status = csv::scan_field(p, end, d, f, line);
    if (status == csv::ScanStatus::unterminated)
      throw_at(false, source, field_line, "quoted field starting here is never closed");
    if (status == csv::ScanStatus::junk_after_quote) {
      throw_at(
          false, source, line,
          loom::detail::concat("unexpected ", csv::describe_char(*p),
                               " after the closing quote of a quoted field; expected the delimiter or the end of the "
                               "line (a quote inside a quoted field is written as two quotes)"));
    }
    fields.emplace_back(csv::trim(csv::field_value(f, d.quote, scratch), d));
    if (p < end && *p == d.delim) {
      ++p;
      continue;
    }
    break;
  }
  csv::skip_line_end(p, end, line);
  return fields;
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::ostringstream os;
  constexpr size_t kMaxListed = 20;
  for (size_t i = 0; i < names.size() && i < kMaxListed; ++i)
    os << (i ? ", " : "") << "'" << names[i] << "'";
  if (names.size() > kMaxListed)
    os << ", ... (" << names.size() << " in all)";
  return os.str();
}

std::vector<std::string> column_names(const char*& p, const char* end, const Dialect& d, int64_t& line,
                                      const CsvOptions& options, const std::string& source) {
  if (!options.has_header) {
    const char* q = p;  // only count the first row's fields; it is data
    int64_t l = line;
    size_t n = read_line_fields(q, end, d, l, source).size();
    std::vector<std::string> names(n);
    for (size_t i = 0; i < n; ++i)
      names[i] = loom::detail::concat("c", i);
    return names;
  }
  const int64_t header_line = line;
  std::vector<std::string> names = read_line_fields(p, end, d, line, source);
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty())
      names[i] = loom::detail::concat("c", i);  // e.g. pandas' index column, written with an empty name
  }
  std::unordered_map<std::string_view, size_t> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    auto [it, fresh] = seen.emplace(names[i], i);
    if (!fresh) {
      throw_at(false, source, header_line,
               loom::detail::concat("column name '", names[i], "' appears twice in the header (fields ", it->second + 1,
                                    " and ", i + 1, "); column names must be unique"));
    }
  }
  return names;
}

std::vector<Mode> initial_modes(const std::vector<std::string>& names, const CsvOptions& options,
                                const std::string& source) {
  std::vector<Mode> modes(names.size(), Mode::infer);
  for (const auto& [name, type] : options.column_types) {
    auto it = std::find(names.begin(), names.end(), name);
    LOOM_CHECK(it != names.end(), "CsvOptions::column_types names '", name, "', which is not a column of ", source,
               "; the columns are ", quoted_list(names));
    modes[static_cast<size_t>(it - names.begin())] = type == ColumnType::numeric ? Mode::numeric : Mode::label;
  }
  return modes;
}

// std::count is not vectorised; counting into byte lanes 255 blocks at a time is,
// and runs at memory speed.
int64_t count_byte(const char* p, const char* end, char c) {
  constexpr int64_t kLanes = 64, kBlocks = 255;
  int64_t n = 0;
  while (end - p >= kLanes * kBlocks) {
    uint8_t lanes[kLanes] = {};
    for (int64_t b = 0; b < kBlocks; ++b, p += kLanes) {
      for (int64_t i = 0; i < kLanes; ++i)
        lanes[i] += p[i] == c;
    }
    for (int64_t i = 0; i < kLanes; ++i)
      n += lanes[i];
  }
  return n + std::count(p, end, c);
}

// Cut points (see NOTE [Parallel CSV]): begin, the cuts, end.
std::vector<const char*> cut_points(const char* begin, const char* end, int64_t chunk_bytes, char quote) {
  const int64_t size = end - begin;
  const int64_t n = std::max<int64_t>(1, (size + chunk_bytes - 1) / chunk_bytes);
  if (n == 1)
    return {begin, end};
  std::vector<const char*> nominal(static_cast<size_t>(n) + 1, end);
  for (int64_t k = 0; k < n; ++k)
    nominal[static_cast<size_t>(k)] = begin + static_cast<int64_t>(static_cast<double>(size) * k / n);
  // Quotes per nominal region, counted in parallel: their running parity says
  // whether a region starts inside a quoted field.
  std::vector<int64_t> quotes(static_cast<size_t>(n));
  runtime::parallel_for(0, n, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t k = lo; k < hi; ++k)
      quotes[static_cast<size_t>(k)] = count_byte(nominal[static_cast<size_t>(k)], nominal[k + 1], quote);
  });
  const bool has_quotes = std::any_of(quotes.begin(), quotes.end(), [](int64_t q) { return q > 0; });
  std::vector<const char*> cuts{begin};
  bool odd_at_nominal = false;
  for (int64_t k = 1; k < n; ++k) {
    odd_at_nominal ^= (quotes[static_cast<size_t>(k - 1)] & 1) != 0;
    const char* from = nominal[static_cast<size_t>(k)];
    if (from <= cuts.back())
      continue;  // the previous cut went past this one's region; merge them
    const char* cut = nullptr;
    if (!has_quotes) {
      const void* nl = std::memchr(from, '\n', static_cast<size_t>(end - from));
      if (nl != nullptr)
        cut = static_cast<const char*>(nl) + 1;
    } else {
      bool odd = odd_at_nominal;
      for (const char* q = from; q < end; ++q) {
        if (*q == quote) {
          odd = !odd;
        } else if (*q == '\n' && !odd) {
          cut = q + 1;
          break;
        }
      }
    }
    if (cut == nullptr || cut >= end)
      break;
    cuts.push_back(cut);
  }
  cuts.push_back(end);
  return cuts;
}

// The most rows [begin, end) can hold: a row ends in a newline (or the text's end)
// and has at least ncols - 1 delimiters, so garbage cannot make us reserve more
// than a few times the text's size.
int64_t row_bound(int64_t newlines, int64_t bytes, bool is_last, size_t ncols) {
  return std::min(newlines + (is_last ? 1 : 0), bytes / static_cast<int64_t>(ncols) + 1);
}

class CsvReader {
 public:
  CsvReader(const CsvOptions& options, const std::string& source) : options_(options), source_(source), d_(options) {}
  Table read(std::string_view text);

 private:
  void plan_chunks(const char* begin, const char* end, int64_t first_line);
  void parse_chunks();
  void reparse_from(size_t k);
  void read_missing_labels(const std::vector<ColumnType>& types);
  void build_categories(const std::vector<ColumnType>& types);
  void compact();
  std::vector<double*> destinations(const Chunk& chunk, const std::vector<Mode>& modes);
  void throw_chunk_error(size_t k) const {
    const csv::ChunkError& e = results_[k].error;
    throw_at(e.value_error, source_, chunks_[k].first_line + e.line, e.message);
  }

  const CsvOptions& options_;
  const std::string& source_;
  Dialect d_;
  std::vector<std::string> names_;
  std::vector<Mode> modes_;
  csv::Layout layout_;
  std::vector<Chunk> chunks_;
  std::vector<int64_t> newlines_;  // per chunk
  std::vector<ChunkResult> results_;
  std::vector<Column> columns_;
};

void CsvReader::plan_chunks(const char* begin, const char* end, int64_t first_line) {
  const int64_t size = end - begin;
  int64_t chunk_bytes = options_.chunk_bytes;
  if (options_.max_rows > 0) {
    chunk_bytes = std::max<int64_t>(size, 1);  // serial: the row limit needs the rows in order
  } else if (chunk_bytes == 0) {
    const int64_t threads = runtime::num_threads();
    chunk_bytes = std::max(kMinAutoChunkBytes, (size + threads - 1) / threads);
  }
  std::vector<const char*> cuts = cut_points(begin, end, chunk_bytes, d_.quote);
  const size_t n = cuts.size() - 1;
  newlines_.assign(n, 0);
  runtime::parallel_for(0, static_cast<int64_t>(n), 1, [&](int64_t lo, int64_t hi) {
    for (int64_t k = lo; k < hi; ++k)
      newlines_[static_cast<size_t>(k)] = count_byte(cuts[static_cast<size_t>(k)], cuts[k + 1], '\n');
  });
  chunks_.resize(n);
  int64_t line = first_line, offset = 0;
  for (size_t k = 0; k < n; ++k) {
    Chunk& c = chunks_[k];
    c.task.begin = cuts[k];
    c.task.end = cuts[k + 1];
    c.task.is_last = k + 1 == n;
    c.task.capacity = row_bound(newlines_[k], c.task.end - c.task.begin, c.task.is_last, names_.size());
    if (options_.max_rows > 0)
      c.task.capacity = std::min(c.task.capacity, options_.max_rows);
    c.task.max_rows = options_.max_rows;
    c.first_line = line;
    c.row_offset = offset;
    line += newlines_[k];
    offset += c.task.capacity;
  }
  // Each column is filled by one thread, so first-touching its pages is spread too.
  columns_.resize(names_.size());
  runtime::parallel_for(0, static_cast<int64_t>(columns_.size()), 1, [&](int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; ++c) {
      Column& col = columns_[static_cast<size_t>(c)];
      col.name = names_[static_cast<size_t>(c)];
      col.values.resize(static_cast<size_t>(offset));
    }
  });
}

std::vector<double*> CsvReader::destinations(const Chunk& chunk, const std::vector<Mode>& modes) {
  std::vector<double*> dst(columns_.size(), nullptr);
  for (size_t c = 0; c < columns_.size(); ++c) {
    if (modes[c] != Mode::skip)
      dst[c] = columns_[c].values.data() + chunk.row_offset;
  }
  return dst;
}

void CsvReader::parse_chunks() {
  results_.resize(chunks_.size());
  runtime::parallel_for(0, static_cast<int64_t>(chunks_.size()), 1, [&](int64_t lo, int64_t hi) {
    for (int64_t k = lo; k < hi; ++k) {
      const Chunk& chunk = chunks_[static_cast<size_t>(k)];
      results_[static_cast<size_t>(k)] = csv::parse_chunk(chunk.task, layout_, modes_, destinations(chunk, modes_));
    }
  });
  // Chunk 0 starts right; chunk k+1 does when chunk k ended outside quotes. So walk
  // in order: the first error before any spill is real, and after a spill nothing is.
  for (size_t k = 0; k < results_.size(); ++k) {
    if (results_[k].status == ChunkStatus::error)
      throw_chunk_error(k);
    if (results_[k].status == ChunkStatus::spilled) {
      reparse_from(k);
      return;
    }
  }
}

// Parses chunks k.. again as one serial chunk (NOTE [Parallel CSV]).
void CsvReader::reparse_from(size_t k) {
  Chunk merged = chunks_[k];
  merged.task.end = chunks_.back().task.end;
  merged.task.is_last = true;
  int64_t newlines = 0;
  for (size_t j = k; j < chunks_.size(); ++j)
    newlines += newlines_[j];
  merged.task.capacity = row_bound(newlines, merged.task.end - merged.task.begin, true, names_.size());
  const size_t needed = static_cast<size_t>(merged.row_offset + merged.task.capacity);
  for (Column& col : columns_) {
    if (col.values.size() < needed)
      col.values.resize(needed);
  }
  chunks_.resize(k);
  chunks_.push_back(merged);
  newlines_.resize(k);
  newlines_.push_back(newlines);
  results_.resize(k);
  results_.push_back(csv::parse_chunk(merged.task, layout_, modes_, destinations(merged, modes_)));
  if (results_.back().status != ChunkStatus::ok)
    throw_chunk_error(k);
}

// Chunks that stored numbers for a column that turned out categorical are read
// again for that column's labels.
void CsvReader::read_missing_labels(const std::vector<ColumnType>& types) {
  const size_t ncols = columns_.size();
  std::vector<std::vector<Mode>> rescan(chunks_.size());
  bool any = false;
  for (size_t k = 0; k < chunks_.size(); ++k) {
    const ChunkResult& r = results_[k];
    for (size_t c = 0; c < ncols; ++c) {
      if (types[c] != ColumnType::categorical || r.columns[c].labels_complete)
        continue;
      const double* v = columns_[c].values.data() + chunks_[k].row_offset;
      if (std::all_of(v, v + r.rows, [](double x) { return std::isnan(x); }))
        continue;  // nothing but missing values: no labels to recover
      if (rescan[k].empty())
        rescan[k].assign(ncols, Mode::skip);
      rescan[k][c] = Mode::label;
      any = true;
    }
  }
  if (!any)
    return;
  runtime::parallel_for(0, static_cast<int64_t>(chunks_.size()), 1, [&](int64_t lo, int64_t hi) {
    for (int64_t k = lo; k < hi; ++k) {
      const std::vector<Mode>& modes = rescan[static_cast<size_t>(k)];
      if (modes.empty())
        continue;
      const Chunk& chunk = chunks_[static_cast<size_t>(k)];
      ChunkResult again = csv::parse_chunk(chunk.task, layout_, modes, destinations(chunk, modes));
      ChunkResult& r = results_[static_cast<size_t>(k)];
      LOOM_ASSERT(again.status == ChunkStatus::ok && again.rows == r.rows);
      for (size_t c = 0; c < ncols; ++c) {
        if (modes[c] == Mode::label)
          r.columns[c].dict = std::move(again.columns[c].dict);
      }
    }
  });
}

// Sorted categories per column, and chunk-local codes rewritten to them.
void CsvReader::build_categories(const std::vector<ColumnType>& types) {
  const size_t ncols = columns_.size(), nchunks = chunks_.size();
  // remap[c][k][local code] = global code
  std::vector<std::vector<std::vector<double>>> remap(ncols);
  runtime::parallel_for(0, static_cast<int64_t>(ncols), 1, [&](int64_t lo, int64_t hi) {
    for (int64_t ci = lo; ci < hi; ++ci) {
      const size_t c = static_cast<size_t>(ci);
      if (types[c] != ColumnType::categorical)
        continue;
      columns_[c].type = ColumnType::categorical;
      std::vector<std::string_view> all;
      for (size_t k = 0; k < nchunks; ++k) {
        for (const std::string& label : results_[k].columns[c].dict.labels)
          all.push_back(label);
      }
      std::sort(all.begin(), all.end());
      all.erase(std::unique(all.begin(), all.end()), all.end());
      columns_[c].categories.assign(all.begin(), all.end());
      remap[c].resize(nchunks);
      for (size_t k = 0; k < nchunks; ++k) {
        const std::vector<std::string>& labels = results_[k].columns[c].dict.labels;
        remap[c][k].resize(labels.size());
        for (size_t i = 0; i < labels.size(); ++i) {
          auto it = std::lower_bound(all.begin(), all.end(), std::string_view(labels[i]));
          remap[c][k][i] = static_cast<double>(it - all.begin());
        }
      }
    }
  });
  runtime::parallel_for(0, static_cast<int64_t>(nchunks), 1, [&](int64_t lo, int64_t hi) {
    for (int64_t ki = lo; ki < hi; ++ki) {
      const size_t k = static_cast<size_t>(ki);
      for (size_t c = 0; c < ncols; ++c) {
        if (types[c] != ColumnType::categorical)
          continue;
        const std::vector<double>& map = remap[c][k];
        double* v = columns_[c].values.data() + chunks_[k].row_offset;
        for (int64_t r = 0; r < results_[k].rows; ++r) {
          if (!std::isnan(v[r]))
            v[r] = map[static_cast<size_t>(v[r])];
        }
      }
    }
  });
}

// Closes the gaps between chunks that held fewer rows than reserved.
void CsvReader::compact() {
  int64_t rows = 0;
  bool gaps = false;
  for (size_t k = 0; k < chunks_.size(); ++k) {
    gaps |= chunks_[k].row_offset != rows;
    rows += results_[k].rows;
  }
  runtime::parallel_for(0, static_cast<int64_t>(columns_.size()), 1, [&](int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; ++c) {
      std::vector<double>& v = columns_[static_cast<size_t>(c)].values;
      if (gaps) {
        int64_t w = 0;
        for (size_t k = 0; k < chunks_.size(); ++k) {
          if (chunks_[k].row_offset != w && results_[k].rows > 0) {
            std::memmove(v.data() + w, v.data() + chunks_[k].row_offset,
                         static_cast<size_t>(results_[k].rows) * sizeof(double));
          }
          w += results_[k].rows;
        }
      }
      const size_t reserved = v.size();
      v.resize(static_cast<size_t>(rows));
      if (static_cast<size_t>(rows) < reserved / 2)
        v.shrink_to_fit();  // blank lines or many quoted newlines: give the memory back
    }
  });
}

Table CsvReader::read(std::string_view text) {
  check_options(options_);
  csv::check_text_encoding(text, source_);
  const char* p = text.data();
  const char* const end = p + text.size();
  if (text.size() >= 3 && std::memcmp(p, "\xEF\xBB\xBF", 3) == 0)
    p += 3;  // UTF-8 byte-order mark, as Excel writes
  int64_t line = 1;
  for (int64_t i = 0; i < options_.skip_rows && p < end; ++i, ++line) {
    const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
    p = nl == nullptr ? end : static_cast<const char*>(nl) + 1;
  }
  while (p < end && csv::at_line_end(p, end))
    csv::skip_line_end(p, end, line);
  if (p == end) {
    std::string skipped =
        options_.skip_rows > 0 ? loom::detail::concat(" after skipping ", options_.skip_rows, " lines") : "";
    LOOM_THROW(IOError, source_, ": the file is empty", skipped, "; expected ",
               options_.has_header ? "a header line" : "at least one row of data");
  }
  names_ = column_names(p, end, d_, line, options_, source_);
  modes_ = initial_modes(names_, options_, source_);
  layout_ = csv::Layout{&d_, &names_, options_.has_header};

  plan_chunks(p, end, line);
  parse_chunks();

  std::vector<ColumnType> types(names_.size(), ColumnType::numeric);
  for (size_t c = 0; c < names_.size(); ++c) {
    bool labels = modes_[c] == Mode::label;
    for (const ChunkResult& r : results_)
      labels |= r.columns[c].mode == Mode::label;
    types[c] = labels ? ColumnType::categorical : ColumnType::numeric;
  }
  read_missing_labels(types);
  build_categories(types);
  compact();
  return Table(std::move(columns_));
}

}  // namespace

Table parse_csv(std::string_view text, const CsvOptions& options, const std::string& source_name) {
  return CsvReader(options, source_name).read(text);
}

Table read_csv(const std::string& path, const CsvOptions& options) {
  check_options(options);
  csv::FileText text(path, options.max_file_bytes);
  return parse_csv(text.view(), options, path);
}

}  // namespace loom::data
