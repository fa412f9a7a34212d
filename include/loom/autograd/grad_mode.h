#pragma once

namespace loom::autograd {

// Whether ops record history on this thread (on by default).
bool grad_enabled();
void set_grad_enabled(bool enabled);

// Turns recording off for a scope, like torch.no_grad().
class NoGradGuard {
 public:
  NoGradGuard() : previous_(grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace loom::autograd

namespace loom {
using autograd::NoGradGuard;
}
