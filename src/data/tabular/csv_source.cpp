#include "csv_source.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "file_bytes.h"
#include "loom/core/error.h"

namespace loom::data::csv {
namespace {

// Below this, reading is as fast as mapping and needs no unmapping.
constexpr uint64_t kMapThreshold = uint64_t{1} << 20;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0)
      ::close(fd);
  }
};

}  // namespace

FileText::FileText(const std::string& path, uint64_t max_bytes) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  struct stat st {};
  if (f.fd >= 0 && ::fstat(f.fd, &st) == 0 && S_ISREG(st.st_mode) &&
      static_cast<uint64_t>(st.st_size) >= kMapThreshold) {
    const auto size = static_cast<uint64_t>(st.st_size);
    if (size > max_bytes) {
      LOOM_THROW(IOError, path, ": file is ", size, " bytes, more than the limit of ", max_bytes,
                 " bytes (CsvOptions::max_file_bytes)");
    }
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, f.fd, 0);
    if (p != MAP_FAILED) {
      const auto* bytes = static_cast<const unsigned char*>(p);
      if (bytes[0] == 0x1f && bytes[1] == 0x8b) {  // gzip: inflate below instead
        ::munmap(p, size);
      } else {
        ::madvise(p, size, MADV_WILLNEED);  // start read-ahead when the file is not cached
        map_ = static_cast<const char*>(p);
        size_ = size;
        return;
      }
    }
  }
  // Small, compressed or special files (pipes), and any file mmap refused. Errors
  // such as a missing file are reported from here, with the reason.
  owned_ = data::detail::read_file_bytes(path, max_bytes);
}

FileText::~FileText() {
  if (map_ != nullptr)
    ::munmap(const_cast<char*>(map_), size_);
}

}  // namespace loom::data::csv
