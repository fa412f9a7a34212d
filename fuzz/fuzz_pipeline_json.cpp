// Preprocessing pipeline JSON, as a spec and as a saved, fitted pipeline
// (data/tabular/pipeline.h).
#include "fuzz_support.h"
#include "loom/data/tabular/pipeline.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  loom::fuzz::run([&] { loom::data::Pipeline::from_saved_json(text, "fuzz.json"); });
  return loom::fuzz::run([&] {
    if (!text.empty() && text[0] == '{')  // a spec that is not JSON is read as a path
      loom::data::Pipeline::from_spec(text);
  });
}
