#include "loom/nn/dropout.h"

#include <sstream>

namespace loom::nn {

Dropout::Dropout(double p, Generator& gen) : p_(p), gen_(&gen) {
  LOOM_CHECK(p >= 0.0 && p <= 1.0, "Dropout: probability must be in [0, 1], got ", p);
}

std::string Dropout::describe() const {
  std::ostringstream os;
  os << "Dropout(p=" << p_ << ")";
  return os.str();
}

}  // namespace loom::nn
