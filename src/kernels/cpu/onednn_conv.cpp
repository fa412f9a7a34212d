// Convolution through oneDNN's JIT kernels.
//
// NOTE [oneDNN convolution]
// The user tensors stay NCHW. Each primitive is created with format_tag::any, so
// oneDNN picks its blocked layouts (nChw16c activations, OIhw16i16o weights) and
// its AVX-512/AVX2 JIT kernels; the NCHW <-> blocked reorders around it are cheap
// next to the convolution (bm_conv measures the whole call). Plans (primitive +
// reorders + blocked buffers) are cached per (pass, geometry, bias, thread slot),
// least recently used out (NOTE [Plan cache]).
// The entry declines when oneDNN would only offer its slow reference
// implementation (a CPU without AVX2), for dtypes other than f32, for geometry it
// rejects, and for first layers (fewer than 8 input channels), where the output
// reorder costs more than the kernel saves and im2col_split is faster.
//
// Threads: this build of oneDNN runs on OpenMP. Rather than let it start an OpenMP
// team beside loom's pool (two pools spinning on two cores; on a shared machine
// OpenMP's spinning barriers made two threads 2-7x slower than one in bm_conv), the
// batch is split statically over loom's threads and every slice runs a primitive
// created for one thread, with the calling thread's OpenMP count set to 1 (so
// oneDNN never forks). Weight gradients are summed per slice and reduced in slice
// order, so the bits depend only on the thread count. Plans are per thread
// (runtime::thread_slot()), so no two threads share the blocked buffers, also
// when the convolution itself runs inside a parallel region (conv2d_max_pool2d
// runs one per thread).
//
// Cache-sized steps: each thread walks its slice a few images at a time
// (sub_batch), so the blocked copies of one step (input, output, gradients) stay
// in the core's L2 between the reorder that writes them and the kernel that reads
// them. With whole slices they were several MB per plan and every reorder went
// through memory, which two threads share: in a training step the convolutions ran
// 20-40% slower per thread at 2 threads than alone. Weight gradients of the steps
// after a slice's first are computed into a scratch and added in step order.
#include "cpu/onednn_conv.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "cpu/conv_kernels.h"
#include "loom/runtime/parallel.h"

namespace loom::kernels::cpu {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;
using DataType = memory::data_type;

enum class Pass { forward, backward_data, backward_weights };

struct Key {
  Pass pass;
  int64_t n, c, h, w, oc, kh, kw, sh, sw, ph, pw;
  bool bias;
  int64_t slot;  // runtime::thread_slot() of the thread running it (one plan, with its buffers, per thread)
  auto tie() const { return std::tie(pass, n, c, h, w, oc, kh, kw, sh, sw, ph, pw, bias, slot); }
  bool operator<(const Key& o) const { return tie() < o.tie(); }
};

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

// One user (NCHW/OIHW) argument and, when oneDNN wants another layout, the reorder
// and the buffer in that layout.
struct Arg {
  int id = 0;
  memory::desc user, inner;
  bool input = true;
  bool needs_reorder = false;
  memory buffer;  // in `inner` layout, allocated once per plan
  dnnl::reorder reorder;
};

struct Plan {
  std::string declined;  // why oneDNN cannot run this geometry; "" = runs
  dnnl::primitive prim;
  std::vector<Arg> args;
  std::mutex mutex;  // the blocked buffers belong to one call at a time
};

memory::dims dims_of(std::initializer_list<int64_t> v) { return memory::dims(v.begin(), v.end()); }

Arg make_arg(int id, const memory::desc& user, const memory::desc& inner, bool input) {
  Arg a;
  a.id = id;
  a.user = user;
  a.inner = inner;
  a.input = input;
  a.needs_reorder = user != inner;
  if (a.needs_reorder) {
    a.buffer = memory(inner, engine());
    a.reorder = input ? dnnl::reorder(dnnl::reorder::primitive_desc(engine(), user, engine(), inner))
                      : dnnl::reorder(dnnl::reorder::primitive_desc(engine(), inner, engine(), user));
  }
  return a;
}

std::unique_ptr<Plan> build_plan(const Key& k) {
  auto plan = std::make_unique<Plan>();
  const int64_t oh = (k.h + 2 * k.ph - k.kh) / k.sh + 1, ow = (k.w + 2 * k.pw - k.kw) / k.sw + 1;
  // oneDNN wants both paddings; loom's output size rounds down, so the right
  // padding is what the last window needs (possibly negative).
  const int64_t pr_h = (oh - 1) * k.sh + k.kh - k.h - k.ph, pr_w = (ow - 1) * k.sw + k.kw - k.w - k.pw;
  const memory::dims src = dims_of({k.n, k.c, k.h, k.w}), wei = dims_of({k.oc, k.c, k.kh, k.kw}),
                     dst = dims_of({k.n, k.oc, oh, ow}), bias = dims_of({k.oc}), strides = dims_of({k.sh, k.sw}),
                     pad_l = dims_of({k.ph, k.pw}), pad_r = dims_of({pr_h, pr_w});
  const memory::desc src_any(src, DataType::f32, Tag::any), wei_any(wei, DataType::f32, Tag::any),
      dst_any(dst, DataType::f32, Tag::any), bias_md(bias, DataType::f32, Tag::x);
  const memory::desc src_user(src, DataType::f32, Tag::nchw), wei_user(wei, DataType::f32, Tag::oihw),
      dst_user(dst, DataType::f32, Tag::nchw);
  const memory::desc no_bias;
  OmpThreads serial(1);  // oneDNN fixes its thread split when it creates the primitive
  try {
    // The backward passes need a forward primitive descriptor as a hint.
    dnnl::convolution_forward::desc fwd_d(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                          src_any, wei_any, k.bias ? bias_md : no_bias, dst_any, strides, pad_l, pad_r);
    dnnl::convolution_forward::primitive_desc fwd_pd(fwd_d, engine());
    std::string impl;
    switch (k.pass) {
      case Pass::forward:
        impl = fwd_pd.impl_info_str();
        plan->prim = dnnl::convolution_forward(fwd_pd);
        plan->args.push_back(make_arg(DNNL_ARG_SRC, src_user, fwd_pd.src_desc(), true));
        plan->args.push_back(make_arg(DNNL_ARG_WEIGHTS, wei_user, fwd_pd.weights_desc(), true));
        if (k.bias)
          plan->args.push_back(make_arg(DNNL_ARG_BIAS, bias_md, fwd_pd.bias_desc(), true));
        plan->args.push_back(make_arg(DNNL_ARG_DST, dst_user, fwd_pd.dst_desc(), false));
        break;
      case Pass::backward_data: {
        dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, src_any, wei_any, dst_any, strides,
                                                pad_l, pad_r);
        dnnl::convolution_backward_data::primitive_desc pd(d, engine(), fwd_pd);
        impl = pd.impl_info_str();
        plan->prim = dnnl::convolution_backward_data(pd);
        plan->args.push_back(make_arg(DNNL_ARG_DIFF_DST, dst_user, pd.diff_dst_desc(), true));
        plan->args.push_back(make_arg(DNNL_ARG_WEIGHTS, wei_user, pd.weights_desc(), true));
        plan->args.push_back(make_arg(DNNL_ARG_DIFF_SRC, src_user, pd.diff_src_desc(), false));
        break;
      }
      case Pass::backward_weights: {
        dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, src_any, wei_any, no_bias,
                                                   dst_any, strides, pad_l, pad_r);
        dnnl::convolution_backward_weights::primitive_desc pd(d, engine(), fwd_pd);
        impl = pd.impl_info_str();
        plan->prim = dnnl::convolution_backward_weights(pd);
        plan->args.push_back(make_arg(DNNL_ARG_SRC, src_user, pd.src_desc(), true));
        plan->args.push_back(make_arg(DNNL_ARG_DIFF_DST, dst_user, pd.diff_dst_desc(), true));
        plan->args.push_back(make_arg(DNNL_ARG_DIFF_WEIGHTS, wei_user, pd.diff_weights_desc(), false));
        break;
      }
    }
    // "ref:any" is oneDNN's plain loop nest, slower than im2col + OpenBLAS.
    if (impl.rfind("ref", 0) == 0)
      plan->declined = "oneDNN offers only its reference implementation (" + impl + ") on this CPU";
  } catch (const dnnl::error& e) {
    plan->declined = std::string("oneDNN rejects this geometry: ") + e.what();
  }
  return plan;
}

// NOTE [Plan cache]
// Plans are kept least-recently-used first out, at most plan_capacity() of them:
// a server whose request threads come and go (each with its own thread slot) or
// that sees many shapes would otherwise grow the cache without bound. A plan is
// shared: a call that holds one keeps it alive when the cache drops it.
struct PlanCache {
  std::mutex mutex;
  std::list<Key> order;  // most recently used first
  std::map<Key, std::pair<std::shared_ptr<Plan>, std::list<Key>::iterator>> plans;
  size_t capacity = 256;
};

PlanCache& plan_cache() {
  static PlanCache cache;
  return cache;
}

void evict_to(PlanCache& c, size_t size) {
  while (c.plans.size() > size) {
    c.plans.erase(c.order.back());
    c.order.pop_back();
  }
}

std::shared_ptr<Plan> plan_for(const Key& k) {
  PlanCache& c = plan_cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  auto it = c.plans.find(k);
  if (it != c.plans.end()) {
    c.order.splice(c.order.begin(), c.order, it->second.second);
    return it->second.first;
  }
  std::shared_ptr<Plan> plan = build_plan(k);
  c.order.push_front(k);
  c.plans.emplace(k, std::make_pair(plan, c.order.begin()));
  evict_to(c, c.capacity);
  return plan;
}

Key make_key(Pass pass, const Window2d& g, bool bias, int64_t n, int64_t slot) {
  return Key{pass, n, g.c, g.h, g.w, g.oc, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, bias, slot};
}

// Images per cache-sized step: as many as keep one step's input and output
// planes within kStepBytes (half an L2 of current x86 cores), at least one.
int64_t sub_batch(const Window2d& g) {
  constexpr int64_t kStepBytes = 512 * 1024;
  const int64_t image_bytes = static_cast<int64_t>(sizeof(float)) * (g.c * g.h * g.w + g.oc * g.oh * g.ow);
  return std::max<int64_t>(1, kStepBytes / std::max<int64_t>(1, image_bytes));
}

// Runs fn(slice, step index within the slice, image_begin, image_end) for
// every cache-sized step of every thread's batch slice (see the NOTE above).
template <typename Fn>
void for_each_step(const Window2d& g, Fn&& fn) {
  const int64_t step = sub_batch(g);
  for_each_batch_slice(g.n, batch_parts(g.n), [&](int64_t t, int64_t lo, int64_t hi) {
    for (int64_t b = lo, i = 0; b < hi; b += step, ++i)
      fn(t, i, b, std::min(hi, b + step));
  });
}

// A geometry is accepted when the plan for its largest step is (the plans for
// smaller ones are made on first use).
std::string plan_declines(Pass pass, const Window2d& g, bool bias) {
  const int64_t parts = batch_parts(g.n);
  const int64_t largest = std::min((g.n + parts - 1) / parts, sub_batch(g));
  return plan_for(make_key(pass, g, bias, largest, 0))->declined;
}

// Runs a plan on user pointers given in the order of plan.args.
void execute(Plan& plan, std::initializer_list<void*> user_ptrs) {
  std::lock_guard<std::mutex> lock(plan.mutex);
  LOOM_ASSERT(plan.declined.empty());
  thread_local dnnl::stream stream(engine());
  std::unordered_map<int, memory> prim_args;
  std::vector<std::pair<Arg*, memory>> outputs;
  auto ptr = user_ptrs.begin();
  for (Arg& a : plan.args) {
    memory user(a.user, engine(), *ptr++);
    if (!a.needs_reorder) {
      prim_args.emplace(a.id, user);
      continue;
    }
    if (a.input)
      a.reorder.execute(stream, user, a.buffer);
    else
      outputs.emplace_back(&a, user);
    prim_args.emplace(a.id, a.buffer);
  }
  plan.prim.execute(stream, prim_args);
  for (auto& [a, user] : outputs)
    a->reorder.execute(stream, a->buffer, user);
  stream.wait();
}

std::string declines_common(const Window2d& g, const Tensor& first) {
  if (!first.device().is_cpu())
    return "tensor is on " + first.device().str();
  if (first.dtype() != DType::f32)
    return std::string("dtype ") + dtype_name(first.dtype()) + " (oneDNN convolution here is f32 only)";
  if (g.n * g.c * g.h * g.w == 0 || g.oc == 0)
    return "empty tensor";
  // A network's first layer (one or a few input channels): oneDNN's first-layer
  // kernels write blocked output whose reorder back to NCHW costs more than they
  // save, and its backward-data kernel is slow there; im2col_split wins in bm_conv.
  if (g.c < 8)
    return "fewer than 8 input channels (" + std::to_string(g.c) + "): im2col_split is faster there";
  return "";
}

template <typename... Ts>
std::string same_f32(const Ts&... ts) {
  std::string why;
  ((why.empty() && ts.defined() && ts.dtype() != DType::f32 ? why = "mixed dtypes" : why), ...);
  return why;
}

}  // namespace

size_t onednn_conv_cached_plans() {
  PlanCache& c = plan_cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.plans.size();
}

size_t set_onednn_conv_plan_capacity(size_t capacity) {
  PlanCache& c = plan_cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  const size_t previous = c.capacity;
  c.capacity = std::max<size_t>(capacity, 1);
  evict_to(c, c.capacity);
  return previous;
}

std::string conv2d_forward_onednn_declines(const Window2d& g, const Tensor& x, const Tensor& w, const Tensor& b,
                                           const Tensor& y) {
  std::string why = declines_common(g, x);
  if (why.empty())
    why = same_f32(w, b, y);
  return why.empty() ? plan_declines(Pass::forward, g, b.defined()) : why;
}

void conv2d_forward_onednn(const Window2d& g, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y) {
  const float* src = static_cast<const float*>(x.raw_data());
  float* dst = static_cast<float*>(y.raw_data());
  void* wt = w.raw_data();
  void* bias = b.defined() ? b.raw_data() : nullptr;
  for_each_step(g, [&](int64_t t, int64_t, int64_t lo, int64_t hi) {
    const std::shared_ptr<Plan> plan =
        plan_for(make_key(Pass::forward, g, bias != nullptr, hi - lo, runtime::thread_slot()));
    void* s = const_cast<float*>(src + lo * g.c * g.h * g.w);
    void* d = dst + lo * g.oc * g.oh * g.ow;
    if (bias)
      execute(*plan, {s, wt, bias, d});
    else
      execute(*plan, {s, wt, d});
  });
}

std::string conv2d_backward_input_onednn_declines(const Window2d& g, const Tensor& gy, const Tensor& w,
                                                  const Tensor& gx) {
  std::string why = declines_common(g, gy);
  if (why.empty())
    why = same_f32(w, gx);
  return why.empty() ? plan_declines(Pass::backward_data, g, false) : why;
}

void conv2d_backward_input_onednn(const Window2d& g, const Tensor& gy, const Tensor& w, const Tensor& gx) {
  const float* dy = static_cast<const float*>(gy.raw_data());
  float* dx = static_cast<float*>(gx.raw_data());
  void* wt = w.raw_data();
  for_each_step(g, [&](int64_t t, int64_t, int64_t lo, int64_t hi) {
    const std::shared_ptr<Plan> plan =
        plan_for(make_key(Pass::backward_data, g, false, hi - lo, runtime::thread_slot()));
    execute(*plan, {const_cast<float*>(dy + lo * g.oc * g.oh * g.ow), wt, dx + lo * g.c * g.h * g.w});
  });
}

std::string conv2d_backward_weight_onednn_declines(const Window2d& g, const Tensor& x, const Tensor& gy,
                                                   const Tensor& gw) {
  std::string why = declines_common(g, x);
  if (why.empty())
    why = same_f32(gy, gw);
  return why.empty() ? plan_declines(Pass::backward_weights, g, false) : why;
}

void conv2d_backward_weight_onednn(const Window2d& g, const Tensor& x, const Tensor& gy, const Tensor& gw) {
  const float* src = static_cast<const float*>(x.raw_data());
  const float* dy = static_cast<const float*>(gy.raw_data());
  float* dw = static_cast<float*>(gw.raw_data());
  const int64_t parts = batch_parts(g.n), size = g.oc * g.c * g.kh * g.kw;
  // Slice 0 writes gw itself, the others their own buffers, summed in slice order;
  // within a slice, steps after the first go through `step_out` (one per slice).
  std::vector<float> partial(static_cast<size_t>((parts - 1) * size));
  std::vector<float> step_out(static_cast<size_t>(parts * size));
  for (int64_t t = 0; t < parts; ++t) {  // a slice with no images contributes zeros
    float* acc = t == 0 ? dw : partial.data() + (t - 1) * size;
    std::memset(acc, 0, sizeof(float) * size);
  }
  for_each_step(g, [&](int64_t t, int64_t i, int64_t lo, int64_t hi) {
    float* acc = t == 0 ? dw : partial.data() + (t - 1) * size;
    float* out = i == 0 ? acc : step_out.data() + t * size;
    const std::shared_ptr<Plan> plan =
        plan_for(make_key(Pass::backward_weights, g, false, hi - lo, runtime::thread_slot()));
    execute(*plan,
            {const_cast<float*>(src + lo * g.c * g.h * g.w), const_cast<float*>(dy + lo * g.oc * g.oh * g.ow), out});
    if (i > 0)
      for (int64_t k = 0; k < size; ++k)
        acc[k] += out[k];
  });
  for (int64_t t = 1; t < parts; ++t) {
    const float* p = partial.data() + (t - 1) * size;
    for (int64_t i = 0; i < size; ++i)
      dw[i] += p[i];
  }
}

}  // namespace loom::kernels::cpu
