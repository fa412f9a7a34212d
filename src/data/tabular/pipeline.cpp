#include "loom/data/tabular/pipeline.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "data/tabular/steps/columns.h"
#include "data/tabular/steps/factories.h"
#include "loom/core/error.h"

namespace loom::data {
namespace {

constexpr const char* kFormat = "loom.pipeline";
constexpr int kVersion = 1;

std::string read_text(const std::string& path, const char* what) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    LOOM_THROW(IOError, "cannot open ", what, " ", path, ": ", std::strerror(errno));
  std::stringstream ss;
  ss << f.rdbuf();
  if (f.bad())
    LOOM_THROW(IOError, "error reading ", what, " ", path);
  return ss.str();
}

// Writes `text` to `path` so a reader sees the old file or the new one, never a
// torn one: a temporary beside it, fsync, rename, fsync of the directory. (io's
// write_file_atomically is in a higher layer.)
void write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    LOOM_THROW(IOError, "cannot create ", tmp, " to save the pipeline to ", path, ": ", std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      std::remove(tmp.c_str());
      LOOM_THROW(IOError, "error writing ", tmp, " (for ", path, "): ", std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    LOOM_THROW(IOError, "cannot sync ", tmp, " (for ", path, ") to disk: ", std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    LOOM_THROW(IOError, "cannot rename ", tmp, " to ", path, ": ", std::strerror(err));
  }
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);  // best effort: some file systems cannot sync a directory
    ::close(dfd);
  }
}

bool looks_like_json(const std::string& s) {
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r')
      continue;
    return c == '{';
  }
  return false;
}

}  // namespace

Pipeline::Pipeline(std::vector<std::unique_ptr<Step>> steps) {
  for (auto& s : steps)
    add(std::move(s));
}

void Pipeline::add(std::unique_ptr<Step> step) {
  LOOM_CHECK(step != nullptr, "Pipeline::add: the step is null");
  steps_.push_back(std::move(step));
  fitted_ = false;
}

const Step& Pipeline::step(int64_t i) const {
  if (i < 0 || i >= size())
    LOOM_THROW(IndexError, "Pipeline::step: index ", i, " is out of range for a pipeline of ", size(), " steps");
  return *steps_[static_cast<size_t>(i)];
}

Step& Pipeline::step(int64_t i) { return const_cast<Step&>(static_cast<const Pipeline&>(*this).step(i)); }

Pipeline Pipeline::parse(const std::string& text, const std::string& origin, bool saved) {
  using detail::Json;
  Json doc;
  try {
    doc = Json::parse(text);
  } catch (const Json::exception& e) {
    LOOM_THROW(ValueError, origin, ": not valid JSON (", e.what(), ")");
  }
  LOOM_CHECK(doc.is_object(), origin, ": expected a JSON object {\"steps\": [...]}, found ", detail::type_name(doc));
  const std::set<std::string> known = saved ? std::set<std::string>{"format", "version", "target", "features", "steps"}
                                            : std::set<std::string>{"target", "steps"};
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    LOOM_CHECK(known.count(it.key()), origin, ": unknown key \"", it.key(), "\"; a ",
               saved ? "saved pipeline" : "pipeline spec", " has ",
               saved ? "format, version, target, features, steps" : "steps and target");
  }
  if (saved) {
    LOOM_CHECK(doc.contains("format") && doc["format"] == kFormat, origin,
               ": not a saved loom pipeline (\"format\" is ",
               doc.contains("format") ? doc["format"].dump() : std::string("missing"), ", expected \"", kFormat, "\")");
    LOOM_CHECK(doc.contains("version") && doc["version"] == kVersion, origin, ": pipeline format version ",
               doc.contains("version") ? doc["version"].dump() : std::string("(missing)"),
               " is not supported; this loom reads version ", kVersion);
  }
  LOOM_CHECK(doc.contains("steps") && doc["steps"].is_array(), origin,
             ": needs \"steps\": an array of step specs like {\"kind\": \"standard_scale\"}");
  Pipeline p;
  if (doc.contains("target")) {
    LOOM_CHECK(doc["target"].is_string(), origin, ": \"target\" must be a column name, found ", doc["target"].dump());
    p.target_ = doc["target"].get<std::string>();
  }
  const Json& steps = doc["steps"];
  for (size_t i = 0; i < steps.size(); ++i) {
    const std::string kind =
        steps[i].is_object() && steps[i].contains("kind") ? steps[i]["kind"].dump() : std::string("?");
    try {
      p.steps_.push_back(detail::make_step_from_json(steps[i]));
    } catch (const Error& e) {
      LOOM_THROW(ValueError, origin, ": step ", i, " (", kind, "): ", e.message());
    }
    Step& s = *p.steps_.back();
    if (saved) {
      LOOM_CHECK(s.fitted(), origin, ": step ", i, " (", kind, ") has no \"state\"; the file lacks its fitted values");
      s.set_target(p.target_);
    } else if (!p.target_.empty() && s.target().empty()) {
      s.set_target(p.target_);
    }
  }
  if (saved) {
    LOOM_CHECK(doc.contains("features") && doc["features"].is_array(), origin,
               ": needs \"features\", the list of output columns");
    for (const Json& f : doc["features"]) {
      LOOM_CHECK(f.is_string(), origin, ": \"features\" must hold column names, found ", f.dump());
      p.features_.push_back(f.get<std::string>());
    }
    p.fitted_ = true;
  }
  return p;
}

Pipeline Pipeline::from_spec(const std::string& json_text_or_path) {
  if (looks_like_json(json_text_or_path))
    return parse(json_text_or_path, "pipeline spec", false);
  const std::string text = read_text(json_text_or_path, "pipeline spec");
  return parse(text, "pipeline spec " + json_text_or_path, false);
}

Pipeline Pipeline::load(const std::string& path) {
  const std::string text = read_text(path, "saved pipeline");
  return parse(text, "saved pipeline " + path, true);
}

std::string Pipeline::to_json() const {
  LOOM_CHECK(fitted_, "Pipeline: not fitted; call fit (or fit_transform) before saving it");
  detail::Json doc;
  doc["format"] = kFormat;
  doc["version"] = kVersion;
  doc["target"] = target_;
  doc["features"] = detail::strings_to_json(features_);
  doc["steps"] = detail::Json::array();
  for (const auto& s : steps_)
    doc["steps"].push_back(detail::Json::parse(s->to_json()));
  return doc.dump(1) + "\n";
}

void Pipeline::save(const std::string& path) const { write_atomically(path, to_json()); }

Table Pipeline::run(const Table& table) const {
  Table current;
  const Table* in = &table;
  for (const auto& s : steps_) {
    current = s->transform(*in);
    in = &current;
  }
  return in == &table ? table : std::move(current);
}

Table Pipeline::arrange(Table table) const {
  std::vector<int64_t> order;
  for (const std::string& f : features_) {
    const int64_t i = table.index_of(f);
    LOOM_CHECK(i >= 0, "Pipeline::transform: the steps did not produce feature column '", f,
               "' that they produced at fit; the input differs from the training data (add a schema_check step "
               "first to find how)");
    order.push_back(i);
  }
  const int64_t t = target_.empty() ? -1 : table.index_of(target_);
  if (t >= 0)
    order.push_back(t);
  if (static_cast<int64_t>(order.size()) != table.cols()) {
    std::vector<std::string> extra;
    for (const Column& c : table.columns()) {
      if (c.name != target_ && std::find(features_.begin(), features_.end(), c.name) == features_.end())
        extra.push_back(c.name);
    }
    LOOM_THROW(ValueError, "Pipeline::transform: the output has columns not seen at fit: ", detail::quoted_list(extra),
               "; the input has columns the training data did not (add a schema_check step first to reject them)");
  }
  std::vector<Column>& cols = table.columns();
  std::vector<Column> out;
  out.reserve(order.size());
  for (int64_t i : order)
    out.push_back(std::move(cols[static_cast<size_t>(i)]));
  return Table(std::move(out));
}

void Pipeline::fit(const Table& table, const std::string& target) { fit_transform(table, target); }

Table Pipeline::fit_transform(const Table& table, const std::string& target) {
  const std::string& chosen = target.empty() ? target_ : target;
  LOOM_CHECK(chosen.empty() || table.index_of(chosen) >= 0, "Pipeline::fit: the target column '", chosen,
             "' is not in the training table");
  target_ = chosen;
  fitted_ = false;
  Table current;
  const Table* in = &table;
  for (auto& s : steps_) {
    if (!target_.empty())
      s->set_target(target_);
    current = s->fit_transform(*in);
    in = &current;
  }
  if (in == &table)
    current = table;
  features_.clear();
  for (const Column& c : current.columns()) {
    if (c.name != target_)
      features_.push_back(c.name);
  }
  fitted_ = true;
  return arrange(std::move(current));
}

Table Pipeline::transform(const Table& table) const {
  LOOM_CHECK(fitted_, "Pipeline::transform: not fitted; call fit (or load a fitted pipeline) first");
  return arrange(run(table));
}

}  // namespace loom::data
