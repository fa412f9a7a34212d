#include "data/tabular/steps/step_json.h"

#include <cmath>
#include <limits>

namespace loom::data::detail {

Json number_to_json(double v) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v > 0 ? "inf" : "-inf";
  return v;
}

Json numbers_to_json(const std::vector<double>& v) {
  Json out = Json::array();
  for (double x : v)
    out.push_back(number_to_json(x));
  return out;
}

Json strings_to_json(const std::vector<std::string>& v) {
  Json out = Json::array();
  for (const std::string& s : v)
    out.push_back(s);
  return out;
}

Json string_lists_to_json(const std::vector<std::vector<std::string>>& v) {
  Json out = Json::array();
  for (const auto& list : v)
    out.push_back(strings_to_json(list));
  return out;
}

Json column_types_to_json(const std::vector<ColumnType>& types) {
  Json out = Json::array();
  for (ColumnType t : types)
    out.push_back(t == ColumnType::numeric ? "numeric" : "categorical");
  return out;
}

std::string type_name(const Json& j) {
  if (j.is_null())
    return "null";
  if (j.is_boolean())
    return "a boolean";
  if (j.is_number())
    return "a number";
  if (j.is_string())
    return "a string";
  if (j.is_array())
    return "an array";
  return "an object";
}

double number_from_json(const Json& j, const std::string& what) {
  if (j.is_number())
    return j.get<double>();
  if (j.is_string()) {
    const std::string s = j.get<std::string>();
    if (s == "nan")
      return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf")
      return std::numeric_limits<double>::infinity();
    if (s == "-inf")
      return -std::numeric_limits<double>::infinity();
  }
  LOOM_THROW(ValueError, what, " must be a number (or \"nan\", \"inf\", \"-inf\"), found ", j.dump());
}

// ---- SpecReader -------------------------------------------------------------

SpecReader::SpecReader(const Json& spec, std::string kind) : spec_(spec), kind_(std::move(kind)) {
  known_.insert("kind");
  known_.insert("target");
  known_.insert("state");
}

void SpecReader::fail(const std::string& message) const { LOOM_THROW(ValueError, kind_, ": ", message); }

double SpecReader::number(const char* key, double fallback) {
  known_.insert(key);
  if (!spec_.contains(key))
    return fallback;
  const Json& v = spec_[key];
  if (!v.is_number())
    fail(concat("option \"", key, "\" must be a number, found ", type_name(v), " (", v.dump(), ")"));
  return v.get<double>();
}

int64_t SpecReader::integer(const char* key, int64_t fallback, int64_t min_value) {
  known_.insert(key);
  if (!spec_.contains(key))
    return fallback;
  const Json& v = spec_[key];
  if (!v.is_number_integer())
    fail(concat("option \"", key, "\" must be an integer, found ", type_name(v), " (", v.dump(), ")"));
  const int64_t n = v.get<int64_t>();
  if (n < min_value)
    fail(concat("option \"", key, "\" must be at least ", min_value, ", found ", n));
  return n;
}

bool SpecReader::boolean(const char* key, bool fallback) {
  known_.insert(key);
  if (!spec_.contains(key))
    return fallback;
  const Json& v = spec_[key];
  if (!v.is_boolean())
    fail(concat("option \"", key, "\" must be true or false, found ", v.dump()));
  return v.get<bool>();
}

std::string SpecReader::string(const char* key, const std::string& fallback) {
  known_.insert(key);
  if (!spec_.contains(key))
    return fallback;
  const Json& v = spec_[key];
  if (!v.is_string())
    fail(concat("option \"", key, "\" must be a string, found ", type_name(v), " (", v.dump(), ")"));
  return v.get<std::string>();
}

std::vector<std::string> SpecReader::strings(const char* key) {
  known_.insert(key);
  std::vector<std::string> out;
  if (!spec_.contains(key))
    return out;
  const Json& v = spec_[key];
  if (!v.is_array())
    fail(concat("option \"", key, "\" must be an array of strings, found ", type_name(v), " (", v.dump(), ")"));
  for (const Json& e : v) {
    if (!e.is_string())
      fail(concat("option \"", key, "\" must hold strings only, found ", e.dump()));
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::vector<double> SpecReader::numbers(const char* key, std::vector<double> fallback, size_t expected_size) {
  known_.insert(key);
  if (!spec_.contains(key))
    return fallback;
  const Json& v = spec_[key];
  if (!v.is_array() || v.size() != expected_size)
    fail(concat("option \"", key, "\" must be an array of ", expected_size, " numbers, found ", v.dump()));
  std::vector<double> out;
  for (const Json& e : v) {
    if (!e.is_number())
      fail(concat("option \"", key, "\" must hold numbers only, found ", e.dump()));
    out.push_back(e.get<double>());
  }
  return out;
}

const Json* SpecReader::raw(const char* key) {
  known_.insert(key);
  return spec_.contains(key) ? &spec_[key] : nullptr;
}

const Json* SpecReader::state() {
  if (!spec_.contains("state"))
    return nullptr;
  const Json& s = spec_["state"];
  if (!s.is_object())
    fail(concat("\"state\" must be an object (a saved step's learned values), found ", type_name(s)));
  return &s;
}

void SpecReader::finish() const {
  std::string unknown;
  for (auto it = spec_.begin(); it != spec_.end(); ++it) {
    if (!known_.count(it.key()))
      unknown += (unknown.empty() ? "\"" : ", \"") + it.key() + "\"";
  }
  if (unknown.empty())
    return;
  std::string allowed;
  for (const std::string& k : known_) {
    if (k != "kind" && k != "state")
      allowed += (allowed.empty() ? "" : ", ") + k;
  }
  fail(concat("unknown option ", unknown, "; this step takes: ", allowed));
}

// ---- StateReader ------------------------------------------------------------

void StateReader::fail(const std::string& message) const {
  LOOM_THROW(ValueError, kind_, ": saved state is invalid: ", message);
}

const Json& StateReader::need(const char* key, bool array, int64_t expected_size) const {
  if (!state_.contains(key))
    fail(concat("it lacks \"", key, "\"; the file was not written by this version of loom or was edited"));
  const Json& v = state_[key];
  if (array) {
    if (!v.is_array())
      fail(concat("\"", key, "\" must be an array, found ", type_name(v)));
    if (expected_size >= 0 && static_cast<int64_t>(v.size()) != expected_size)
      fail(concat("\"", key, "\" has ", v.size(), " entries, expected ", expected_size, " (one per column)"));
  }
  return v;
}

double StateReader::number(const char* key) {
  return number_from_json(need(key, false, -1), concat(kind_, ": saved state \"", key, "\""));
}

int64_t StateReader::integer(const char* key) {
  const Json& v = need(key, false, -1);
  if (!v.is_number_integer())
    fail(concat("\"", key, "\" must be an integer, found ", v.dump()));
  return v.get<int64_t>();
}

std::vector<std::string> StateReader::strings(const char* key, int64_t expected_size) {
  std::vector<std::string> out;
  for (const Json& e : need(key, true, expected_size)) {
    if (!e.is_string())
      fail(concat("\"", key, "\" must hold strings, found ", e.dump()));
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::vector<double> StateReader::numbers(const char* key, int64_t expected_size) {
  std::vector<double> out;
  const Json& v = need(key, true, expected_size);
  for (size_t i = 0; i < v.size(); ++i)
    out.push_back(number_from_json(v[i], concat(kind_, ": saved state \"", key, "\"[", i, "]")));
  return out;
}

std::vector<int64_t> StateReader::integers(const char* key, int64_t expected_size) {
  std::vector<int64_t> out;
  for (const Json& e : need(key, true, expected_size)) {
    if (!e.is_number_integer())
      fail(concat("\"", key, "\" must hold integers, found ", e.dump()));
    out.push_back(e.get<int64_t>());
  }
  return out;
}

std::vector<bool> StateReader::booleans(const char* key, int64_t expected_size) {
  std::vector<bool> out;
  for (const Json& e : need(key, true, expected_size)) {
    if (!e.is_boolean())
      fail(concat("\"", key, "\" must hold true/false values, found ", e.dump()));
    out.push_back(e.get<bool>());
  }
  return out;
}

std::vector<ColumnType> StateReader::column_types(const char* key, int64_t expected_size) {
  std::vector<ColumnType> out;
  for (const std::string& t : strings(key, expected_size)) {
    if (t != "numeric" && t != "categorical")
      fail(concat("\"", key, "\" holds \"", t, "\"; expected numeric or categorical"));
    out.push_back(t == "numeric" ? ColumnType::numeric : ColumnType::categorical);
  }
  return out;
}

std::vector<std::vector<std::string>> StateReader::string_lists(const char* key, int64_t expected_size) {
  std::vector<std::vector<std::string>> out;
  for (const Json& list : need(key, true, expected_size)) {
    if (!list.is_array())
      fail(concat("\"", key, "\" must hold arrays of strings, found ", list.dump()));
    out.emplace_back();
    for (const Json& e : list) {
      if (!e.is_string())
        fail(concat("\"", key, "\" must hold arrays of strings, found ", e.dump()));
      out.back().push_back(e.get<std::string>());
    }
  }
  return out;
}

std::vector<std::vector<double>> StateReader::number_lists(const char* key, int64_t expected_size) {
  std::vector<std::vector<double>> out;
  const Json& v = need(key, true, expected_size);
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_array())
      fail(concat("\"", key, "\" must hold arrays of numbers, found ", v[i].dump()));
    out.emplace_back();
    for (size_t j = 0; j < v[i].size(); ++j)
      out.back().push_back(number_from_json(v[i][j], concat(kind_, ": saved state \"", key, "\"[", i, "][", j, "]")));
  }
  return out;
}

std::vector<std::vector<int64_t>> StateReader::integer_lists(const char* key, int64_t expected_size) {
  std::vector<std::vector<int64_t>> out;
  for (const Json& list : need(key, true, expected_size)) {
    if (!list.is_array())
      fail(concat("\"", key, "\" must hold arrays of integers, found ", list.dump()));
    out.emplace_back();
    for (const Json& e : list) {
      if (!e.is_number_integer())
        fail(concat("\"", key, "\" must hold arrays of integers, found ", e.dump()));
      out.back().push_back(e.get<int64_t>());
    }
  }
  return out;
}

// ---- SpecWriter -------------------------------------------------------------

SpecWriter::SpecWriter(const Step& step) {
  json_["kind"] = step.kind();
  if (!step.target().empty())
    json_["target"] = step.target();
}

void SpecWriter::set_columns(const std::vector<std::string>& columns) {
  if (!columns.empty())
    json_["columns"] = strings_to_json(columns);
}

Json& SpecWriter::state() {
  if (!json_.contains("state"))
    json_["state"] = Json::object();
  return json_["state"];
}

}  // namespace loom::data::detail
