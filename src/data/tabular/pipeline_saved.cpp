#include "loom/data/tabular/pipeline.h"

namespace loom::data {

Pipeline Pipeline::from_saved_json(const std::string& text, const std::string& origin) {
  return parse(text, origin, true);
}

}  // namespace loom::data
