// weight_decay_groups: the decay / no-decay split of transformer recipes.
#include <set>

#include "loom/nn/linear.h"
#include "loom/nn/transformer.h"
#include "loom/optim/optimizer.h"

namespace loom::optim {
namespace {

// Every parameter of an embedding table (token or position), by identity.
void collect_embeddings(const nn::Module& m, std::set<const TensorImpl*>& out) {
  if (dynamic_cast<const nn::Embedding*>(&m) || dynamic_cast<const nn::PositionEmbedding*>(&m)) {
    for (const Tensor& p : m.parameters())
      out.insert(p.impl());
    return;
  }
  for (const auto& [name, child] : m.children())
    collect_embeddings(*child, out);
}

}  // namespace

std::vector<ParamGroup> weight_decay_groups(const nn::Module& model, double weight_decay) {
  std::set<const TensorImpl*> embeddings;
  collect_embeddings(model, embeddings);
  ParamGroup decay{{}, weight_decay, 1.0, "decay"}, no_decay{{}, 0.0, 1.0, "no_decay"};
  for (const Tensor& p : model.parameters())
    (p.dim() >= 2 && !embeddings.count(p.impl()) ? decay : no_decay).params.push_back(p);
  std::vector<ParamGroup> groups;
  for (ParamGroup* g : {&decay, &no_decay})
    if (!g->params.empty())
      groups.push_back(std::move(*g));
  return groups;
}

}  // namespace loom::optim
