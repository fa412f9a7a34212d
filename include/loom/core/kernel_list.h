#pragma once
// NOTE [Kernel lists]
// Every op's kernels sit in one ordered list per (family, device type), fastest
// first and a plain reference kernel last (oneDNN's cpu_*_list.cpp). Each backend
// adds its entries from its own files (src/kernels/<backend>/); an op never
// chooses engines itself.
// - The device a call runs on is the first argument's device that is not the CPU
//   (so a CUDA backend's copy entry sees CPU <-> CUDA copies), else the CPU.
// - Each entry has a `declines` predicate that returns why it cannot run these
//   arguments (dtype, CPU feature, shape...) or "" when it can; the first entry of
//   the device's list that accepts runs, with a KernelContext (NOTE [Streams]).
// - LOOM_VERBOSE_KERNELS=1 prints every decision to stderr.
// The template lives in core because core's own tensor operations (copy, cast,
// fill, random fills) are kernel families too: core dispatches, kernels compute.
#include <array>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "loom/core/error.h"
#include "loom/core/stream.h"
#include "loom/core/tensor.h"

namespace loom {

bool verbose_kernels();
void log_kernel_choice(const char* family, const std::string& entry, const std::string& reason);

constexpr size_t kDeviceTypes = 3;  // DeviceType's values
inline size_t device_index(DeviceType type) { return static_cast<size_t>(type); }

// The device an argument names, for choosing the list; other argument types name
// none. A family whose arguments carry a device in a struct adds an overload next
// to the struct (found by argument-dependent lookup), as GemmArgs does.
inline std::optional<Device> kernel_device_of(const Tensor& t) {
  return t.defined() ? std::optional<Device>(t.device()) : std::nullopt;
}
template <typename T>
std::optional<Device> kernel_device_of(const T&) {
  return std::nullopt;
}

template <typename... Args>
Device kernel_device(const Args&... args) {
  std::optional<Device> chosen;
  auto consider = [&](std::optional<Device> d) {
    if (d && (!chosen || (chosen->is_cpu() && !d->is_cpu())))
      chosen = d;
  };
  (consider(kernel_device_of(args)), ...);
  return chosen.value_or(Device::cpu());
}

template <typename Sig>
class KernelList;

template <typename... Args>
class KernelList<void(Args...)> {
 public:
  using Declines = std::function<std::string(Args...)>;
  struct Entry {
    std::string name;
    Declines declines;                                          // "" = accepts
    std::function<void(Args...)> run;                           // entries that ignore the context (the CPU's)
    std::function<void(const KernelContext&, Args...)> run_in;  // entries that read it
  };

  explicit KernelList(const char* family) : family_(family) {}
  KernelList& add(DeviceType device, std::string name, Declines declines, std::function<void(Args...)> run) {
    entries_[device_index(device)].push_back({std::move(name), std::move(declines), std::move(run), {}});
    return *this;
  }
  KernelList& add_in_context(DeviceType device, std::string name, Declines declines,
                             std::function<void(const KernelContext&, Args...)> run) {
    entries_[device_index(device)].push_back({std::move(name), std::move(declines), {}, std::move(run)});
    return *this;
  }
  const std::vector<Entry>& entries(DeviceType device = DeviceType::CPU) const {
    return entries_[device_index(device)];
  }
  const char* family() const { return family_; }

  void operator()(Args... args) const {
    const Device device = kernel_device(args...);
    const std::vector<Entry>& list = entries_[device_index(device.type)];
    const bool verbose = verbose_kernels();
    for (const Entry& e : list) {
      std::string why = e.declines ? e.declines(args...) : std::string();
      if (why.empty()) {
        if (verbose)
          log_kernel_choice(family_, e.name, "");
        if (e.run)
          e.run(args...);
        else
          e.run_in(KernelContext{device, current_stream(device)}, args...);
        return;
      }
      if (verbose)
        log_kernel_choice(family_, e.name, why);
    }
    if (list.empty())
      LOOM_THROW(NotImplementedError, family_, ": no kernel for device ", device.str(),
                 " (this build registers none for it)");
    // Only the failing call pays for collecting the reasons (this runs per op call).
    std::string reasons;
    for (const Entry& e : list)
      reasons += "\n  " + e.name + ": " + e.declines(args...);
    LOOM_THROW(NotImplementedError, family_, ": no ", device.str(), " kernel accepts these arguments:", reasons);
  }

 private:
  const char* family_;
  std::array<std::vector<Entry>, kDeviceTypes> entries_;
};

}  // namespace loom
