#pragma once
// NOTE [Kernel lists]
// Every op's kernels sit in one ordered list per op family, fastest first and a
// plain reference kernel last (oneDNN's cpu_*_list.cpp). Each entry has a
// `declines` predicate that returns why it cannot run these arguments (wrong
// device, dtype, CPU feature...) or an empty string when it can; the first entry
// that accepts runs. LOOM_VERBOSE_KERNELS=1 prints every decision to stderr.
// A backend adds entries to the lists; an op never chooses engines itself.
#include <functional>
#include <string>
#include <vector>

#include "loom/core/error.h"

namespace loom::kernels {

bool verbose_kernels();
void log_kernel_choice(const char* family, const std::string& entry, const std::string& reason);

template <typename Sig>
class KernelList;

template <typename... Args>
class KernelList<void(Args...)> {
 public:
  struct Entry {
    std::string name;
    std::function<std::string(Args...)> declines;  // "" = accepts
    std::function<void(Args...)> run;
  };

  explicit KernelList(const char* family) : family_(family) {}
  KernelList& add(std::string name, std::function<std::string(Args...)> declines, std::function<void(Args...)> run) {
    entries_.push_back({std::move(name), std::move(declines), std::move(run)});
    return *this;
  }
  const std::vector<Entry>& entries() const { return entries_; }
  const char* family() const { return family_; }

  void operator()(Args... args) const {
    const bool verbose = verbose_kernels();
    for (const Entry& e : entries_) {
      std::string why = e.declines ? e.declines(args...) : std::string();
      if (why.empty()) {
        if (verbose)
          log_kernel_choice(family_, e.name, "");
        e.run(args...);
        return;
      }
      if (verbose)
        log_kernel_choice(family_, e.name, why);
    }
    // Only the failing call pays for collecting the reasons (this runs per op call).
    std::string reasons;
    for (const Entry& e : entries_)
      reasons += "\n  " + e.name + ": " + e.declines(args...);
    LOOM_THROW(NotImplementedError, family_, ": no kernel accepts these arguments:", reasons);
  }

 private:
  const char* family_;
  std::vector<Entry> entries_;
};

}  // namespace loom::kernels
