// make_step: the table of step kinds (step.h).
#include <iterator>

#include "data/tabular/steps/factories.h"
#include "loom/data/tabular/step.h"

namespace loom::data {
namespace detail {
namespace {

struct Kind {
  const char* name;
  StepFactory make;
};

// Every built-in step; a new step adds its factory here (and to factories.h).
constexpr Kind kKinds[] = {
    {"schema_check", make_schema_check},
    {"impute", make_impute},
    {"outliers", make_outliers},
    {"minmax_scale", make_minmax_scale},
    {"standard_scale", make_standard_scale},
    {"robust_scale", make_robust_scale},
    {"log", make_log},
    {"power", make_power},
    {"one_hot", make_one_hot},
    {"ordinal", make_ordinal},
    {"discretize", make_discretize},
    {"variance_threshold", make_variance_threshold},
    {"correlation_filter", make_correlation_filter},
    {"select_k_best", make_select_k_best},
    {"polynomial", make_polynomial},
    {"pca", make_pca},
};

std::string kind_names() {
  std::string out;
  for (const Kind& k : kKinds)
    out += (out.empty() ? "" : ", ") + std::string(k.name);
  return out;
}

}  // namespace

std::unique_ptr<Step> make_step_from_json(const Json& spec) {
  LOOM_CHECK(spec.is_object(), "step spec must be a JSON object {\"kind\": ..., options...}, found ", type_name(spec));
  LOOM_CHECK(spec.contains("kind") && spec["kind"].is_string(),
             "step spec needs a \"kind\" string naming the step; the kinds are: ", kind_names());
  const std::string kind = spec["kind"].get<std::string>();
  for (const Kind& k : kKinds) {
    if (kind != k.name)
      continue;
    SpecReader reader(spec, kind);
    std::unique_ptr<Step> step = k.make(reader);
    if (spec.contains("target")) {
      LOOM_CHECK(spec["target"].is_string(), kind, ": option \"target\" must be a column name, found ",
                 spec["target"].dump());
      step->set_target(spec["target"].get<std::string>());
    }
    reader.finish();
    return step;
  }
  LOOM_THROW(ValueError, "unknown step kind \"", kind, "\"; the kinds are: ", kind_names());
}

}  // namespace detail

std::unique_ptr<Step> make_step(const std::string& json_text) {
  detail::Json spec;
  try {
    spec = detail::Json::parse(json_text);
  } catch (const detail::Json::exception& e) {
    LOOM_THROW(ValueError, "step spec is not valid JSON (", e.what(), "): ", json_text.substr(0, 200));
  }
  return detail::make_step_from_json(spec);
}

}  // namespace loom::data
