#include "loom/io/checkpoint.h"

#include <charconv>

#include "loom/core/error.h"
#include "loom/io/safetensors.h"

namespace loom::io {
namespace {

constexpr const char* kFormat = "loom-checkpoint-1";
constexpr const char* kModelPrefix = "model.";
constexpr const char* kOptimPrefix = "optim.";

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

template <typename Int>
Int parse_int(const std::map<std::string, std::string>& meta, const std::string& key, const std::string& path) {
  auto it = meta.find(key);
  if (it == meta.end())
    LOOM_THROW(IOError, path, ": checkpoint metadata has no '", key, "'");
  Int value{};
  const std::string& s = it->second;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) {
    LOOM_THROW(IOError, path, ": checkpoint metadata '", key, "' is '", s, "', expected an integer");
  }
  return value;
}

CheckpointMeta meta_from(const std::map<std::string, std::string>& raw, const std::string& path) {
  auto format = raw.find("loom.format");
  if (format == raw.end()) {
    LOOM_THROW(IOError, path, ": not a loom checkpoint (its safetensors metadata has no 'loom.format'); ",
               "use load_safetensors for plain weight files");
  }
  if (format->second != kFormat) {
    LOOM_THROW(IOError, path, ": checkpoint format is '", format->second, "', this build reads '", kFormat, "'");
  }
  CheckpointMeta meta;
  meta.epoch = parse_int<int64_t>(raw, "loom.epoch", path);
  meta.global_step = parse_int<int64_t>(raw, "loom.global_step", path);
  meta.seed = parse_int<uint64_t>(raw, "loom.seed", path);
  for (const auto& [key, value] : raw) {
    if (!starts_with(key, "loom."))
      meta.extra[key] = value;
  }
  return meta;
}

// Restores `state` into the module, naming the checkpoint in any error.
void load_into(nn::Module& model, const nn::NamedTensors& state, const std::string& path) {
  try {
    model.load_state_dict(state, /*strict=*/true);
  } catch (const Error& e) {
    LOOM_THROW(IOError, path, ": the checkpoint does not fit the model: ", e.message());
  }
}

}  // namespace

void save_checkpoint(const std::string& path, const nn::Module& model, const optim::Optimizer* optimizer,
                     const CheckpointMeta& meta) {
  std::map<std::string, std::string> raw;
  for (const auto& [key, value] : meta.extra) {
    LOOM_CHECK(!starts_with(key, "loom."), "save_checkpoint(", path, "): metadata key '", key,
               "' is reserved (keys starting with 'loom.' are loom's own)");
    raw[key] = value;
  }
  raw["loom.format"] = kFormat;
  raw["loom.epoch"] = std::to_string(meta.epoch);
  raw["loom.global_step"] = std::to_string(meta.global_step);
  raw["loom.seed"] = std::to_string(meta.seed);

  nn::NamedTensors tensors;
  for (auto& [name, t] : model.state_dict())
    tensors.emplace_back(kModelPrefix + name, t);
  if (optimizer != nullptr) {
    raw["loom.optimizer"] = optimizer->name();
    for (auto& [name, t] : optimizer->state_dict())
      tensors.emplace_back(kOptimPrefix + name, t);
  }
  save_safetensors(path, tensors, raw);
}

CheckpointMeta load_checkpoint(const std::string& path, nn::Module& model, optim::Optimizer* optimizer) {
  std::map<std::string, std::string> raw;
  nn::NamedTensors tensors = load_safetensors(path, &raw);
  CheckpointMeta meta = meta_from(raw, path);

  nn::NamedTensors model_state, optim_state;
  const std::string model_prefix = kModelPrefix, optim_prefix = kOptimPrefix;
  for (auto& [name, t] : tensors) {
    if (starts_with(name, model_prefix)) {
      model_state.emplace_back(name.substr(model_prefix.size()), std::move(t));
    } else if (starts_with(name, optim_prefix)) {
      optim_state.emplace_back(name.substr(optim_prefix.size()), std::move(t));
    } else {
      LOOM_THROW(IOError, path, ": unexpected tensor '", name, "' in a checkpoint (names start with '", kModelPrefix,
                 "' or '", kOptimPrefix, "')");
    }
  }

  if (optimizer != nullptr) {
    auto saved = raw.find("loom.optimizer");
    if (saved == raw.end()) {
      LOOM_THROW(IOError, path, ": the checkpoint has no optimizer state, but an optimizer (", optimizer->name(),
                 ") was given to restore");
    }
    if (saved->second != optimizer->name()) {
      LOOM_THROW(IOError, path, ": the checkpoint holds ", saved->second, " state but the optimizer is ",
                 optimizer->name());
    }
  }

  // Keep a copy of the model so a failure restoring the optimizer undoes the model
  // too: callers get all or nothing.
  nn::NamedTensors backup;
  if (optimizer != nullptr) {
    for (const auto& [name, t] : model.state_dict())
      backup.emplace_back(name, t.clone());
  }
  load_into(model, model_state, path);
  if (optimizer != nullptr) {
    try {
      optimizer->load_state_dict(optim_state);
    } catch (const Error& e) {
      model.load_state_dict(backup, /*strict=*/true);
      LOOM_THROW(IOError, path, ": the checkpoint's optimizer state does not fit the optimizer: ", e.message());
    }
  }
  return meta;
}

CheckpointMeta read_checkpoint_meta(const std::string& path) {
  return meta_from(read_safetensors_metadata(path), path);
}

}  // namespace loom::io
