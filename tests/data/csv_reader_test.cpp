#include "loom/data/tabular/csv.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "idx_test_util.h"
#include "loom/core/error.h"
#include "support/test_support.h"

namespace loom::data {
namespace {

using loom::testing::TempDir;
using loom::testing::write_file;

Table parse(const std::string& text, const CsvOptions& options = {}) { return parse_csv(text, options, "data.csv"); }

std::vector<double> values(const Table& t, const std::string& name) { return t.column(name).values; }

TEST(CsvReader, ReadsHeaderAndNumbers) {
  Table t = parse("a,b,c\n1,2.5,-3\n4,5e2,.5\n");
  ASSERT_EQ(t.cols(), 3);
  ASSERT_EQ(t.rows(), 2);
  EXPECT_EQ(t.column(0).name, "a");
  EXPECT_EQ(t.column(2).name, "c");
  EXPECT_EQ(values(t, "a"), (std::vector<double>{1, 4}));
  EXPECT_EQ(values(t, "b"), (std::vector<double>{2.5, 500}));
  EXPECT_EQ(values(t, "c"), (std::vector<double>{-3, 0.5}));
  for (const Column& c : t.columns())
    EXPECT_EQ(c.type, ColumnType::numeric);
}

TEST(CsvReader, WithoutHeaderNamesColumnsByPosition) {
  Table t = parse("1,2\n3,4\n", {.has_header = false});
  ASSERT_EQ(t.rows(), 2);
  EXPECT_EQ(t.column(0).name, "c0");
  EXPECT_EQ(t.column(1).name, "c1");
  EXPECT_EQ(values(t, "c1"), (std::vector<double>{2, 4}));
}

TEST(CsvReader, QuotedFieldsHoldDelimitersNewlinesAndQuotes) {
  Table t = parse("name,x\n\"Smith, John\",1\n\"two\nlines\",2\n\"say \"\"hi\"\"\",3\n\"\",4\n");
  ASSERT_EQ(t.rows(), 4);
  const Column& name = t.column("name");
  EXPECT_EQ(name.type, ColumnType::categorical);
  // Sorted by byte value: '"' < 'S' < 't'.
  EXPECT_EQ(name.categories, (std::vector<std::string>{"Smith, John", "say \"hi\"", "two\nlines"}));
  EXPECT_EQ(name.values[0], 0);
  EXPECT_EQ(name.values[1], 2);
  EXPECT_EQ(name.values[2], 1);
  EXPECT_TRUE(std::isnan(name.values[3]));  // "" is empty, hence missing
  EXPECT_EQ(values(t, "x"), (std::vector<double>{1, 2, 3, 4}));
}

TEST(CsvReader, QuotedNumbersAreNumbers) {
  Table t = parse("x\n\"1.5\"\n\" 2 \"\n");
  EXPECT_EQ(t.column("x").type, ColumnType::numeric);
  EXPECT_EQ(values(t, "x"), (std::vector<double>{1.5, 2}));
}

TEST(CsvReader, EveryDefaultMissingTokenIsNaN) {
  for (const std::string token : {"", "NA", "NaN", "nan", "?", "N/A", "null", " NA "}) {
    Table t = parse("x,y\n1,a\n" + token + "," + token + "\n3,b\n");
    ASSERT_EQ(t.rows(), 3) << "token '" << token << "'";
    EXPECT_EQ(t.column("x").type, ColumnType::numeric) << "token '" << token << "'";
    EXPECT_TRUE(std::isnan(t.column("x").values[1])) << "token '" << token << "'";
    EXPECT_EQ(t.column("x").missing(), 1);
    EXPECT_EQ(t.column("y").type, ColumnType::categorical);
    EXPECT_TRUE(std::isnan(t.column("y").values[1])) << "token '" << token << "'";
    EXPECT_EQ(t.column("y").categories, (std::vector<std::string>{"a", "b"})) << "token '" << token << "'";
  }
}

TEST(CsvReader, CustomMissingTokensIncludingNumbers) {
  CsvOptions o;
  o.missing_values = {"-999", "missing"};
  Table t = parse("x\n1\n-999\nmissing\n-999.5\n", o);
  EXPECT_EQ(t.column("x").type, ColumnType::numeric);
  EXPECT_EQ(t.column("x").missing(), 2);
  EXPECT_EQ(t.column("x").values[3], -999.5);
  // "NA" is no longer a missing token, so it makes the column categorical.
  Table u = parse("x\n1\nNA\n", o);
  EXPECT_EQ(u.column("x").type, ColumnType::categorical);
  EXPECT_EQ(u.column("x").categories, (std::vector<std::string>{"1", "NA"}));
}

TEST(CsvReader, InfersCategoricalWithSortedCategories) {
  Table t = parse("color,n\nred,1\nblue,2\ngreen,3\nblue,4\n");
  const Column& c = t.column("color");
  EXPECT_EQ(c.type, ColumnType::categorical);
  EXPECT_EQ(c.categories, (std::vector<std::string>{"blue", "green", "red"}));
  EXPECT_EQ(c.values, (std::vector<double>{2, 0, 1, 0}));
}

TEST(CsvReader, NumbersBeforeALabelBecomeLabels) {
  // The column looks numeric for two rows; the labels of those rows must survive.
  Table t = parse("v\n10\n9\nx\n10\n");
  const Column& c = t.column("v");
  EXPECT_EQ(c.type, ColumnType::categorical);
  EXPECT_EQ(c.categories, (std::vector<std::string>{"10", "9", "x"}));
  EXPECT_EQ(c.values, (std::vector<double>{0, 1, 2, 0}));
}

TEST(CsvReader, AllMissingColumnIsNumeric) {
  Table t = parse("a,b\n1,\n2,NA\n");
  EXPECT_EQ(t.column("b").type, ColumnType::numeric);
  EXPECT_EQ(t.column("b").missing(), 2);
}

TEST(CsvReader, ColumnTypeOverrides) {
  CsvOptions o;
  o.column_types = {{"zip", ColumnType::categorical}, {"n", ColumnType::numeric}};
  Table t = parse("zip,n\n02139,1\n10001,2\n02139,NA\n", o);
  const Column& zip = t.column("zip");
  EXPECT_EQ(zip.type, ColumnType::categorical);
  EXPECT_EQ(zip.categories, (std::vector<std::string>{"02139", "10001"}));
  EXPECT_EQ(zip.values, (std::vector<double>{0, 1, 0}));
  EXPECT_EQ(t.column("n").type, ColumnType::numeric);
  EXPECT_TRUE(std::isnan(t.column("n").values[2]));
}

TEST(CsvReader, CrlfBomAndMissingFinalNewline) {
  for (const std::string text :
       {"\xEF\xBB\xBF"
        "a,b\r\n1,x\r\n2,y\r\n",
        "a,b\n1,x\n2,y", "a,b\r\n1,x\r\n2,y", "a,b\n1,x\n2,y\n\n\n", "\n\na,b\n1,x\n\n2,y\n\r\n"}) {
    Table t = parse(text);
    ASSERT_EQ(t.rows(), 2) << text;
    EXPECT_EQ(t.column(0).name, "a") << text;
    EXPECT_EQ(values(t, "a"), (std::vector<double>{1, 2})) << text;
    EXPECT_EQ(t.column("b").categories, (std::vector<std::string>{"x", "y"})) << text;
  }
}

TEST(CsvReader, LoneCarriageReturnIsData) {
  Table t = parse("a\nx\ry\n");
  ASSERT_EQ(t.rows(), 1);
  EXPECT_EQ(t.column("a").categories, (std::vector<std::string>{"x\ry"}));
}

TEST(CsvReader, HeaderOnlyGivesNoRows) {
  Table t = parse("a,b\n");
  EXPECT_EQ(t.cols(), 2);
  EXPECT_EQ(t.rows(), 0);
}

TEST(CsvReader, OtherDelimiters) {
  Table semi = parse("a;b\n1,5;x\n", {.delimiter = ';'});
  EXPECT_EQ(semi.column("a").type, ColumnType::categorical);  // "1,5" is not a number
  Table tab = parse("a\tb\n1\t2\n", {.delimiter = '\t'});
  EXPECT_EQ(values(tab, "b"), (std::vector<double>{2}));
  Table space = parse("59 2 32.1\n48 1 21.6\n", {.delimiter = ' ', .has_header = false});
  EXPECT_EQ(values(space, "c2"), (std::vector<double>{32.1, 21.6}));
}

TEST(CsvReader, SkipLeadingWhitespace) {
  Table plain = parse("a,b\n1, x\n2, y\n");
  EXPECT_EQ(plain.column("b").categories, (std::vector<std::string>{" x", " y"}));
  EXPECT_EQ(values(plain, "a"), (std::vector<double>{1, 2}));
  Table skipped = parse("a,b\n 1, \"x, z\"\n2, y\n", {.skip_leading_whitespace = true});
  EXPECT_EQ(skipped.column("b").categories, (std::vector<std::string>{"x, z", "y"}));
}

TEST(CsvReader, NumberForms) {
  Table t = parse("x\n+1\n 2 \n1e400\n-1e400\n1e-400\ninf\n-Infinity\n0.1\n");
  const Column& x = t.column("x");
  ASSERT_EQ(x.type, ColumnType::numeric);
  EXPECT_EQ(x.values[0], 1);
  EXPECT_EQ(x.values[1], 2);
  EXPECT_EQ(x.values[2], std::numeric_limits<double>::infinity());
  EXPECT_EQ(x.values[3], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(x.values[4], 0);
  EXPECT_EQ(x.values[5], std::numeric_limits<double>::infinity());
  EXPECT_EQ(x.values[6], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(x.values[7], 0.1);  // correctly rounded, as from_chars guarantees
  for (const std::string bad : {"0x10", "1,000", "1.2.3", "--1", "+-1", "+", "1e", "12abc"}) {
    Table u = parse("x\n1\n\"" + bad + "\"\n");
    EXPECT_EQ(u.column("x").type, ColumnType::categorical) << bad;
  }
}

TEST(CsvReader, DecimalsAreBitIdenticalToFromChars) {
  // The reader parses plain decimals itself (Clinger's fast path) and the rest with
  // from_chars; both must give the correctly rounded double.
  std::mt19937_64 rng(42);
  std::vector<std::string> texts = {"9007199254740992",
                                    "9007199254740993",
                                    "0.1",
                                    "-0.0",
                                    "5.",
                                    ".5",
                                    "-.5",
                                    "1234567890123456789",
                                    "12345678901234567890",
                                    "0.0000000000000000000001",
                                    "0.00000000000000000000001",
                                    "179769313486231570000",
                                    "4.9e-324"};
  for (int i = 0; i < 20000; ++i) {
    std::string t = rng() % 2 ? "-" : "";
    const int digits = 1 + static_cast<int>(rng() % 20);
    const int dot = static_cast<int>(rng() % (digits + 1));
    for (int d = 0; d < digits; ++d) {
      if (d == dot)
        t += '.';
      t += static_cast<char>('0' + rng() % 10);
    }
    texts.push_back(t);
  }
  std::string csv = "x\n";
  for (const std::string& t : texts)
    csv += t + "\n";
  Table table = parse(csv);
  const Column& x = table.column("x");
  ASSERT_EQ(x.type, ColumnType::numeric);
  ASSERT_EQ(x.rows(), static_cast<int64_t>(texts.size()));
  for (size_t i = 0; i < texts.size(); ++i) {
    double expected = 0;
    std::from_chars(texts[i].data(), texts[i].data() + texts[i].size(), expected);
    EXPECT_EQ(std::memcmp(&expected, &x.values[i], sizeof(double)), 0)
        << texts[i] << ": " << x.values[i] << " vs from_chars " << expected;
  }
}

TEST(CsvReader, MaxRowsAndSkipRows) {
  Table t = parse("counts line\na,b\n1,2\n3,4\n5,6\n", {.max_rows = 2, .skip_rows = 1});
  EXPECT_EQ(t.rows(), 2);
  EXPECT_EQ(values(t, "a"), (std::vector<double>{1, 3}));
  // Rows after the limit are not read, so their problems do not matter.
  Table u = parse("a,b\n1,2\n3\n", {.max_rows = 1});
  EXPECT_EQ(u.rows(), 1);
}

TEST(CsvReader, EmptyHeaderNamesArePositional) {
  Table t = parse(",a\n0,1\n");
  EXPECT_EQ(t.column(0).name, "c0");
  EXPECT_EQ(t.column(1).name, "a");
}

TEST(CsvReader, ReadsFilesAndGzip) {
  TempDir dir;
  const std::string text = "a,b\n1,x\n2,y\n";
  write_file(dir.file("t.csv"), text);
  write_file(dir.file("t.csv.gz"), loom::testing::gzip_bytes(text));
  for (const std::string name : {"t.csv", "t.csv.gz"}) {
    Table t = read_csv(dir.file(name));
    EXPECT_EQ(t.rows(), 2);
    EXPECT_EQ(values(t, "a"), (std::vector<double>{1, 2}));
  }
}

}  // namespace
}  // namespace loom::data
