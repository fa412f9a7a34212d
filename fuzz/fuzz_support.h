#pragma once
// What every fuzz target shares: the input as a file (the readers take paths),
// and the rule that a malformed file may only end in a loom::Error. Anything else
// escaping (another exception type) is a finding, reported by aborting; crashes,
// leaks and undefined behaviour are found by ASan and UBSan.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include "loom/core/error.h"

namespace loom::fuzz {

// A per-process file (libFuzzer's -jobs run several processes in one directory).
inline std::string input_file(const char* suffix, const uint8_t* data, size_t size) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("loom_fuzz_" + std::to_string(getpid()) + suffix)).string();
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), size);
  return path;
}

template <typename Fn>
int run(Fn&& fn) {
  try {
    fn();
  } catch (const loom::Error&) {
    // A clear error naming what is wrong: the expected outcome for a malformed file.
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz finding: a %s escaped instead of a loom::Error: %s\n", typeid(e).name(), e.what());
    std::abort();
  }
  return 0;
}

}  // namespace loom::fuzz
