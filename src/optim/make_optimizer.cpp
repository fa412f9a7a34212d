#include "loom/optim/adam.h"
#include "loom/optim/optimizer.h"
#include "loom/optim/rmsprop.h"
#include "loom/optim/sgd.h"

namespace loom::optim {

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, ParamGroups params,
                                          const OptimizerOptions& options) {
  if (name == "sgd")
    return std::make_unique<SGD>(std::move(params), options);
  if (name == "adam")
    return std::make_unique<Adam>(std::move(params), options);
  if (name == "adamw")
    return std::make_unique<AdamW>(std::move(params), options);
  if (name == "rmsprop")
    return std::make_unique<RMSprop>(std::move(params), options);
  LOOM_THROW(ValueError, "unknown optimizer \"", name, "\"; expected one of: sgd, adam, adamw, rmsprop");
}

}  // namespace loom::optim
