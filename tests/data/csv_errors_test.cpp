// Every CSV error names the file and the line, and no input crashes the reader.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "loom/core/error.h"
#include "loom/data/tabular/csv.h"
#include "support/test_support.h"

namespace loom::data {
namespace {

// Parses `text` as "data.csv", expecting an error of type E whose message contains
// every fragment.
template <typename E>
void expect_error(const std::string& text, const CsvOptions& options, const std::vector<std::string>& fragments) {
  try {
    Table t = parse_csv(text, options, "data.csv");
    ADD_FAILURE() << "parse_csv did not throw; expected: " << fragments.front();
  } catch (const E& e) {
    for (const std::string& f : fragments)
      EXPECT_NE(e.message().find(f), std::string::npos) << "missing '" << f << "' in: " << e.message();
  } catch (const Error& e) {
    ADD_FAILURE() << "wrong error type: " << e.what();
  }
}

TEST(CsvErrors, RaggedRowNamesFileLineAndCounts) {
  expect_error<IOError>("a,b,c,d,e\n1,2,3,4,5\n1,2,3,4\n", {},
                        {"data.csv:3: expected 5 fields (as in the header), found 4"});
  expect_error<IOError>("a,b\n1,2\n\n1,2,3,4\n", {}, {"data.csv:4: expected 2 fields (as in the header), found 4"});
  expect_error<IOError>("1,2\n1\n", {.has_header = false}, {"data.csv:2: expected 2 fields (as in the first row)"});
}

TEST(CsvErrors, RaggedRowLineIsRightAfterQuotedNewlinesAndInLaterChunks) {
  std::string text = "a,b\n\"x\ny\",1\n";
  for (int i = 0; i < 500; ++i)
    text += "p,2\n";
  text += "q\n";  // header, a quoted row on lines 2-3, 500 rows -> line 504
  expect_error<IOError>(text, {}, {"data.csv:504: expected 2 fields"});
  expect_error<IOError>(text, {.chunk_bytes = 64}, {"data.csv:504: expected 2 fields"});
}

TEST(CsvErrors, UnterminatedQuote) {
  expect_error<IOError>("a,b\n1,2\n1,2\n1,2\n1,2\n1,2\n1,2\n1,2\n1,\"never\nclosed,3\n", {},
                        {"data.csv:9: quoted field starting here is never closed", "column 'b'"});
  expect_error<IOError>("\"a,b\n1,2\n", {}, {"data.csv:1: quoted field starting here is never closed"});
  // Split into small chunks, the unterminated quote spills over every cut.
  std::string text = "a,b\n";
  for (int i = 0; i < 200; ++i)
    text += "1,2\n";
  text += "\"open,1\n";
  for (int i = 0; i < 200; ++i)
    text += "1,2\n";
  expect_error<IOError>(text, {.chunk_bytes = 50}, {"data.csv:202: quoted field starting here is never closed"});
}

TEST(CsvErrors, CharacterAfterClosingQuote) {
  expect_error<IOError>("a,b\n\"x\"y,1\n", {}, {"data.csv:2:", "unexpected 'y' after the closing quote"});
  expect_error<IOError>("\"a\"b\n1\n", {}, {"data.csv:1:", "after the closing quote"});
}

TEST(CsvErrors, NonNumberInForcedNumericColumn) {
  std::string text = "id,age\n";
  for (int i = 0; i < 40; ++i)
    text += "1,30\n";
  text += "2,abc\n";  // line 42
  CsvOptions o;
  o.column_types = {{"age", ColumnType::numeric}};
  expect_error<ValueError>(text, o, {"data.csv:42: column 'age': 'abc' is not a number"});
  o.chunk_bytes = 32;
  expect_error<ValueError>(text, o, {"data.csv:42: column 'age': 'abc' is not a number"});
}

TEST(CsvErrors, EmptyFile) {
  for (const std::string text : {"", "\n\n", "\r\n", "\xEF\xBB\xBF"})
    expect_error<IOError>(text, {}, {"data.csv: the file is empty; expected a header line"});
  expect_error<IOError>("", {.has_header = false}, {"data.csv: the file is empty; expected at least one row"});
  expect_error<IOError>("178,13\n", {.skip_rows = 1}, {"after skipping 1 lines"});
}

TEST(CsvErrors, DuplicateColumnNames) {
  expect_error<IOError>("a,b,a\n1,2,3\n", {}, {"data.csv:1: column name 'a' appears twice", "fields 1 and 3"});
}

TEST(CsvErrors, OverrideOfUnknownColumnAndBadOptions) {
  CsvOptions o;
  o.column_types = {{"agee", ColumnType::numeric}};
  expect_error<ValueError>("age,b\n1,2\n", o, {"'agee'", "data.csv", "'age', 'b'"});
  expect_error<ValueError>("a\n1\n", {.delimiter = '"'}, {"must differ"});
  expect_error<ValueError>("a\n1\n", {.delimiter = '\n'}, {"line ending"});
  expect_error<ValueError>("a\n1\n", {.max_rows = -1}, {"max_rows"});
}

TEST(CsvErrors, MissingFile) {
  try {
    read_csv("/nonexistent/dir/data.csv");
    FAIL() << "expected an IOError";
  } catch (const IOError& e) {
    EXPECT_NE(e.message().find("/nonexistent/dir/data.csv"), std::string::npos) << e.message();
  }
}

// "a,b\n1,2\n" in UTF-16 (little- or big-endian), without a byte-order mark.
std::string utf16(const std::string& ascii, bool little_endian) {
  std::string out;
  for (char c : ascii) {
    out += little_endian ? std::string{c, '\0'} : std::string{'\0', c};
  }
  return out;
}

TEST(CsvErrors, NulByteNamesOffsetAndLine) {
  using namespace std::string_literals;
  expect_error<IOError>("a,b\n1,2\n3,\0\n"s, {}, {"data.csv:3: NUL byte at byte offset 10", "binary file"});
  expect_error<IOError>("\0a,b\n1,2\n"s, {}, {"data.csv:1: NUL byte at byte offset 0"});
  // Past the first search block (1 MiB), and the first of several NULs wins.
  std::string big = "x,y\n";
  while (big.size() < (size_t{5} << 19))
    big += "1.5,2.5\n";
  const size_t at = big.size() - 3;
  const auto line = 1 + std::count(big.begin(), big.begin() + static_cast<std::ptrdiff_t>(at), '\n');
  big[at] = '\0';
  big[big.size() - 2] = '\0';
  expect_error<IOError>(big, {},
                        {"data.csv:" + std::to_string(line) + ": NUL byte at byte offset " + std::to_string(at)});
  // Binary noise is rejected rather than read as one column of labels.
  expect_error<IOError>(
      "\x7f"
      "ELF\x02\x01\x01\0\0\0\xc3\xa1\n\xff"s,
      {}, {"data.csv:1: NUL byte at byte offset 7"});
}

TEST(CsvErrors, Utf16WithoutByteOrderMarkIsCaughtByItsNulBytes) {
  expect_error<IOError>(utf16("a,b\n1,2\n", true), {}, {"data.csv:1: NUL byte at byte offset 1", "UTF-16"});
  expect_error<IOError>(utf16("a,b\n1,2\n", false), {}, {"data.csv:1: NUL byte at byte offset 0", "UTF-16"});
}

TEST(CsvErrors, Utf16AndUtf32ByteOrderMarksAreRejected) {
  using namespace std::string_literals;
  struct Case {
    std::string bytes;
    std::string named;
  };
  const Case cases[] = {
      {"\xFF\xFE"s + utf16("a,b\n1,2\n", true), "UTF-16 LE byte-order mark (FF FE)"},
      {"\xFE\xFF"s + utf16("a,b\n1,2\n", false), "UTF-16 BE byte-order mark (FE FF)"},
      {"\xFF\xFE\0\0a\0\0\0"s, "UTF-32 LE byte-order mark (FF FE 00 00)"},
      {"\0\0\xFE\xFF\0\0\0a"s, "UTF-32 BE byte-order mark (00 00 FE FF)"},
      {"\xFF\xFE"s, "UTF-16 LE byte-order mark"},  // nothing after the mark
  };
  for (const Case& c : cases)
    expect_error<IOError>(c.bytes, {}, {"data.csv: the file starts with a " + c.named, "read as UTF-8", "iconv"});
  // A UTF-8 mark is still skipped.
  Table t = parse_csv(
      "\xEF\xBB\xBF"
      "a,b\n1,2\n",
      {}, "data.csv");
  EXPECT_EQ(t.column(0).name, "a");
}

TEST(CsvErrors, BinaryFileOnDiskNamesThePath) {
  using namespace std::string_literals;
  testing::TempDir tmp;
  const std::string path = tmp.file("image.csv");
  testing::write_file(path, "\x89PNG\r\n\x1a\n\0\0\0\rIHDR"s);
  const std::string message = testing::error_message([&] { read_csv(path); });
  EXPECT_NE(message.find(path + ":3: NUL byte at byte offset 8"), std::string::npos) << message;
  testing::write_file(path, "\xFF\xFE"s + utf16("a,b\n1,2\n", true));
  const std::string bom = testing::error_message([&] { read_csv(path); });
  EXPECT_NE(bom.find(path + ": the file starts with a UTF-16 LE byte-order mark"), std::string::npos) << bom;
}

// Whatever the bytes, the reader returns a table or throws loom::Error.
void parse_anything(const std::string& text, const CsvOptions& options) {
  try {
    Table t = parse_csv(text, options, "fuzz.csv");
    for (const Column& c : t.columns()) {
      ASSERT_EQ(c.rows(), t.rows());
      for (double v : c.values) {
        if (c.type == ColumnType::categorical && !std::isnan(v))
          ASSERT_LT(v, static_cast<double>(c.categories.size()));
      }
    }
  } catch (const Error&) {
  }
}

TEST(CsvErrors, GarbageAndTruncationsNeverCrash) {
  std::mt19937 rng(7);
  const std::string alphabet = "ab1.,\"\n\r \t-e+";
  for (int trial = 0; trial < 400; ++trial) {
    std::string text(rng() % 300, '\0');
    const bool ascii = trial % 2 == 0;
    for (char& ch : text)
      ch = ascii ? alphabet[rng() % alphabet.size()] : static_cast<char>(rng() % 256);
    parse_anything(text, {});
    parse_anything(text, {.has_header = false, .chunk_bytes = 16});
    parse_anything(text, {.skip_leading_whitespace = true, .chunk_bytes = 7});
  }
  const std::string good =
      "name,x,y\n\"a, b\",1,2\n\"multi\nline\",3,NA\nplain,\"4\",5\n\"q \"\"x\"\"\",6,7\r\nlast,8,9\n";
  for (size_t n = 0; n <= good.size(); ++n) {
    parse_anything(good.substr(0, n), {});
    parse_anything(good.substr(0, n), {.chunk_bytes = 5});
  }
}

}  // namespace
}  // namespace loom::data
