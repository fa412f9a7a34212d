#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "loom/runtime/executor.h"
#include "loom/runtime/parallel.h"

namespace loom::runtime {
namespace {

// Waits up to `seconds` for `pid`; kills it and returns -1 if it does not exit.
int wait_with_timeout(pid_t pid, int seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

int64_t sum_with_pool() {
  std::atomic<int64_t> total{0};
  parallel_for(0, 100000, 1, [&](int64_t lo, int64_t hi) {
    int64_t s = 0;
    for (int64_t i = lo; i < hi; ++i)
      s += i;
    total += s;
  });
  return total.load();
}

constexpr int64_t kExpected = int64_t{100000} * 99999 / 2;

TEST(Fork, ChildUsesThePoolWithoutDeadlock) {
  set_num_threads(2);
  ASSERT_EQ(sum_with_pool(), kExpected);  // the parent's pool is up
  for (int rep = 0; rep < 3; ++rep) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // The child: its pool's threads do not exist here; it must start a new one.
      bool ok = num_threads() == 2 && sum_with_pool() == kExpected && sum_with_pool() == kExpected;
      std::atomic<int> ran{0};
      parallel_invoke([&] { ran++; }, [&] { ran++; });
      ok = ok && ran.load() == 2;
      _exit(ok ? 0 : 3);
    }
    EXPECT_EQ(wait_with_timeout(pid, 30), 0) << "the forked child failed or hung";
  }
  EXPECT_EQ(sum_with_pool(), kExpected);  // and the parent's pool still works
}

TEST(Fork, ForkWhileAnotherThreadRunsParallelFor) {
  set_num_threads(2);
  std::atomic<bool> stop{false};
  std::thread busy([&] {
    while (!stop.load())
      sum_with_pool();
  });
  for (int rep = 0; rep < 5; ++rep) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0)
      _exit(sum_with_pool() == kExpected ? 0 : 3);
    EXPECT_EQ(wait_with_timeout(pid, 30), 0) << "the forked child failed or hung";
  }
  stop = true;
  busy.join();
}

}  // namespace
}  // namespace loom::runtime
