// Schema <-> JSON text. nlohmann/json stays inside this file (see DESIGN.md: no
// third-party types in public headers).
#include <cmath>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "loom/core/error.h"
#include "loom/data/tabular/schema.h"

namespace loom::data {
namespace {

constexpr const char* kFormat = "loom-schema";
constexpr int kVersion = 1;

using Json = nlohmann::json;

const Json& member(const Json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  LOOM_CHECK(it != obj.end(), "schema JSON: ", where, " has no \"", key, "\"");
  return *it;
}

ColumnSchema column_from_json(const Json& j, size_t index) {
  const std::string where = loom::detail::concat("column ", index);
  LOOM_CHECK(j.is_object(), "schema JSON: ", where, " is not an object");
  ColumnSchema c;
  const Json& name = member(j, "name", where);
  LOOM_CHECK(name.is_string(), "schema JSON: ", where, ": \"name\" must be a string");
  c.name = name.get<std::string>();
  const std::string at = where + " ('" + c.name + "')";
  const Json& type = member(j, "type", at);
  LOOM_CHECK(type.is_string() && (type == "numeric" || type == "categorical"), "schema JSON: ", at,
             ": \"type\" must be \"numeric\" or \"categorical\", found ", type.dump());
  c.type = type == "numeric" ? ColumnType::numeric : ColumnType::categorical;
  if (auto it = j.find("allow_missing"); it != j.end()) {
    LOOM_CHECK(it->is_boolean(), "schema JSON: ", at, ": \"allow_missing\" must be true or false");
    c.allow_missing = it->get<bool>();
  }
  for (const char* key : {"min", "max"}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
      continue;
    LOOM_CHECK(it->is_number(), "schema JSON: ", at, ": \"", key, "\" must be a number, found ", it->dump());
    (std::string(key) == "min" ? c.min : c.max) = it->get<double>();
  }
  if (auto it = j.find("categories"); it != j.end()) {
    LOOM_CHECK(it->is_array(), "schema JSON: ", at, ": \"categories\" must be an array of strings");
    for (const Json& label : *it) {
      LOOM_CHECK(label.is_string(), "schema JSON: ", at, ": category ", label.dump(), " is not a string");
      c.categories.push_back(label.get<std::string>());
    }
  }
  return c;
}

}  // namespace

std::string Schema::to_json() const {
  Json cols = Json::array();
  for (const ColumnSchema& c : columns) {
    Json j = {{"name", c.name},
              {"type", c.type == ColumnType::numeric ? "numeric" : "categorical"},
              {"allow_missing", c.allow_missing}};
    // JSON has no infinity; an infinite bound is the same as none.
    if (c.min && std::isfinite(*c.min))
      j["min"] = *c.min;
    if (c.max && std::isfinite(*c.max))
      j["max"] = *c.max;
    if (c.type == ColumnType::categorical)
      j["categories"] = c.categories;
    cols.push_back(std::move(j));
  }
  Json doc = {{"format", kFormat}, {"version", kVersion}, {"columns", std::move(cols)}};
  return doc.dump(2);
}

Schema Schema::from_json(const std::string& json_text) {
  Json doc;
  try {
    doc = Json::parse(json_text);
  } catch (const Json::exception& e) {
    LOOM_THROW(ValueError, "schema JSON: not valid JSON (", e.what(), ")");
  }
  LOOM_CHECK(doc.is_object(), "schema JSON: expected an object, found ", doc.type_name());
  auto format = doc.find("format");
  LOOM_CHECK(format != doc.end() && *format == kFormat, "schema JSON: expected \"format\": \"", kFormat, "\", found ",
             format == doc.end() ? std::string("none") : format->dump());
  auto version = doc.find("version");
  LOOM_CHECK(version != doc.end() && version->is_number_integer() && version->get<int>() <= kVersion,
             "schema JSON: version ", version == doc.end() ? std::string("none") : version->dump(),
             " is not one this loom reads (up to ", kVersion, ")");
  const Json& cols = member(doc, "columns", "the document");
  LOOM_CHECK(cols.is_array(), "schema JSON: \"columns\" must be an array");
  Schema schema;
  std::unordered_set<std::string> names;
  for (size_t i = 0; i < cols.size(); ++i) {
    schema.columns.push_back(column_from_json(cols[i], i));
    LOOM_CHECK(names.insert(schema.columns.back().name).second, "schema JSON: column '", schema.columns.back().name,
               "' appears twice");
  }
  return schema;
}

}  // namespace loom::data
