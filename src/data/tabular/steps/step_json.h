#pragma once
// Reading and writing the steps' JSON: a spec {"kind": ..., options...} and, for a
// fitted step, its learned values under "state". Private to loom_data (nlohmann
// stays out of the public headers).
//
// Numbers that JSON cannot hold (NaN, +-infinity: a missing fill value, the outer
// edges of a constant column's bin) are written as the strings "nan", "inf" and
// "-inf"; every other double is written in its shortest exact form, so a saved
// step transforms bit for bit as the one that was saved.
#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "loom/core/error.h"
#include "loom/data/tabular/step.h"

namespace loom::data::detail {

using Json = nlohmann::ordered_json;
using ::loom::detail::concat;

Json number_to_json(double v);
Json numbers_to_json(const std::vector<double>& v);
Json strings_to_json(const std::vector<std::string>& v);
Json string_lists_to_json(const std::vector<std::vector<std::string>>& v);
// "numeric" / "categorical" per column, as saved states write column types.
Json column_types_to_json(const std::vector<ColumnType>& types);
// `what` names the value in the error ("impute: state \"fill\"[2]").
double number_from_json(const Json& j, const std::string& what);
std::string type_name(const Json& j);

// One step's options. Every read marks its key as known, so finish() can name
// the options that no step reads (a typo in a spec is an error, not a default).
class SpecReader {
 public:
  SpecReader(const Json& spec, std::string kind);
  const std::string& kind() const { return kind_; }
  bool has(const char* key) const { return spec_.contains(key); }

  double number(const char* key, double fallback);
  int64_t integer(const char* key, int64_t fallback, int64_t min_value);
  bool boolean(const char* key, bool fallback);
  std::string string(const char* key, const std::string& fallback);
  std::vector<std::string> strings(const char* key);
  std::vector<double> numbers(const char* key, std::vector<double> fallback, size_t expected_size);
  // The raw value (nullptr when absent), for options that take several types.
  const Json* raw(const char* key);
  template <typename E>
  E choice(const char* key, E fallback, std::initializer_list<std::pair<const char*, E>> names);
  // The saved "state" object of a fitted step, nullptr for an unfitted spec.
  const Json* state();
  // ValueError naming every option that was never read.
  void finish() const;
  [[noreturn]] void fail(const std::string& message) const;

 private:
  const Json& spec_;
  std::string kind_;
  std::set<std::string> known_;
};

// A saved state: every key a step reads must be there.
class StateReader {
 public:
  StateReader(const Json& state, std::string kind) : state_(state), kind_(std::move(kind)) {}
  double number(const char* key);
  int64_t integer(const char* key);
  std::vector<std::string> strings(const char* key, int64_t expected_size = -1);
  std::vector<double> numbers(const char* key, int64_t expected_size = -1);
  std::vector<int64_t> integers(const char* key, int64_t expected_size = -1);
  std::vector<bool> booleans(const char* key, int64_t expected_size = -1);
  std::vector<std::vector<std::string>> string_lists(const char* key, int64_t expected_size = -1);
  std::vector<ColumnType> column_types(const char* key, int64_t expected_size = -1);
  std::vector<std::vector<double>> number_lists(const char* key, int64_t expected_size = -1);
  std::vector<std::vector<int64_t>> integer_lists(const char* key, int64_t expected_size = -1);
  [[noreturn]] void fail(const std::string& message) const;

 private:
  const Json& need(const char* key, bool array, int64_t expected_size) const;
  const Json& state_;
  std::string kind_;
};

// Writes kind and target, then options, then (when fitted) "state".
class SpecWriter {
 public:
  explicit SpecWriter(const Step& step);
  void set(const char* key, Json value) { json_[key] = std::move(value); }
  // `columns` only when a spec named them (an empty list means "the default set").
  void set_columns(const std::vector<std::string>& columns);
  Json& state();
  std::string dump() const { return json_.dump(); }

 private:
  Json json_;
};

template <typename E>
E SpecReader::choice(const char* key, E fallback, std::initializer_list<std::pair<const char*, E>> names) {
  known_.insert(key);
  if (!spec_.contains(key))
    return fallback;
  const Json& v = spec_[key];
  std::string allowed;
  for (const auto& [name, value] : names) {
    if (v.is_string() && v.get<std::string>() == name)
      return value;
    allowed += (allowed.empty() ? "" : ", ") + std::string(name);
  }
  fail(concat("option \"", key, "\" must be one of ", allowed, "; found ", v.dump()));
}

}  // namespace loom::data::detail
