// The dispatch path's out-of-line half, the op registry and the attribute map
// (NOTE [Op schema] in loom/autograd/op_schema.h).
#include "dispatch.h"

#include <array>
#include <sstream>

#include "loom/autograd/tracer.h"
#include "loom/runtime/profiler.h"

// Each op file defines its schema getter (LOOM_REGISTER_OP); the table below
// names every one, so a missing registration is a link error, and no op file can
// be dropped by the linker while the registry needs it.
namespace loom::autograd::schemas {
#define LOOM_DECLARE_SCHEMA(name) const OpSchema& name##_schema();
LOOM_DIFFERENTIABLE_OPS(LOOM_DECLARE_SCHEMA)
#undef LOOM_DECLARE_SCHEMA
}  // namespace loom::autograd::schemas

namespace loom::autograd {

// ---- metas and attributes -----------------------------------------------------------

TensorMeta TensorMeta::of(const Tensor& t) {
  if (!t.defined())
    return none();
  return {t.shape(), t.dtype(), true};
}

std::string meta_str(const TensorMeta& m) {
  return m.defined ? std::string(dtype_name(m.dtype)) + " " + shape_str(m.shape) : "none";
}

void AttrMap::set(const std::string& name, AttrValue value) {
  for (auto& [n, v] : items_) {
    if (n == name) {
      v = std::move(value);
      return;
    }
  }
  items_.emplace_back(name, std::move(value));
}

bool AttrMap::has(const std::string& name) const {
  for (const auto& item : items_)
    if (item.first == name)
      return true;
  return false;
}

const AttrValue& AttrMap::get(const std::string& name, const char* op) const {
  for (const auto& [n, v] : items_)
    if (n == name)
      return v;
  LOOM_THROW(ValueError, op, ": missing attribute '", name, "'");
}

namespace {
const char* kind_name(const AttrValue& v) {
  static constexpr const char* kNames[] = {"an integer", "a number", "a boolean", "a string", "a list of integers"};
  return kNames[v.index()];
}

template <typename T>
const T& typed(const AttrValue& v, const std::string& name, const char* op, const char* wanted) {
  const T* p = std::get_if<T>(&v);
  LOOM_CHECK(p, op, ": attribute '", name, "' must be ", wanted, ", got ", kind_name(v));
  return *p;
}
}  // namespace

int64_t AttrMap::get_int(const std::string& name, const char* op) const {
  return typed<int64_t>(get(name, op), name, op, "an integer");
}
double AttrMap::get_double(const std::string& name, const char* op) const {
  const AttrValue& v = get(name, op);
  if (const int64_t* i = std::get_if<int64_t>(&v))
    return static_cast<double>(*i);
  return typed<double>(v, name, op, "a number");
}
bool AttrMap::get_bool(const std::string& name, const char* op) const {
  return typed<bool>(get(name, op), name, op, "a boolean");
}
const std::string& AttrMap::get_string(const std::string& name, const char* op) const {
  return typed<std::string>(get(name, op), name, op, "a string");
}
const std::vector<int64_t>& AttrMap::get_ints(const std::string& name, const char* op) const {
  return typed<std::vector<int64_t>>(get(name, op), name, op, "a list of integers");
}

std::string AttrMap::str() const {
  std::ostringstream os;
  for (size_t i = 0; i < items_.size(); ++i) {
    os << (i ? ", " : "") << items_[i].first << "=";
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::vector<int64_t>>)
            os << shape_str(v);
          else if constexpr (std::is_same_v<T, bool>)
            os << (v ? "true" : "false");
          else
            os << v;
        },
        items_[i].second);
  }
  return os.str();
}

const char* activation_name(kernels::Activation act) {
  switch (act) {
    case kernels::Activation::relu:
      return "relu";
    case kernels::Activation::gelu:
      return "gelu";
    default:
      return "none";
  }
}

kernels::Activation activation_from_name(const std::string& name, const char* op) {
  if (name == "none")
    return kernels::Activation::none;
  if (name == "relu")
    return kernels::Activation::relu;
  if (name == "gelu")
    return kernels::Activation::gelu;
  LOOM_THROW(ValueError, op, ": unknown activation '", name, "' (expected none, relu or gelu)");
}

AttrMap node_attrs(const Node& node) { return node.attrs() ? node.attrs()->to_map() : AttrMap(); }

// ---- the dispatch path --------------------------------------------------------------

namespace {
thread_local int t_op_depth = 0;
thread_local TraceScope* t_trace = nullptr;
}  // namespace

TraceScope::TraceScope() {
  LOOM_CHECK(t_trace == nullptr, "trace: a trace is already being recorded on this thread");
  t_trace = this;
}
TraceScope::~TraceScope() { t_trace = nullptr; }
TraceScope* active_trace() { return t_trace; }

namespace detail {

void check_known_attrs(const AttrMap& map, const AttrMap& known, const char* op) {
  for (const auto& item : map.items()) {
    LOOM_CHECK(known.has(item.first), op, ": unknown attribute '", item.first, "'",
               known.items().empty() ? std::string(" (it has none)") : " (it has " + known.str() + ")");
  }
}

OpCall::OpCall(OpId id) : id_(id) {
  traced_ = t_op_depth == 0 && t_trace != nullptr;
  ++t_op_depth;
  if (runtime::profiler_enabled())
    start_ns_ = runtime::profiler_now_ns();
}

OpCall::~OpCall() {
  --t_op_depth;
  if (start_ns_ >= 0)
    runtime::profiler_record(op_name(id_), start_ns_, runtime::profiler_now_ns());
}

void check_input_count(OpId id, int min_inputs, int max_inputs, size_t count) {
  const auto n = static_cast<int>(count);
  if (n >= min_inputs && (max_inputs < 0 || n <= max_inputs))
    return;
  if (min_inputs == max_inputs)
    LOOM_THROW(ValueError, op_name(id), ": takes ", min_inputs, " inputs, got ", n);
  if (max_inputs < 0)
    LOOM_THROW(ValueError, op_name(id), ": takes at least ", min_inputs, " inputs, got ", n);
  LOOM_THROW(ValueError, op_name(id), ": takes ", min_inputs, " to ", max_inputs, " inputs, got ", n);
}

bool check_inputs(OpId id, int min_inputs, int max_inputs, const std::vector<Tensor>& inputs) {
  check_input_count(id, min_inputs, max_inputs, inputs.size());
  const Tensor* first = nullptr;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.defined())
      continue;
    if (!first) {
      first = &t;
      continue;
    }
    if (!(t.device() == first->device())) {
      const size_t j = static_cast<size_t>(first - inputs.data());
      LOOM_THROW(ValueError, op_name(id), ": input ", i, " is on ", t.device().str(), " but input ", j, " is on ",
                 first->device().str(), "; move them to one device first");
    }
  }
  return first && first->device().is_meta();
}

std::vector<TensorMeta> metas(const std::vector<Tensor>& inputs) {
  std::vector<TensorMeta> m;
  m.reserve(inputs.size());
  for (const Tensor& t : inputs)
    m.push_back(TensorMeta::of(t));
  return m;
}

Tensor meta_tensor(const TensorMeta& meta) { return Tensor::empty(meta.shape, meta.dtype, Device::meta()); }

void trace_call(OpId id, const std::vector<Tensor>& inputs, const Tensor& output, AttrMap attrs) {
  t_trace->add({id, std::move(attrs), inputs, output});
}

}  // namespace detail

// ---- the registry -------------------------------------------------------------------

namespace {

using Getter = const OpSchema& (*)();

// Filled before main() by the layers above autograd (NOTE [Late-registered ops]).
std::array<Getter, kNumCollectiveOps>& late_getters() {
  static std::array<Getter, kNumCollectiveOps> getters{};
  return getters;
}

}  // namespace

bool detail::register_late_schema(OpId id, const OpSchema& (*getter)()) {
  const auto i = static_cast<size_t>(id);
  LOOM_CHECK(i >= kNumAutogradOps && i < kNumOps, "register_late_schema: '", op_name(id),
             "' is registered by autograd itself");
  late_getters()[i - kNumAutogradOps] = getter;
  return true;
}

const OpSchema& op_schema(OpId id) {
  static constexpr std::array<Getter, kNumAutogradOps> kGetters = {
#define LOOM_SCHEMA_GETTER(name) &schemas::name##_schema,
      LOOM_DIFFERENTIABLE_OPS(LOOM_SCHEMA_GETTER)
#undef LOOM_SCHEMA_GETTER
  };
  const auto i = static_cast<size_t>(id);
  LOOM_CHECK(i < kNumOps, "op_schema: no op with id ", i);
  if (i < kNumAutogradOps)
    return kGetters[i]();
  const Getter late = late_getters()[i - kNumAutogradOps];
  LOOM_CHECK(late != nullptr, "op '", op_name(id),
             "' is a collective of the distributed layer; this program does not link it (link loom::distributed "
             "and call one of loom/distributed/collective_ops.h)");
  return late();
}

std::optional<OpId> op_from_name(const std::string& name) {
  for (size_t i = 0; i < kNumOps; ++i)
    if (name == kOpNames[i])
      return static_cast<OpId>(i);
  return std::nullopt;
}

TensorMeta infer_meta(OpId id, const std::vector<TensorMeta>& inputs, const AttrMap& attrs) {
  return op_schema(id).infer(inputs, attrs);
}

Tensor run_op(OpId id, const std::vector<Tensor>& inputs, const AttrMap& attrs) {
  return op_schema(id).run(inputs, attrs);
}

}  // namespace loom::autograd
