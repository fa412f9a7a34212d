#include "csv_source.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "file_bytes.h"
#include "loom/core/error.h"
#include "loom/runtime/parallel.h"

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

// Byte-order marks of encodings the reader does not decode. UTF-32 LE comes before
// UTF-16 LE, whose mark is its prefix.
struct Bom {
  std::string_view bytes;
  const char* encoding;
  const char* iconv_name;
};
constexpr Bom kForeignBoms[] = {
    {std::string_view("\xFF\xFE\x00\x00", 4), "UTF-32 LE", "UTF-32"},
    {std::string_view("\x00\x00\xFE\xFF", 4), "UTF-32 BE", "UTF-32"},
    {std::string_view("\xFF\xFE", 2), "UTF-16 LE", "UTF-16"},
    {std::string_view("\xFE\xFF", 2), "UTF-16 BE", "UTF-16"},
};

std::string hex_bytes(std::string_view b) {
  std::string out;
  char buf[4];
  for (char c : b) {
    std::snprintf(buf, sizeof(buf), " %02X", static_cast<unsigned char>(c));
    out.append(buf);
  }
  return out.substr(1);
}

// Offset of the first NUL byte, or npos. Searched in blocks on the pool: a large
// mapped file is then faulted in by all threads, as the parser would.
size_t find_nul(std::string_view text) {
  constexpr size_t kBlock = size_t{1} << 20;
  const size_t blocks = (text.size() + kBlock - 1) / kBlock;
  std::vector<size_t> first(blocks, std::string_view::npos);
  runtime::parallel_for(0, static_cast<int64_t>(blocks), 1, [&](int64_t lo, int64_t hi) {
    for (int64_t k = lo; k < hi; ++k) {
      const size_t begin = static_cast<size_t>(k) * kBlock;
      const size_t n = std::min(kBlock, text.size() - begin);
      if (const void* hit = std::memchr(text.data() + begin, '\0', n))
        first[static_cast<size_t>(k)] = static_cast<size_t>(static_cast<const char*>(hit) - text.data());
    }
  });
  for (size_t at : first) {
    if (at != std::string_view::npos)
      return at;
  }
  return std::string_view::npos;
}

}  // namespace

void check_text_encoding(std::string_view text, const std::string& source) {
  for (const Bom& bom : kForeignBoms) {
    if (text.substr(0, bom.bytes.size()) == bom.bytes) {
      LOOM_THROW(IOError, source, ": the file starts with a ", bom.encoding, " byte-order mark (", hex_bytes(bom.bytes),
                 "), but CSV files are read as UTF-8; convert it first, e.g. iconv -f ", bom.iconv_name, " -t UTF-8 ",
                 source, " > converted.csv");
    }
  }
  const size_t nul = find_nul(text);
  if (nul != std::string_view::npos) {
    const auto line = 1 + std::count(text.data(), text.data() + nul, '\n');
    LOOM_THROW(IOError, source, ":", line, ": NUL byte at byte offset ", nul,
               "; a CSV file is text and never holds one. This looks like a binary file, or UTF-16/UTF-32 text "
               "without a byte-order mark (convert it with iconv -f UTF-16 -t UTF-8)");
  }
}

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
