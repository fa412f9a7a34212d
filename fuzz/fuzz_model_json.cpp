// Model description JSON (io/model_description.h): layers, inputs, shape rules.
#include "fuzz_support.h"
#include "loom/io/model_description.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  return loom::fuzz::run([&] { loom::io::model_from_json_text(text, "fuzz.json"); });
}
