// Training checkpoints (io/checkpoint.h): metadata, then a restore into a model
// and optimizer, which must leave both unchanged when it fails.
#include "fuzz_support.h"
#include "loom/io/checkpoint.h"
#include "loom/io/model_description.h"
#include "loom/optim/optimizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto model = [] {
    auto m = loom::io::model_from_json_text(
        R"({"input_shape": [4], "layers": [{"type": "linear", "in": 4, "out": 3}]})", "fuzz model");
    m->pack_parameters();
    return m;
  }();
  static auto optimizer = loom::optim::make_optimizer("adam", model->parameters(), {});
  const std::string path = loom::fuzz::input_file(".ckpt", data, size);
  loom::fuzz::run([&] { loom::io::read_checkpoint_meta(path); });
  return loom::fuzz::run([&] { loom::io::load_checkpoint(path, *model, optimizer.get()); });
}
