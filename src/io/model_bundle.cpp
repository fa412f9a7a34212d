#include "loom/io/model_bundle.h"

#include "loom/io/model_description.h"
#include "loom/io/safetensors.h"

namespace loom::io {
namespace {

constexpr const char* kFormat = "loom.format";
constexpr const char* kDescription = "loom.model_description";
constexpr const char* kPipeline = "loom.pipeline";

}  // namespace

void save_model_bundle(const std::string& path, const nn::Module& model, const BundleInfo& info) {
  LOOM_CHECK(!info.description.empty(), "save_model_bundle(", path, "): the model description is empty");
  std::map<std::string, std::string> metadata = info.metadata;
  for (const char* key : {kFormat, kDescription, kPipeline}) {
    if (metadata.count(key))
      LOOM_THROW(ValueError, "save_model_bundle(", path, "): metadata key '", key, "' is written by the bundle itself");
  }
  metadata[kFormat] = "weights";
  metadata[kDescription] = info.description;
  if (!info.pipeline.empty())
    metadata[kPipeline] = info.pipeline;
  save_safetensors(path, model.state_dict(), metadata);
}

ModelBundle load_model_bundle(const std::string& path, const std::string& description_override,
                              const std::string& override_source) {
  std::map<std::string, std::string> metadata;
  nn::NamedTensors weights = load_safetensors(path, &metadata);
  ModelBundle b;
  auto take = [&](const char* key) {
    auto it = metadata.find(key);
    if (it == metadata.end())
      return std::string();
    std::string value = std::move(it->second);
    metadata.erase(it);
    return value;
  };
  take(kFormat);
  b.info.description = take(kDescription);
  b.info.pipeline = take(kPipeline);
  b.info.metadata = std::move(metadata);
  if (!description_override.empty())
    b.info.description = description_override;
  if (b.info.description.empty()) {
    LOOM_THROW(IOError, path, " does not say which model it holds (no '", kDescription,
               "' metadata); pass the model's description (--model mlp, cnn or a description file)");
  }
  b.model = model_from_json_text(b.info.description, description_override.empty() ? path : override_source);
  try {
    b.model->load_state_dict(weights);
  } catch (const Error& e) {
    LOOM_THROW(IOError, path, ": the weights do not fit the model: ", e.message());
  }
  return b;
}

}  // namespace loom::io
