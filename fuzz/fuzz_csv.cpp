// CSV text (data/tabular/csv.h): quoting, delimiters, types, binary input.
#include <string_view>

#include "fuzz_support.h"
#include "loom/data/tabular/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  return loom::fuzz::run([&] { loom::data::parse_csv(text, {}, "fuzz.csv"); });
}
