// Shard files and shard manifests (data/shards.h). The first byte picks which.
#include "fuzz_support.h"
#include "loom/data/shards.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  if (data[0] & 1) {
    const std::string path = loom::fuzz::input_file(".manifest.json", data + 1, size - 1);
    return loom::fuzz::run([&] { loom::data::read_shard_manifest(path); });
  }
  const std::string path = loom::fuzz::input_file(".shard", data + 1, size - 1);
  return loom::fuzz::run([&] { loom::data::read_shard_header(path); });
}
