#pragma once
// Reading CSV files into a Table, in parallel.
//
//   auto table = loom::data::read_csv("train.csv");                  // header, ',' and type inference
//   auto iris = loom::data::read_csv(".../sklearn/datasets/data/iris.csv",
//                                    {.has_header = false, .skip_rows = 1});  // first line holds counts
//
// Format: RFC 4180. A field may be quoted ("a, b"); inside quotes the delimiter and
// newlines are data and "" is one quote; a quote inside an unquoted field is data.
// Lines end in \n or \r\n (a lone \r is data). A UTF-8 byte-order mark and a
// missing final newline are accepted; blank lines are skipped (so in a one-column
// file an empty line is not a missing value: write NA). gzip files are inflated
// transparently.
//
// Parallelism: the text is cut into one chunk per thread (loom::runtime's budget)
// at newlines outside quotes, and the chunks are parsed at once; the result does
// not depend on the thread count. A file whose quotes do not pair up (a stray quote
// before a quoted field that spans lines) is parsed serially from that point on.
// See NOTE [Parallel CSV] in src/data/tabular/csv_reader.cpp.
//
// Types: a column is numeric when every value that is not a missing token parses
// completely as a number (surrounding spaces allowed; "inf" and exponents too),
// otherwise categorical. Categories are sorted by byte value (lexicographic), so
// the codes depend only on the set of labels, never on row order or on how the file
// was split among threads, and match scikit-learn's OneHotEncoder/OrdinalEncoder,
// which sort their categories too. A missing value is NaN in both kinds of column.
//
// Errors: IOError when the file cannot be read or its structure is broken (ragged
// row, unterminated quote, empty file, repeated column name); ValueError for a
// value or an option (a non-number in a column forced numeric, an override naming
// no column). Messages name the file and the 1-based line: "data.csv:17: ...".
//
// scikit-learn's bundled CSVs (iris, wine_data, breast_cancer) start with a line of
// counts ("178,13,class_0,...") instead of column names: read them with
// {.has_header = false, .skip_rows = 1}. boston_house_prices.csv has its header on
// the second line: {.skip_rows = 1}. diabetes_data_raw.csv.gz is space-separated
// without a header: {.delimiter = ' ', .has_header = false}.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "loom/data/tabular/table.h"

namespace loom::data {

struct CsvOptions {
  char delimiter = ',';
  // false: every line is data and the columns are named "c0", "c1", ...
  bool has_header = true;
  char quote = '"';
  // Fields equal to one of these (after trimming spaces and tabs) are missing (NaN).
  std::vector<std::string> missing_values = {"", "NA", "NaN", "nan", "?", "N/A", "null"};
  // Forces the type of the named columns instead of inferring it.
  std::map<std::string, ColumnType> column_types;
  // Stop after this many data rows (0 = all).
  int64_t max_rows = 0;
  // Physical lines skipped before the header (or the first data row), e.g. the count
  // line of sklearn's CSVs. Quotes are not interpreted in skipped lines.
  int64_t skip_rows = 0;
  // Drop spaces and tabs at the start of every field (pandas' skipinitialspace), so
  // `a, "b, c"` reads as two fields.
  bool skip_leading_whitespace = false;
  // Bytes of text per parallel chunk; 0 chooses one chunk per thread. Tests set it
  // small to force many chunks.
  int64_t chunk_bytes = 0;
  // Refuse files larger than this (after gzip inflation).
  uint64_t max_file_bytes = uint64_t{64} << 30;
};

// Reads and parses `path`; errors name the file and line. Plain files of 1 MiB and
// more are memory-mapped rather than copied (as data.table's fread does), so a file
// truncated by another process while it is being read ends this one with SIGBUS.
Table read_csv(const std::string& path, const CsvOptions& options = {});

// Parses CSV text already in memory; `source_name` stands for the file in messages.
Table parse_csv(std::string_view text, const CsvOptions& options, const std::string& source_name);

}  // namespace loom::data
