#include "loom/data/tabular/schema.h"

#include <gtest/gtest.h>

#include "loom/core/error.h"
#include "loom/data/tabular/csv.h"

namespace loom::data {
namespace {

Table train() { return parse_csv("age,color,y\n30,red,0\n40,blue,1\n50,red,1\n", {}, "train.csv"); }

// Expects validate() to throw a ValueError containing every fragment.
void expect_invalid(const Table& t, const Schema& s, const std::vector<std::string>& fragments) {
  try {
    validate(t, s, "new.csv");
    ADD_FAILURE() << "validate did not throw; expected: " << fragments.front();
  } catch (const ValueError& e) {
    for (const std::string& f : fragments)
      EXPECT_NE(e.message().find(f), std::string::npos) << "missing '" << f << "' in: " << e.message();
  }
}

TEST(Schema, InferRecordsNamesTypesAndCategories) {
  Schema s = infer_schema(train());
  ASSERT_EQ(s.columns.size(), 3u);
  EXPECT_EQ(s.columns[0].name, "age");
  EXPECT_EQ(s.columns[0].type, ColumnType::numeric);
  EXPECT_FALSE(s.columns[0].min.has_value());
  EXPECT_TRUE(s.columns[0].allow_missing);
  EXPECT_EQ(s.columns[1].type, ColumnType::categorical);
  EXPECT_EQ(s.columns[1].categories, (std::vector<std::string>{"blue", "red"}));
  ASSERT_NE(s.find("y"), nullptr);
  EXPECT_EQ(s.find("nope"), nullptr);

  Schema strict = infer_schema(train(), true);
  EXPECT_EQ(strict.columns[0].min, 30);
  EXPECT_EQ(strict.columns[0].max, 50);
  EXPECT_FALSE(strict.columns[0].allow_missing);
}

TEST(Schema, ValidTableAndExtraColumnsPass) {
  Schema s = infer_schema(train(), true);
  EXPECT_NO_THROW(validate(train(), s, "train.csv"));
  Table more = parse_csv("extra,age,color,y\n1,35,blue,0\n", {}, "new.csv");
  EXPECT_NO_THROW(validate(more, s, "new.csv"));
}

TEST(Schema, MissingColumn) {
  Table t = parse_csv("age,y\n30,0\n", {}, "new.csv");
  expect_invalid(t, infer_schema(train()), {"new.csv does not match the schema", "missing column 'color'"});
}

TEST(Schema, WrongType) {
  Table t = parse_csv("age,color,y\nthirty,red,0\n", {}, "new.csv");
  expect_invalid(t, infer_schema(train()), {"column 'age' is categorical but the schema says numeric", "'thirty'"});
  Table u = parse_csv("age,color,y\n30,1,0\n", {}, "new.csv");
  expect_invalid(u, infer_schema(train()), {"column 'color' is numeric but the schema says categorical"});
}

TEST(Schema, UnseenCategory) {
  Table t = parse_csv("age,color,y\n30,red,0\n31,green,1\n", {}, "new.csv");
  expect_invalid(t, infer_schema(train()), {"column 'color': category 'green' in row 2", "'blue', 'red'"});
}

TEST(Schema, OutOfRangeAndMissing) {
  Table t = parse_csv("age,color,y\n30,red,0\n120,red,1\n,blue,1\n", {}, "new.csv");
  expect_invalid(t, infer_schema(train(), true),
                 {"column 'age': value 120 in row 2 is outside the allowed range [30, 50]",
                  "column 'age': 1 missing values (the first in row 3) but the schema allows none"});
}

TEST(Schema, JsonRoundTrip) {
  Schema s = infer_schema(train(), true);
  s.columns[2].max.reset();
  Schema back = Schema::from_json(s.to_json());
  ASSERT_EQ(back.columns.size(), s.columns.size());
  for (size_t i = 0; i < s.columns.size(); ++i) {
    EXPECT_EQ(back.columns[i].name, s.columns[i].name);
    EXPECT_EQ(back.columns[i].type, s.columns[i].type);
    EXPECT_EQ(back.columns[i].allow_missing, s.columns[i].allow_missing);
    EXPECT_EQ(back.columns[i].min, s.columns[i].min);
    EXPECT_EQ(back.columns[i].max, s.columns[i].max);
    EXPECT_EQ(back.columns[i].categories, s.columns[i].categories);
  }
  EXPECT_NE(s.to_json().find("\"format\": \"loom-schema\""), std::string::npos) << s.to_json();
}

TEST(Schema, BadJsonNamesTheProblem) {
  auto expect_bad = [](const std::string& text, const std::string& fragment) {
    try {
      Schema::from_json(text);
      ADD_FAILURE() << "from_json accepted: " << text;
    } catch (const ValueError& e) {
      EXPECT_NE(e.message().find(fragment), std::string::npos) << e.message();
    }
  };
  expect_bad("{not json", "not valid JSON");
  expect_bad("[]", "expected an object");
  expect_bad(R"({"format": "other", "version": 1, "columns": []})", "\"format\"");
  expect_bad(R"({"format": "loom-schema", "version": 9, "columns": []})", "version 9");
  expect_bad(R"({"format": "loom-schema", "version": 1})", "no \"columns\"");
  expect_bad(R"({"format": "loom-schema", "version": 1, "columns": [{"name": "a"}]})",
             "column 0 ('a') has no \"type\"");
  expect_bad(R"({"format": "loom-schema", "version": 1, "columns": [{"name": "a", "type": "text"}]})",
             "\"type\" must be");
  expect_bad(R"({"format": "loom-schema", "version": 1, "columns": [{"name": "a", "type": "numeric", "min": "x"}]})",
             "\"min\" must be a number");
  expect_bad(
      R"({"format": "loom-schema", "version": 1, "columns": [{"name": "a", "type": "numeric"}, {"name": "a", "type": "numeric"}]})",
      "'a' appears twice");
}

}  // namespace
}  // namespace loom::data
