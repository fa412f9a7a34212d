// Every conv2d kernel-list entry side by side at the reference CNN's two layers
// (batch 64, Fashion-MNIST), forward, backward-data and backward-weights, on 1 and
// 2 threads. The machine is usually shared, so take the min over repetitions:
//   build-conv/bench/bm_conv --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
//     --benchmark_counters_tabular=true --benchmark_filter=min
// (the per-repetition rows carry the "min" aggregate as BM_.../min).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>
#include <vector>

#include "loom/core/generator.h"
#include "loom/kernels/nn_kernels.h"
#include "loom/runtime/parallel.h"

namespace {

using loom::Tensor;
using loom::kernels::Window2d;

struct Layer {
  const char* name;
  int64_t c, hw, oc;
};
const Layer kLayers[] = {{"conv1_1x28x28_to_32", 1, 28, 32}, {"conv2_32x14x14_to_64", 32, 14, 64}};

Window2d geometry(const Layer& l) {
  Window2d g;
  g.n = 64;
  g.c = l.c;
  g.h = g.w = l.hw;
  g.oc = l.oc;
  g.kh = g.kw = 3;
  g.ph = g.pw = 1;
  g.oh = g.ow = l.hw;
  return g;
}

template <typename List>
const typename List::Entry* find_entry(const List& list, const std::string& name) {
  for (const auto& e : list.entries())
    if (e.name == name)
      return &e;
  return nullptr;
}

enum class Pass { forward, backward_data, backward_weights };

void run_conv(benchmark::State& state, Pass pass, Layer layer, std::string entry, int threads) {
  loom::runtime::set_num_threads(threads);
  const Window2d g = geometry(layer);
  loom::Generator gen(7);
  Tensor x = gen.normal_tensor({g.n, g.c, g.h, g.w}, 0, 1), w = gen.normal_tensor({g.oc, g.c, g.kh, g.kw}, 0, 1),
         b = gen.normal_tensor({g.oc}, 0, 1), y = gen.normal_tensor({g.n, g.oc, g.oh, g.ow}, 0, 1);
  Tensor out_x = Tensor::empty(x.shape()), out_w = Tensor::empty(w.shape()), out_y = Tensor::empty(y.shape());
  std::function<void()> call;
  std::string why;
  if (pass == Pass::forward) {
    const auto* e = find_entry(loom::kernels::conv2d_forward_kernels(), entry);
    why = e ? e->declines(g, x, w, b, out_y) : "no such entry";
    call = [=] { e->run(g, x, w, b, out_y); };
  } else if (pass == Pass::backward_data) {
    const auto* e = find_entry(loom::kernels::conv2d_backward_input_kernels(), entry);
    why = e ? e->declines(g, y, w, out_x) : "no such entry";
    call = [=] { e->run(g, y, w, out_x); };
  } else {
    const auto* e = find_entry(loom::kernels::conv2d_backward_weight_kernels(), entry);
    why = e ? e->declines(g, x, y, out_w) : "no such entry";
    call = [=] { e->run(g, x, y, out_w); };
  }
  if (!why.empty()) {
    state.SkipWithError(("declines: " + why).c_str());
    return;
  }
  call();  // warm-up: plans, buffers
  for (auto _ : state)
    call();
  const double flops = 2.0 * g.n * g.oc * g.oh * g.ow * g.c * g.kh * g.kw;
  state.counters["GFLOP/s"] = benchmark::Counter(flops * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}

const int kRegistered = [] {
  const std::pair<Pass, const char*> passes[] = {
      {Pass::forward, "fwd"}, {Pass::backward_data, "bwd_data"}, {Pass::backward_weights, "bwd_weights"}};
  for (const Layer& layer : kLayers)
    for (const auto& [pass, pass_name] : passes)
      for (const char* entry :
           {"onednn", "direct_small_c", "im2col_split", pass == Pass::backward_data ? "col2im_gemm" : "im2col_gemm"})
        for (int threads : {1, 2}) {
          if (pass != Pass::forward && std::string(entry) == "direct_small_c")
            continue;  // that entry is forward only
          const std::string name = std::string("BM_Conv/") + layer.name + "/" + pass_name + "/" + entry +
                                   "/threads:" + std::to_string(threads);
          benchmark::RegisterBenchmark(name.c_str(), run_conv, pass, layer, std::string(entry), threads)
              ->Unit(benchmark::kMillisecond)
              ->UseRealTime()
              ->ComputeStatistics("min",
                                  [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); });
        }
  return 0;
}();

}  // namespace
