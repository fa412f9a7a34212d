// safetensors files (io/safetensors.h): header length, JSON header, offsets, dtypes.
#include "fuzz_support.h"
#include "loom/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = loom::fuzz::input_file(".safetensors", data, size);
  return loom::fuzz::run([&] {
    std::map<std::string, std::string> metadata;
    loom::io::load_safetensors(path, &metadata);
  });
}
