#pragma once
// Inter-op parallelism: independent pieces of work (branches of a graph, updates
// of separate parameters) run at the same time on the intra-op pool's threads.
//
//   loom::runtime::parallel_invoke([&] { a = matmul(x, w1); },   // each runs on one
//                                  [&] { b = matmul(x, w2); });  // thread, together
//
//   loom::runtime::TaskGroup group;
//   for (auto& p : params) group.run([&p] { update(p); });
//   group.wait();  // rethrows the first exception of any task
//
// NOTE [Inter-op tasks]
// Tasks go to the same work-stealing pool as parallel_for (NOTE [Work-stealing
// pool], src/runtime/thread_pool.h), so inter-op and intra-op work share one
// thread budget (NOTE [Thread budget]). Inside a task, in_interop_task() is true
// and parallel_for runs inline: two independent GEMMs each take one core instead
// of fighting over all of them. The thread that waits runs queued tasks of its
// group itself, so a group never waits on a sleeping worker. Where the pool cannot
// take tasks (one thread, inside a parallel_for body, inside another task, or on
// an inline-only thread) run() runs the task at once on the caller; results are
// the same, only the overlap is lost. A TaskGroup belongs to the thread that
// created it: call run() and wait() from that thread only.
#include <deque>
#include <functional>
#include <memory>
#include <utility>

namespace loom::runtime {

// True while the calling thread runs a TaskGroup / parallel_invoke task.
bool in_interop_task();

// The switch for using inter-op parallelism where it is optional (the autograd
// engine's independent branches). Off unless set_interop_enabled(true) or
// LOOM_INTEROP=1; the call wins over the environment.
bool interop_enabled();
void set_interop_enabled(bool enabled);

namespace detail {
class ThreadPool;
struct Job;
}  // namespace detail

class TaskGroup {
 public:
  TaskGroup();
  // Waits for unfinished tasks; their exceptions are dropped (call wait() to see them).
  ~TaskGroup();
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  // Starts fn on a pool thread (or runs it now, see NOTE [Inter-op tasks]).
  void run(std::function<void()> fn);
  // Blocks until every task has finished, then rethrows the first exception.
  // The group can be reused afterwards.
  void wait();

 private:
  std::unique_ptr<detail::Job> job_;
  detail::ThreadPool* pool_ = nullptr;  // entered while tasks are in flight
  std::deque<std::function<void()>> fns_;
  int next_worker_ = 0;
};

// Runs every callable, concurrently where threads allow, and returns when all
// have finished; rethrows the first exception.
template <typename... Fns>
void parallel_invoke(Fns&&... fns) {
  TaskGroup group;
  (group.run(std::function<void()>(std::forward<Fns>(fns))), ...);
  group.wait();
}

}  // namespace loom::runtime
