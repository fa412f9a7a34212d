// IDX files (data/idx.h): the header, its dims, and the payload size.
#include "fuzz_support.h"
#include "loom/data/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = loom::fuzz::input_file(".idx", data, size);
  return loom::fuzz::run([&] { loom::data::read_idx(path); });
}
